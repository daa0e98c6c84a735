package control_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// The blocking claim, heartbeats and release over the Unix socket.
func TestClientWorkerCalls(t *testing.T) {
	c, _ := serve(t, nil)
	ctx := context.Background()
	sess, err := c.CreateSession(ctx, store.NewSession{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClaimNextWait(ctx, q.ID, "w", 10*time.Millisecond); !errors.Is(err, store.ErrEmpty) {
		t.Fatalf("expired wait: %v, want store.ErrEmpty", err)
	}

	type claimed struct {
		task store.Task
		err  error
	}
	got := make(chan claimed, 1)
	go func() {
		task, err := c.ClaimNextWait(ctx, q.ID, "w", time.Minute)
		got <- claimed{task, err}
	}()
	// Another request on the same client (another connection) enqueues.
	task, err := c.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "llm-haiku", Prompt: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || r.task.ID != task.ID || r.task.Status != store.TaskRunning {
		t.Fatalf("waiting client got %+v, %v", r.task, r.err)
	}

	lease, err := c.Heartbeat(ctx, task.ID, "w")
	if err != nil || lease.TaskID != task.ID || lease.AutoFailAt.Sub(lease.HeartbeatAt.Time) != 2*time.Duration(task.Timeout)*time.Second {
		t.Fatalf("Heartbeat = %+v, %v", lease, err)
	}
	if _, err := c.Heartbeat(ctx, task.ID, "someone-else"); !errors.Is(err, control.ErrConflict) {
		t.Fatalf("heartbeat by another worker: %v, want ErrConflict", err)
	}
	rel, err := c.Release(ctx, task.ID, "w")
	if err != nil || rel.Status != store.TaskQueued {
		t.Fatalf("Release = %+v, %v", rel, err)
	}
	if _, err := c.Heartbeat(ctx, task.ID, ""); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("heartbeat of a queued task: %v, want conflict", err)
	}
}
