package main

import (
	"testing"
)

// A host that grants no window on one exec's stdout stalls only that exec:
// it gets exactly InitialWindow bytes while another exec runs to the end.
func TestFlowControlStallsOnlyItsStream(t *testing.T) {
	h := newHost(t)
	const total = 1 << 20
	stalled := h.openWindowed(execReq("head", "-c", "1048576", "/dev/zero"), false)
	received := func() int {
		n := 0
		for _, f := range stalled.frames {
			if f.typ == frameData {
				n += len(f.payload) - 1
			}
		}
		return n
	}
	h.waitFor("a full window of stdout", func() bool { return received() >= initialWindow })

	o := h.open(execReq("echo", "still moving")).finish(1, 2)
	if string(o.out[1]) != "still moving\n" {
		t.Fatalf("second exec gave %q", o.out[1])
	}
	h.mu.Lock()
	n, frames := received(), len(stalled.frames)
	h.mu.Unlock()
	if n != initialWindow {
		t.Fatalf("stalled stream got %d bytes, want exactly %d", n, initialWindow)
	}
	for _, f := range stalled.frames[:frames] {
		if f.typ == frameResult || f.typ == frameEOF {
			t.Fatalf("stalled stream ended early with frame %d", f.typ)
		}
	}

	stalled.grant(1, total)
	out := stalled.finish(1, 2)
	if got := len(out.out[1]); got != total {
		t.Errorf("stalled stream delivered %d bytes in all, want %d", got, total)
	}
}

// DATA beyond the granted window is a framing error: the agent stops
// decoding until the next SYNC, so the following OPEN is ignored, and a
// new HELLO brings the connection back.
func TestFlowControlOverrun(t *testing.T) {
	h := newHost(t)
	req := execReq("cat")
	req["stdin"] = true
	hs := h.open(req)
	hs.expect(frameOpened)
	chunk := make([]byte, maxDataChunk)
	for range initialWindow/maxDataChunk + 1 {
		h.send(frameData, hs.id, dataPayload(0, chunk))
	}
	h.hello(protocolVersion)
	o := h.open(execReq("echo", "back")).finish(1, 2)
	if string(o.out[1]) != "back\n" {
		t.Errorf("after resync got %q", o.out[1])
	}
}

func TestWindowAndInbox(t *testing.T) {
	w := newWindow()
	if n := w.take(1 << 30); n != initialWindow {
		t.Fatalf("take = %d, want %d", n, initialWindow)
	}
	w.refund(10)
	if n := w.take(100); n != 10 {
		t.Fatalf("take after refund = %d, want 10", n)
	}
	w.close()
	if n := w.take(1); n != 0 {
		t.Fatalf("take on a closed window = %d", n)
	}

	b := newInbox()
	if err := b.push(make([]byte, initialWindow)); err != nil {
		t.Fatal(err)
	}
	if err := b.push([]byte{1}); err != ErrWindowExceeded {
		t.Fatalf("push beyond the window: %v", err)
	}
	if inc := b.consumed(windowBatch - 1); inc != 0 {
		t.Fatalf("granted %d before a batch was consumed", inc)
	}
	if inc := b.consumed(1); inc != windowBatch {
		t.Fatalf("granted %d, want %d", inc, windowBatch)
	}
	if err := b.push(make([]byte, windowBatch)); err != nil {
		t.Fatalf("push within the new grant: %v", err)
	}
}
