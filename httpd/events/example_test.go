package events_test

import (
	"context"
	"fmt"

	"github.com/sparkq/sparkq/httpd/events"
	"github.com/sparkq/sparkq/store"
)

// A waiter for new work in one queue, as a long-poll claim would use it:
// subscribe first, then look, then wait for an event that may mean work,
// so that nothing enqueued in between is missed.
func ExampleBus_Subscribe() {
	bus := events.New(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	ch := bus.Subscribe(ctx) // 1. subscribe
	// 2. try to claim here; suppose the queue was empty.
	go bus.Publish(events.Event{Type: events.TaskCreated, QueueID: "que_1", Status: store.TaskQueued, Count: 1})

	for e := range ch { // 3. wait (with a deadline in ctx)
		if e.Type == events.Resync || (e.QueueID == "que_1" && e.Status == store.TaskQueued) {
			fmt.Println("try to claim again after", e.Type)
			break
		}
	}
	// Output: try to claim again after task.created
}
