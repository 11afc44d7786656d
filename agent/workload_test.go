package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWorkloadLifecycle(t *testing.T) {
	_, _, connect := startSession(t)
	h := connect()
	h.hello(protocolVersion)

	o := h.open(map[string]any{"op": "waitWorkload"}).finish()
	if o.err == nil || o.err.Code != "ESRCH" {
		t.Fatalf("waitWorkload before start gave %+v, want ESRCH", o.err)
	}
	before := time.Now().UnixNano()
	o = h.open(map[string]any{"op": "startWorkload",
		"argv": []string{"sh", "-c", "echo hello; echo oops >&2; exec sleep 1000"},
		"env":  []string{"PATH=/usr/bin:/bin"}, "cwd": t.TempDir(), "user": "0"}).finish()
	if o.err != nil || o.result["pid"] == nil {
		t.Fatalf("startWorkload: %v %+v", o.result, o.err)
	}
	o = h.open(map[string]any{"op": "startWorkload", "argv": []string{"true"}}).finish()
	if o.err == nil || o.err.Code != "EBUSY" {
		t.Errorf("second startWorkload gave %+v, want EBUSY", o.err)
	}

	// A follower sees output as it comes; a new HELLO ends the stream but
	// not the workload.
	f := h.open(map[string]any{"op": "logs", "follow": true,
		"since": strconv.FormatInt(before, 10)})
	waitLog(f, "hello\n", "oops\n")
	wait := h.open(map[string]any{"op": "waitWorkload"})
	wait.expect(frameOpened)
	h.hello(protocolVersion)

	o = h.open(map[string]any{"op": "logs"}).finish(1, 2)
	if string(o.out[1]) != "hello\n" || string(o.out[2]) != "oops\n" ||
		o.result["truncated"] != false {
		t.Errorf("logs: %q %q %v %+v", o.out[1], o.out[2], o.result, o.err)
	}
	o = h.open(map[string]any{"op": "logs",
		"since": strconv.FormatInt(time.Now().Add(time.Hour).UnixNano(), 10)}).finish(1, 2)
	if len(o.out[1])+len(o.out[2]) != 0 {
		t.Errorf("logs since the future gave %q %q", o.out[1], o.out[2])
	}

	follow := h.open(map[string]any{"op": "logs", "follow": true})
	waitLog(follow, "hello\n", "")
	o = h.open(map[string]any{"op": "stopWorkload", "signal": "SIGTERM",
		"timeoutMs": 5000}).finish()
	if o.err != nil || o.result["signal"] != "SIGTERM" || o.result["exitCode"] != nil {
		t.Fatalf("stopWorkload: %v %+v", o.result, o.err)
	}
	// The follower ends once the workload is gone and its output drained.
	if o := follow.finish(1, 2); o.err != nil {
		t.Errorf("follow: %+v", o.err)
	}
	o = h.open(map[string]any{"op": "waitWorkload"}).finish()
	if o.err != nil || o.result["signal"] != "SIGTERM" {
		t.Errorf("waitWorkload after exit: %v %+v", o.result, o.err)
	}
}

// stopWorkload kills a workload that ignores its signal once the timeout
// passes.
func TestWorkloadStopEscalates(t *testing.T) {
	h := newHost(t)
	o := h.open(map[string]any{"op": "startWorkload",
		"argv": []string{"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
	}).finish()
	if o.err != nil {
		t.Fatalf("startWorkload: %+v", o.err)
	}
	waitLog(h.open(map[string]any{"op": "logs", "follow": true}), "ready", "")
	started := time.Now()
	o = h.open(map[string]any{"op": "stopWorkload", "timeoutMs": 200}).finish()
	if o.err != nil || o.result["signal"] != "SIGKILL" {
		t.Fatalf("stopWorkload: %v %+v", o.result, o.err)
	}
	if d := time.Since(started); d < 200*time.Millisecond {
		t.Errorf("killed after %v, before the timeout", d)
	}
}

func TestWorkloadStartErrors(t *testing.T) {
	cases := []struct {
		req  map[string]any
		code string
		text string
	}{
		{map[string]any{"argv": []string{"no-such-program"}}, "ENOENT", "no-such-program"},
		{map[string]any{"argv": []string{"/etc/passwd"}}, "EACCES", "/etc/passwd"},
		{map[string]any{"argv": []string{"true"}, "user": "no-such-user"}, "ENOENT",
			"no-such-user"},
	}
	for _, c := range cases {
		h := newHost(t)
		c.req["op"] = "startWorkload"
		o := h.open(c.req).finish()
		if o.err == nil || o.err.Code != c.code || !strings.Contains(o.err.Message, c.text) {
			t.Errorf("%v gave %+v, want %s naming %q", c.req, o.err, c.code, c.text)
		}
	}
}

// waitLog reads a logs stream until stdout and stderr have carried what
// is wanted of them, in whatever order the two pipes delivered it.
func waitLog(hs *hostStream, stdout, stderr string) {
	hs.h.t.Helper()
	var got [3][]byte
	for !strings.Contains(string(got[1]), stdout) || !strings.Contains(string(got[2]), stderr) {
		f := hs.next()
		if f.typ == frameOpened {
			continue
		}
		c, data, err := parseData(f.payload)
		if f.typ != frameData || err != nil {
			hs.h.t.Fatalf("stream %d: got frame %d while waiting for %q and %q", hs.id, f.typ,
				stdout, stderr)
		}
		got[c] = append(got[c], data...)
	}
}
