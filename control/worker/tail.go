package worker

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// tail keeps the last max bytes written to it, so a script that prints
// gigabytes costs a bounded amount of memory and database space.
type tail struct {
	mu    sync.Mutex
	max   int
	buf   []byte // ring of at most max bytes
	start int    // index of the oldest byte once buf is full
	total int64
}

func newTail(max int) *tail { return &tail{max: max} }

// Write implements io.Writer; it never fails.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	t.total += int64(n)
	if t.max <= 0 {
		return n, nil
	}
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		t.start = 0
		return n, nil
	}
	if room := t.max - len(t.buf); room > 0 {
		k := min(room, len(p))
		t.buf = append(t.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 { // full: overwrite the oldest bytes
		k := copy(t.buf[t.start:], p)
		p = p[k:]
		t.start = (t.start + k) % t.max
	}
	return n, nil
}

// Total is how many bytes were written in all.
func (t *tail) Total() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// String returns what is kept, oldest first. When bytes were dropped it
// starts with a marker saying how many, and at a whole UTF-8 character.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := make([]byte, 0, len(t.buf))
	kept = append(kept, t.buf[t.start:]...)
	kept = append(kept, t.buf[:t.start]...)
	dropped := t.total - int64(len(kept))
	if dropped == 0 {
		return string(kept)
	}
	for i := 0; i < utf8.UTFMax && len(kept) > 0 && !utf8.RuneStart(kept[0]); i++ {
		kept, dropped = kept[1:], dropped+1
	}
	return fmt.Sprintf("[sparkq: output truncated, first %d bytes dropped, last %d kept]\n", dropped, len(kept)) + string(kept)
}
