package main

import (
	"sync"
	"time"
)

// workloadLogMax is how much workload output the agent keeps: enough for
// the tail of a failing service's log, small beside a VM's memory.
const workloadLogMax = 8 << 20

// logChunk is one read from the workload's stdout (channel 1) or stderr
// (channel 2), stamped with CLOCK_REALTIME when it was read.
type logChunk struct {
	unixNs int64
	ch     byte
	data   []byte
}

// logRing keeps the newest workloadLogMax bytes of output. Chunks are
// numbered, so a follower that falls behind knows what it missed.
type logRing struct {
	mu        sync.Mutex
	limit     int
	chunks    []logChunk
	first     uint64 // number of chunks[0]
	size      int
	droppedNs int64 // time of the newest dropped chunk; 0 if none
	closed    bool
	changed   chan struct{} // closed and replaced on every change
}

func newLogRing(limit int) *logRing {
	return &logRing{limit: limit, changed: make(chan struct{})}
}

func (r *logRing) add(ch byte, data []byte) {
	c := logChunk{unixNs: time.Now().UnixNano(), ch: ch, data: append([]byte(nil), data...)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, c)
	r.size += len(c.data)
	drop := 0
	for r.size > r.limit && drop < len(r.chunks) {
		r.size -= len(r.chunks[drop].data)
		r.droppedNs = r.chunks[drop].unixNs
		r.chunks[drop].data = nil
		drop++
	}
	// Reslicing is amortised: append copies only the live chunks when
	// it next grows the array.
	r.chunks = r.chunks[drop:]
	r.first += uint64(drop)
	r.notify()
}

// close records that no more output will come.
func (r *logRing) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.notify()
}

func (r *logRing) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// start returns the number of the first chunk at or after sinceNs, and
// whether output at or after sinceNs was already dropped.
func (r *logRing) start(sinceNs int64) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.first
	for _, c := range r.chunks {
		if c.unixNs >= sinceNs {
			break
		}
		n++
	}
	return n, r.droppedNs != 0 && r.droppedNs >= sinceNs
}

// read returns the chunks from number next on, the number after them,
// whether some before them were dropped, whether the ring is closed, and
// a channel that is closed when the ring changes.
func (r *logRing) read(next uint64) ([]logChunk, uint64, bool, bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lost := false
	if next < r.first {
		next, lost = r.first, true
	}
	out := append([]logChunk(nil), r.chunks[next-r.first:]...)
	return out, r.first + uint64(len(r.chunks)), lost, r.closed, r.changed
}
