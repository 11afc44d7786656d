package main

import (
	"errors"
	"io"
	"sync"
)

var (
	// ErrWindowExceeded reports DATA beyond the window the agent granted.
	ErrWindowExceeded = errors.New("data exceeds the granted window")
	// ErrStreamEnded reports that the stream was cancelled or finished
	// while a goroutine waited on one of its channels.
	ErrStreamEnded = errors.New("stream ended")
)

// window is the agent's send credit on one output channel: how many bytes
// the host is still willing to receive.
type window struct {
	mu     sync.Mutex
	cond   sync.Cond
	avail  int64
	closed bool
}

func newWindow() *window {
	w := &window{avail: initialWindow}
	w.cond.L = &w.mu
	return w
}

// take waits until some credit is available and claims up to limit bytes
// of it. It returns 0 once the window is closed.
func (w *window) take(limit int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.avail <= 0 && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		return 0
	}
	n := int(min(int64(limit), w.avail))
	w.avail -= int64(n)
	return n
}

// refund returns credit that was taken but not used.
func (w *window) refund(n int) {
	if n > 0 {
		w.grant(uint32(n))
	}
}

func (w *window) grant(increment uint32) {
	w.mu.Lock()
	w.avail += int64(increment)
	w.mu.Unlock()
	w.cond.Broadcast()
}

func (w *window) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cond.Broadcast()
}

// inbox holds the host's DATA for channel 0 until the operation consumes
// it. It never blocks the session's reader: the host may only send what
// was granted, so the buffer is bounded by the window.
type inbox struct {
	mu      sync.Mutex
	cond    sync.Cond
	chunks  [][]byte
	eof     bool
	closed  bool
	allowed int64 // bytes the host may still send
	unacked int64 // consumed but not yet granted back
}

func newInbox() *inbox {
	b := &inbox{allowed: initialWindow}
	b.cond.L = &b.mu
	return b
}

func (b *inbox) push(data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if int64(len(data)) > b.allowed {
		return ErrWindowExceeded
	}
	b.allowed -= int64(len(data))
	if b.eof || b.closed || len(data) == 0 {
		// Data after EOF or for a finished consumer is accounted
		// and dropped: it can cross a CANCEL in flight.
		return nil
	}
	b.chunks = append(b.chunks, data)
	b.cond.Broadcast()
	return nil
}

// closeWrite records the host's EOF on the channel.
func (b *inbox) closeWrite() {
	b.mu.Lock()
	b.eof = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	b.chunks = nil
	b.mu.Unlock()
	b.cond.Broadcast()
}

// next waits for the next chunk. It returns io.EOF after the host's EOF
// once every chunk was taken, and ErrStreamEnded when the stream ended.
func (b *inbox) next() ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.chunks) == 0 && !b.eof && !b.closed {
		b.cond.Wait()
	}
	switch {
	case b.closed:
		return nil, ErrStreamEnded
	case len(b.chunks) > 0:
		c := b.chunks[0]
		b.chunks[0] = nil
		b.chunks = b.chunks[1:]
		return c, nil
	default:
		return nil, io.EOF
	}
}

// consumed records that n bytes were delivered to the consumer and returns
// the WINDOW increment to send now, or 0 while batching.
func (b *inbox) consumed(n int) uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unacked += int64(n)
	if b.unacked < windowBatch {
		return 0
	}
	inc := b.unacked
	b.unacked = 0
	b.allowed += inc
	return uint32(inc)
}
