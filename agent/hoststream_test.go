package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// next returns the stream's next frame, waiting for it.
func (hs *hostStream) next() frame {
	hs.h.t.Helper()
	hs.h.waitFor(fmt.Sprintf("a frame on stream %d", hs.id), func() bool {
		return hs.read < len(hs.frames)
	})
	hs.h.mu.Lock()
	defer hs.h.mu.Unlock()
	f := hs.frames[hs.read]
	hs.read++
	return f
}

func (hs *hostStream) expect(typ byte) frame {
	hs.h.t.Helper()
	f := hs.next()
	if f.typ != typ {
		hs.h.t.Fatalf("stream %d: got frame type %d (%s), want %d", hs.id, f.typ, f.payload, typ)
	}
	return f
}

// sendData sends data on channel 0 within the agent's window.
func (hs *hostStream) sendData(data []byte) {
	hs.h.t.Helper()
	for len(data) > 0 {
		hs.h.waitFor(fmt.Sprintf("window on stream %d", hs.id), func() bool {
			return hs.sendWin > 0
		})
		hs.h.mu.Lock()
		n := int(min(int64(len(data)), hs.sendWin, maxDataChunk))
		hs.sendWin -= int64(n)
		hs.h.mu.Unlock()
		hs.h.send(frameData, hs.id, dataPayload(0, data[:n]))
		data = data[n:]
	}
}

func (hs *hostStream) sendEOF() { hs.h.send(frameEOF, hs.id, []byte{0}) }

func (hs *hostStream) cancel() { hs.h.send(frameCancel, hs.id, nil) }

func (hs *hostStream) control(v any) { hs.h.send(frameControl, hs.id, mustJSON(v)) }

func (hs *hostStream) grant(ch byte, n uint32) {
	hs.h.send(frameWindow, hs.id, windowPayload(ch, n))
}

// outcome is everything a stream delivered up to its last frame.
type outcome struct {
	opened map[string]any
	out    [3][]byte
	eof    [3]bool
	result map[string]any // nil when the stream ended with ERROR
	err    *errorBody
}

// finish reads the stream to its last frame and checks the protocol's
// promises on the way: OPENED first, no DATA after EOF, and EOF on every
// output channel before RESULT.
func (hs *hostStream) finish(outputs ...byte) outcome {
	t := hs.h.t
	t.Helper()
	var o outcome
	hs.h.mu.Lock()
	for _, f := range hs.frames[:hs.read] {
		if f.typ == frameOpened {
			o.opened = map[string]any{}
			mustUnmarshal(t, f.payload, &o.opened)
		}
	}
	hs.h.mu.Unlock()
	for {
		f := hs.next()
		switch f.typ {
		case frameOpened:
			if o.opened != nil {
				t.Fatalf("stream %d: second OPENED", hs.id)
			}
			o.opened = map[string]any{}
			mustUnmarshal(t, f.payload, &o.opened)
		case frameData:
			ch, data, _ := parseData(f.payload)
			if o.eof[ch] {
				t.Fatalf("stream %d: DATA on channel %d after its EOF", hs.id, ch)
			}
			o.out[ch] = append(o.out[ch], data...)
		case frameEOF:
			o.eof[f.payload[0]] = true
		case frameResult:
			if o.opened == nil {
				t.Fatalf("stream %d: RESULT without OPENED", hs.id)
			}
			for _, ch := range outputs {
				if !o.eof[ch] {
					t.Fatalf("stream %d: RESULT before EOF on channel %d", hs.id, ch)
				}
			}
			mustUnmarshal(t, f.payload, &o.result)
			return o
		case frameError:
			o.err = &errorBody{}
			mustUnmarshal(t, f.payload, o.err)
			return o
		}
	}
}

func mustUnmarshal(t interface{ Fatalf(string, ...any) }, b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("failed to parse %s: %v", b, err)
	}
}

// waitOutput consumes DATA on channel ch until its text contains want and
// returns that text. Other frames before it are a failure.
func (hs *hostStream) waitOutput(ch byte, want string) string {
	hs.h.t.Helper()
	var got []byte
	for !bytes.Contains(got, []byte(want)) {
		f := hs.next()
		if f.typ == frameOpened {
			continue
		}
		c, data, err := parseData(f.payload)
		if f.typ != frameData || err != nil || c != ch {
			hs.h.t.Fatalf("stream %d: got frame %d %q while waiting for %q in %q",
				hs.id, f.typ, f.payload, want, got)
		}
		got = append(got, data...)
	}
	return string(got)
}
