package main

import "sync"

// outbox queues encoded frames for the single goroutine that writes to the
// host. Frames are small (DATA is at most 64 KiB and every stream is held
// to its window), so a plain FIFO shares the port fairly between streams.
type outbox struct {
	mu    sync.Mutex
	cond  sync.Cond
	queue [][]byte
}

func newOutbox() *outbox {
	o := &outbox{}
	o.cond.L = &o.mu
	return o
}

func (o *outbox) push(b []byte) {
	o.mu.Lock()
	o.queue = append(o.queue, b)
	o.mu.Unlock()
	o.cond.Signal()
}

// drop discards everything queued: output for a host that went away must
// not reach the next one.
func (o *outbox) drop() {
	o.mu.Lock()
	clear(o.queue)
	o.queue = o.queue[:0]
	o.mu.Unlock()
}

// take waits for queued frames and appends them to buf, up to about limit
// bytes (at least one frame), so several small frames cost one write.
func (o *outbox) take(buf []byte, limit int) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.queue) == 0 {
		o.cond.Wait()
	}
	n := 0
	for n < len(o.queue) && (n == 0 || len(buf)+len(o.queue[n]) <= limit) {
		buf = append(buf, o.queue[n]...)
		o.queue[n] = nil
		n++
	}
	o.queue = o.queue[n:]
	return buf
}
