package main

import (
	"testing"
)

func TestLogRingSinceAndTruncation(t *testing.T) {
	r := newLogRing(10)
	r.add(1, []byte("aaaa"))
	r.add(2, []byte("bbbb"))
	chunks, _, lost, _, _ := r.read(0)
	if len(chunks) != 2 || lost || string(chunks[1].data) != "bbbb" || chunks[1].ch != 2 {
		t.Fatalf("read %+v lost %v", chunks, lost)
	}
	mid := chunks[1].unixNs

	r.add(1, []byte("cccc")) // 12 bytes: "aaaa" goes
	next, truncated := r.start(0)
	if !truncated || next != 1 {
		t.Errorf("start(0) = %d, %v; want 1, true", next, truncated)
	}
	next, truncated = r.start(mid)
	if truncated || next != 1 {
		t.Errorf("start(%d) = %d, %v; want 1, false", mid, next, truncated)
	}
	chunks, after, lost, closed, _ := r.read(0)
	if !lost || len(chunks) != 2 || after != 3 || closed {
		t.Errorf("read from a dropped chunk: %d chunks, after %d, lost %v", len(chunks),
			after, lost)
	}
}

func TestLogRingWakesFollowers(t *testing.T) {
	r := newLogRing(1 << 10)
	_, next, _, _, changed := r.read(0)
	done := make(chan []logChunk)
	go func() {
		<-changed
		chunks, _, _, _, _ := r.read(next)
		done <- chunks
	}()
	r.add(1, []byte("hi"))
	if chunks := <-done; len(chunks) != 1 || string(chunks[0].data) != "hi" {
		t.Errorf("follower got %+v", chunks)
	}
	_, _, _, _, changed = r.read(next)
	r.close()
	<-changed
	if _, _, _, closed, _ := r.read(next); !closed {
		t.Errorf("ring not closed")
	}
}
