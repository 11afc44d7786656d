package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func execReq(argv ...string) map[string]any {
	return map[string]any{"op": "exec", "argv": argv}
}

func exitCode(t *testing.T, o outcome) int {
	t.Helper()
	if o.err != nil {
		t.Fatalf("exec failed: %+v", *o.err)
	}
	code, ok := o.result["exitCode"].(float64)
	if !ok {
		t.Fatalf("result has no exit code: %v", o.result)
	}
	return int(code)
}

func TestExecOutput(t *testing.T) {
	h := newHost(t)
	o := h.open(execReq("/bin/sh", "-c", "echo hi; id -u; echo oops >&2")).finish(1, 2)
	if code := exitCode(t, o); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	want := "hi\n" + strconv.Itoa(os.Getuid()) + "\n"
	if string(o.out[1]) != want || string(o.out[2]) != "oops\n" {
		t.Errorf("stdout %q, stderr %q; want %q, %q", o.out[1], o.out[2], want, "oops\n")
	}
	if pid, _ := o.opened["pid"].(float64); pid <= 0 {
		t.Errorf("OPENED %v has no pid", o.opened)
	}
	if o.result["signal"] != nil || o.result["timedOut"] != false {
		t.Errorf("result %v", o.result)
	}
	if rss, _ := o.result["peakRssKib"].(float64); rss <= 0 {
		t.Errorf("peakRssKib %v, want > 0", o.result["peakRssKib"])
	}
}

func TestExecExitCodes(t *testing.T) {
	h := newHost(t)
	notExec := t.TempDir() + "/script"
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		argv   []string
		code   int
		stderr string
	}{
		{[]string{"sh", "-c", "exit 0"}, 0, ""},
		{[]string{"sh", "-c", "exit 1"}, 1, ""},
		{[]string{"no-such-program-x"}, 127,
			"supermachine: no-such-program-x: command not found\n"},
		{[]string{"/no/such/program"}, 127,
			"supermachine: /no/such/program: no such file or directory\n"},
		{[]string{notExec}, 126, "supermachine: " + notExec + ": permission denied\n"},
		{[]string{"/tmp"}, 126, "supermachine: /tmp: is a directory\n"},
	}
	for _, c := range cases {
		o := h.open(execReq(c.argv...)).finish(1, 2)
		if code := exitCode(t, o); code != c.code {
			t.Errorf("%q: exit code %d, want %d", c.argv, code, c.code)
		}
		if string(o.out[2]) != c.stderr {
			t.Errorf("%q: stderr %q, want %q", c.argv, o.out[2], c.stderr)
		}
	}
	// The shell reports its own missing command the same way.
	o := h.open(execReq("sh", "-c", "no-such-program-x")).finish(1, 2)
	if code := exitCode(t, o); code != 127 {
		t.Errorf("sh -c missing: exit code %d, want 127", code)
	}
}

func TestExecSignalled(t *testing.T) {
	h := newHost(t)
	o := h.open(execReq("sh", "-c", "kill -TERM $$")).finish(1, 2)
	if o.err != nil || o.result["signal"] != "SIGTERM" || o.result["exitCode"] != nil {
		t.Errorf("result %v, error %v; want signal SIGTERM", o.result, o.err)
	}
}

func TestExecTimeoutKillsGroup(t *testing.T) {
	h := newHost(t)
	req := execReq("sh", "-c", "sleep 1000 & echo $!; sleep 1000")
	req["timeoutMs"] = 300
	start := time.Now()
	o := h.open(req).finish(1, 2)
	if o.err != nil || o.result["timedOut"] != true || o.result["signal"] != "SIGKILL" {
		t.Fatalf("result %v, error %v; want timedOut and SIGKILL", o.result, o.err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to time out after 300ms", d)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(o.out[1])))
	if err != nil {
		t.Fatalf("no background pid in %q", o.out[1])
	}
	waitGone(t, child)
}

// waitGone waits until pid no longer exists (killed and reaped).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			t.Fatalf("process %d still exists: %s", pid, stat)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A background child that keeps stdout open must not hold the RESULT.
func TestExecBackgroundChildHoldsPipes(t *testing.T) {
	h := newHost(t)
	start := time.Now()
	o := h.open(execReq("sh", "-c", "sleep 1000 & echo $!")).finish(1, 2)
	if code := exitCode(t, o); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(o.out[1])))
	if err != nil {
		t.Fatalf("no background pid in %q", o.out[1])
	}
	if err := killPid(child); err != nil {
		t.Errorf("background child %d should still run: %v", child, err)
	}
	waitGone(t, child)
}

func TestExecStdinEcho(t *testing.T) {
	h := newHost(t)
	data := make([]byte, 4<<20)
	_, _ = rand.Read(data)
	req := execReq("cat")
	req["stdin"] = true
	hs := h.open(req)
	go func() {
		hs.sendData(data)
		hs.sendEOF()
	}()
	o := hs.finish(1, 2)
	if code := exitCode(t, o); code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, o.out[2])
	}
	if !bytes.Equal(o.out[1], data) {
		t.Errorf("cat returned %d bytes, want the %d sent", len(o.out[1]), len(data))
	}
}

func TestExecEnvCwdUser(t *testing.T) {
	h := newHost(t)
	req := execReq("sh", "-c", "echo $FOO; pwd; id -u; id -g; id -G")
	req["env"] = []string{"FOO=bar", "PATH=/usr/bin:/bin"}
	req["cwd"] = "/tmp"
	req["uid"], req["gid"], req["groups"] = 65534, 65533, []int{65532}
	o := h.open(req).finish(1, 2)
	if code := exitCode(t, o); code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, o.out[2])
	}
	want := "bar\n/tmp\n65534\n65533\n65533 65532\n"
	if string(o.out[1]) != want {
		t.Errorf("stdout %q, want %q", o.out[1], want)
	}

	o = h.open(execReq("sh", "-c", "echo $HOME $PATH")).finish(1, 2)
	if got := string(o.out[1]); !strings.HasSuffix(got, " "+defaultPath+"\n") {
		t.Errorf("default environment gave %q", got)
	}
}

func TestExecBadRequests(t *testing.T) {
	h := newHost(t)
	cases := []struct {
		req  map[string]any
		code string
	}{
		{map[string]any{"op": "exec", "argv": []string{}}, "EINVAL"},
		{map[string]any{"op": "exec", "argv": []string{"sh"}, "cwd": "/no/such/dir"}, "ENOENT"},
		{map[string]any{"op": "exec", "argv": []string{"sh"}, "cwd": "/etc/passwd"}, "ENOTDIR"},
		{map[string]any{"op": "dance"}, "EINVAL"},
	}
	for _, c := range cases {
		o := h.open(c.req).finish()
		if o.err == nil || o.err.Code != c.code {
			t.Errorf("%v: got %+v, want ERROR %s", c.req, o.err, c.code)
		}
	}
}
