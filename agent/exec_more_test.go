package main

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func killPid(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

func TestExecCancel(t *testing.T) {
	h := newHost(t)
	hs := h.open(execReq("sleep", "1000"))
	opened := hs.expect(frameOpened)
	var o map[string]int
	mustUnmarshal(t, opened.payload, &o)
	hs.cancel()
	out := hs.finish()
	if out.err == nil || out.err.Code != "ECANCELED" {
		t.Fatalf("got %+v, want ERROR ECANCELED", out)
	}
	waitGone(t, o["pid"])
}

func TestExecTTY(t *testing.T) {
	h := newHost(t)
	req := execReq("sh", "-c", "stty size; tty; echo err >&2; read x; stty size")
	req["tty"] = map[string]int{"rows": 24, "cols": 80}
	req["stdin"] = true
	hs := h.open(req)
	first := hs.waitOutput(1, "err")
	hs.control(map[string]any{"resize": map[string]int{"rows": 40, "cols": 120}})
	hs.sendData([]byte("\n"))
	o := hs.finish(1, 2)
	if code := exitCode(t, o); code != 0 {
		t.Fatalf("exit code %d, output %q", code, o.out[1])
	}
	out := strings.ReplaceAll(first+string(o.out[1]), "\r\n", "\n")
	if !strings.HasPrefix(out, "24 80\n/dev/pts/") || !strings.HasSuffix(out, "\n40 120\n") ||
		!strings.Contains(out, "err\n") {
		t.Errorf("tty output %q", out)
	}
	if len(o.out[2]) != 0 {
		t.Errorf("stderr %q with a tty, want it on stdout", o.out[2])
	}
}

func TestExecControlSignal(t *testing.T) {
	h := newHost(t)
	hs := h.open(execReq("sleep", "1000"))
	hs.expect(frameOpened)
	hs.control(map[string]string{"signalGroup": "SIGINT"})
	o := hs.finish(1, 2)
	if o.result["signal"] != "SIGINT" {
		t.Errorf("result %v, want signal SIGINT", o.result)
	}
}

func TestSignalOp(t *testing.T) {
	h := newHost(t)
	hs := h.open(execReq("sleep", "1000"))
	var opened map[string]int
	mustUnmarshal(t, hs.expect(frameOpened).payload, &opened)

	sig := h.open(map[string]any{"op": "signal", "pid": opened["pid"], "signal": "SIGUSR1"})
	if o := sig.finish(); o.err != nil {
		t.Fatalf("signal failed: %+v", *o.err)
	}
	if o := hs.finish(1, 2); o.result["signal"] != "SIGUSR1" {
		t.Errorf("result %v, want signal SIGUSR1", o.result)
	}

	gone := h.open(map[string]any{"op": "signal", "pid": opened["pid"], "signal": "TERM"})
	if o := gone.finish(); o.err == nil || o.err.Code != "ESRCH" {
		t.Errorf("signal to a reaped pid gave %+v, want ESRCH", o.err)
	}
}

func TestParseSignal(t *testing.T) {
	for text, want := range map[string]syscall.Signal{
		"SIGTERM": syscall.SIGTERM, "kill": syscall.SIGKILL, "9": syscall.SIGKILL,
		"SIGRTMIN+2": 36,
	} {
		got, err := parseSignal(text)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %d, %v; want %d", text, got, err, want)
		}
		if name := signalName(got); text == "SIGTERM" && name != text {
			t.Errorf("signalName(%d) = %q", got, name)
		}
	}
	if _, err := parseSignal("SIGNOPE"); err == nil {
		t.Error("parseSignal accepted SIGNOPE")
	}
	if got := signalName(syscall.Signal(40)); got != "SIGRTMIN+"+strconv.Itoa(40-sigRTMin) {
		t.Errorf("signalName(40) = %q", got)
	}
}

func syscallKill0(pid int) error { return syscall.Kill(pid, 0) }
