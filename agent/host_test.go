package main

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait of a test, so a bug fails it rather than
// hanging the run.
const waitTimeout = 20 * time.Second

// testHost plays the TypeScript host against a real session, over a unix
// socketpair or, for TestLiveVM, QEMU's socket.
type testHost struct {
	t    *testing.T
	conn net.Conn
	wmu  sync.Mutex

	mu      sync.Mutex
	cond    sync.Cond
	streams map[uint32]*hostStream
	acks    []helloAck
	errors0 []errorBody
	nextID  uint32
	readErr error
}

// hostStream is the host's record of one stream.
type hostStream struct {
	h          *testHost
	id         uint32
	autoWindow bool    // grant every DATA back at once, as a fast reader
	frames     []frame // guarded by h.mu
	read       int     // frames consumed by next
	sendWin    int64   // guarded by h.mu: DATA the agent will accept
}

func newTestHost(t *testing.T, conn net.Conn) *testHost {
	h := &testHost{t: t, conn: conn, streams: make(map[uint32]*hostStream), nextID: 1}
	h.cond.L = &h.mu
	t.Cleanup(func() { _ = conn.Close() })
	go h.readLoop()
	return h
}

func (h *testHost) write(b []byte) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if _, err := h.conn.Write(b); err != nil {
		h.t.Errorf("failed to write to the agent: %v", err)
	}
}

func (h *testHost) send(typ byte, stream uint32, payload []byte) {
	h.write(encodeFrame(frame{typ, stream, payload}))
}

func (h *testHost) readLoop() {
	d := newDecoder()
	buf := make([]byte, 256<<10)
	for {
		n, err := h.conn.Read(buf)
		d.feed(buf[:n], h.receive)
		if err != nil {
			h.mu.Lock()
			h.readErr = err
			h.cond.Broadcast()
			h.mu.Unlock()
			return
		}
	}
}

func (h *testHost) receive(f frame) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	defer h.cond.Broadcast()
	if f.stream == 0 {
		switch f.typ {
		case frameHelloAck:
			var ack helloAck
			_ = json.Unmarshal(f.payload, &ack)
			h.acks = append(h.acks, ack)
		case frameError:
			var e errorBody
			_ = json.Unmarshal(f.payload, &e)
			h.errors0 = append(h.errors0, e)
		}
		return true
	}
	hs := h.streams[f.stream]
	if hs == nil {
		h.t.Errorf("frame %d for stream %d the host never opened", f.typ, f.stream)
		return true
	}
	hs.frames = append(hs.frames, f)
	switch f.typ {
	case frameWindow:
		if ch, inc, err := parseWindow(f.payload); err == nil && ch == 0 {
			hs.sendWin += int64(inc)
		}
	case frameData:
		if ch, data, err := parseData(f.payload); err == nil && hs.autoWindow && len(data) > 0 {
			// Granted from another goroutine that may outlive the test,
			// so a closed connection is no failure there.
			b := encodeFrame(frame{frameWindow, f.stream, windowPayload(ch, uint32(len(data)))})
			go func() {
				h.wmu.Lock()
				defer h.wmu.Unlock()
				_, _ = h.conn.Write(b)
			}()
		}
	}
	return true
}

// waitFor waits until cond (called under h.mu) holds.
func (h *testHost) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	timer := time.AfterFunc(waitTimeout, func() {
		h.mu.Lock()
		h.cond.Broadcast()
		h.mu.Unlock()
	})
	defer timer.Stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for !cond() {
		if h.readErr != nil {
			h.t.Fatalf("connection ended while waiting for %s: %v", what, h.readErr)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		h.cond.Wait()
	}
}

func (h *testHost) hello(version int) helloAck {
	h.t.Helper()
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	req := map[string]any{
		"version":    version,
		"timeUnixNs": strconv.FormatInt(time.Now().UnixNano(), 10),
		"entropy":    base64.StdEncoding.EncodeToString(seed),
	}
	h.mu.Lock()
	n := len(h.acks)
	h.mu.Unlock()
	h.write(appendFrame(append([]byte(nil), syncMarker...), frameHello, 0, mustJSON(req)))
	h.waitFor("HELLO_ACK", func() bool { return len(h.acks) > n })
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acks[n]
}

// open sends an OPEN and returns the stream; autoWindow makes the host a
// reader that grants every DATA back at once.
func (h *testHost) open(req any) *hostStream {
	return h.openWindowed(req, true)
}

func (h *testHost) openWindowed(req any, autoWindow bool) *hostStream {
	h.mu.Lock()
	hs := &hostStream{h: h, id: h.nextID, autoWindow: autoWindow, sendWin: initialWindow}
	h.nextID++
	h.streams[hs.id] = hs
	h.mu.Unlock()
	h.send(frameOpen, hs.id, mustJSON(req))
	return hs
}
