package main

import (
	"strconv"
	"testing"
	"time"
)

func TestHandshake(t *testing.T) {
	_, sys, connect := startSession(t)
	h := connect()
	before := time.Now().UnixNano()
	ack := h.hello(protocolVersion)
	if ack.Version != protocolVersion || ack.Agent != agentVersion || ack.Kernel == "" ||
		ack.Arch == "" || ack.ClockSetErr != "" || ack.EntropyErr != "" {
		t.Errorf("HELLO_ACK %+v", ack)
	}
	boot, err := strconv.ParseInt(ack.BootTimeUnixNs, 10, 64)
	if err != nil || boot <= 0 || boot > before {
		t.Errorf("bootTimeUnixNs %q", ack.BootTimeUnixNs)
	}
	sys.mu.Lock()
	defer sys.mu.Unlock()
	if sys.clockNs == 0 || sys.clockNs > time.Now().UnixNano() || len(sys.entropy) != 32 {
		t.Errorf("clock set to %d, entropy %x", sys.clockNs, sys.entropy)
	}
}

// An agent that gets a HELLO of another version answers with its own and
// takes no requests until a HELLO it speaks.
func TestHandshakeVersionMismatch(t *testing.T) {
	_, _, connect := startSession(t)
	h := connect()
	if ack := h.hello(2); ack.Version != protocolVersion {
		t.Errorf("HELLO_ACK version %d, want %d", ack.Version, protocolVersion)
	}
	o := h.open(execReq("true")).finish()
	if o.err == nil || o.err.Code != "EPROTO" {
		t.Errorf("OPEN after a bad HELLO gave %+v, want EPROTO", o)
	}
	h.hello(protocolVersion)
	if o := h.open(execReq("true")).finish(1, 2); exitCode(t, o) != 0 {
		t.Errorf("exec after a good HELLO failed: %v", o)
	}
}

func TestHandshakeReportsFailures(t *testing.T) {
	_, _, connect := startSession(t)
	h := connect()
	h.write(appendFrame(append([]byte(nil), syncMarker...), frameHello, 0,
		[]byte(`{"version":1,"timeUnixNs":"soon","entropy":"!"}`)))
	h.waitFor("HELLO_ACK", func() bool { return len(h.acks) == 1 })
	if ack := h.acks[0]; ack.ClockSetErr == "" || ack.EntropyErr == "" {
		t.Errorf("HELLO_ACK %+v should report both failures", ack)
	}
}

// A second HELLO ends every stream of the previous connection.
func TestSecondHelloEndsStreams(t *testing.T) {
	_, _, connect := startSession(t)
	h := connect()
	h.hello(protocolVersion)
	old := h.open(execReq("sleep", "1000"))
	var opened map[string]int
	mustUnmarshal(t, old.expect(frameOpened).payload, &opened)

	h.hello(protocolVersion)
	waitGone(t, opened["pid"])
	if o := h.open(execReq("echo", "new")).finish(1, 2); string(o.out[1]) != "new\n" {
		t.Errorf("exec after the second HELLO gave %q", o.out[1])
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(old.frames); n != 1 {
		t.Errorf("old stream got %d frames after OPENED", n-1)
	}
}

// A host that goes away and a new one that connects: processes survive the
// gap and end only at the new HELLO.
func TestReconnect(t *testing.T) {
	s, _, connect := startSession(t)
	h := connect()
	h.hello(protocolVersion)
	old := h.open(execReq("sleep", "1000"))
	var opened map[string]int
	mustUnmarshal(t, old.expect(frameOpened).payload, &opened)
	_ = h.conn.Close()
	waitIdle(t, s, true)
	if err := syscallKill0(opened["pid"]); err != nil {
		t.Fatalf("process died with the connection: %v", err)
	}

	h2 := connect()
	h2.hello(protocolVersion)
	waitIdle(t, s, false)
	waitGone(t, opened["pid"])
	if o := h2.open(execReq("echo", "again")).finish(1, 2); string(o.out[1]) != "again\n" {
		t.Errorf("exec on the new connection gave %q", o.out[1])
	}
}

func waitIdle(t *testing.T, s *session, want bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if idle, _ := s.idle(); idle == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session idle never became %v", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMalformedOpen(t *testing.T) {
	h := newHost(t)
	h.mu.Lock()
	h.streams[50] = &hostStream{h: h, id: 50}
	h.mu.Unlock()
	h.send(frameOpen, 50, []byte("not json"))
	if o := h.streams[50].finish(); o.err == nil || o.err.Code != "EINVAL" {
		t.Errorf("bad JSON gave %+v, want EINVAL", o.err)
	}

	h.send(frameOpen, 0, mustJSON(execReq("true")))
	h.waitFor("ERROR on stream 0", func() bool { return len(h.errors0) == 1 })
	if h.errors0[0].Code != "EPROTO" {
		t.Errorf("OPEN on stream 0 gave %+v", h.errors0[0])
	}

	dup := h.open(execReq("sleep", "1000"))
	var opened map[string]int
	mustUnmarshal(t, dup.expect(frameOpened).payload, &opened)
	h.send(frameOpen, dup.id, mustJSON(execReq("true")))
	if o := dup.finish(); o.err == nil || o.err.Code != "EPROTO" {
		t.Errorf("OPEN of a live id gave %+v, want EPROTO", o.err)
	}
	waitGone(t, opened["pid"])
}

func TestGraceExpires(t *testing.T) {
	s := newSession((&fakeSystem{}).config(testLogger()))
	expired := make(chan time.Time, 1)
	start := time.Now()
	go watchGrace(s, 300*time.Millisecond, func() {
		select {
		case expired <- time.Now():
		default:
		}
	})
	select {
	case at := <-expired:
		if d := at.Sub(start); d < 300*time.Millisecond {
			t.Errorf("expired after %v, before the grace of 300ms", d)
		}
	case <-time.After(waitTimeout):
		t.Fatal("grace never expired")
	}
}

func TestCmdline(t *testing.T) {
	cfg := parseCmdline("console=ttyS0 supermachine.grace=2.5 supermachine.hostname=db "+
		"supermachine.debug=1 supermachine.grace2=9", testLogger())
	if cfg.grace != 2500*time.Millisecond || cfg.hostname != "db" || !cfg.debug ||
		cfg.portName != "agent" {
		t.Errorf("parsed %+v", cfg)
	}
	cfg = parseCmdline("quiet supermachine.grace=soon", testLogger())
	if cfg.grace != defaultGrace || cfg.hostname != defaultHostname || cfg.debug {
		t.Errorf("defaults %+v", cfg)
	}
}
