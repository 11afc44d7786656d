package main

import (
	"bytes"
	"crypto/rand"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLiveVM drives a real guest through QEMU's socket for the agent port:
//
//	SUPERMACHINE_VM_SOCKET=/tmp/agt/agent.sock go test -run TestLiveVM -v
//
// With SUPERMACHINE_VM_QEMU_PID set it finally disconnects and waits for
// QEMU to exit, which the agent's grace period should bring about.
func TestLiveVM(t *testing.T) {
	socket := os.Getenv("SUPERMACHINE_VM_SOCKET")
	if socket == "" {
		t.Skip("SUPERMACHINE_VM_SOCKET is not set")
	}
	dial := func() *testHost {
		c, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatalf("failed to connect to %q: %v", socket, err)
		}
		return newTestHost(t, c)
	}

	h := dial()
	start := time.Now()
	ack := h.hello(protocolVersion)
	t.Logf("HELLO_ACK in %v: %+v", time.Since(start), ack)
	if ack.ClockSetErr != "" || ack.EntropyErr != "" {
		t.Errorf("handshake reported errors: %+v", ack)
	}
	t.Run("exec", func(t *testing.T) { liveExec(t, h) })
	t.Run("system", func(t *testing.T) { liveSystem(t, h) })
	t.Run("tty", func(t *testing.T) { liveTTY(t, h) })
	t.Run("timeout", func(t *testing.T) { liveTimeout(t, h) })
	t.Run("files", func(t *testing.T) { liveFiles(t, h) })
	t.Run("connect", func(t *testing.T) { liveConnect(t, h) })

	// Reconnect: the host goes away in the middle of a stream of output
	// and a new one says HELLO.
	busy := h.open(execReq("sh", "-c", "echo $$; exec cat /dev/zero"))
	pidText := busy.waitOutput(1, "\n")
	h.waitFor("a megabyte of output", func() bool { return len(busy.frames) > 20 })
	_ = h.conn.Close()
	time.Sleep(200 * time.Millisecond)
	h = dial()
	start = time.Now()
	h.hello(protocolVersion)
	t.Logf("HELLO_ACK after reconnecting in %v", time.Since(start))
	check := "test -e /proc/" + strings.TrimSpace(strings.SplitN(pidText, "\n", 2)[0]) +
		" && echo alive; echo again"
	if o := h.open(execReq("sh", "-c", check)).finish(1, 2); string(o.out[1]) != "again\n" {
		t.Fatalf("exec after reconnecting gave %q", o.out[1])
	}
	t.Log("reconnected; the old stream's process is gone")

	pid, _ := strconv.Atoi(os.Getenv("SUPERMACHINE_VM_QEMU_PID"))
	if pid == 0 {
		return
	}
	_ = h.conn.Close()
	left := time.Now()
	for processRunning(pid) {
		if time.Since(left) > 2*time.Minute {
			t.Fatalf("QEMU %d still runs %v after the host left", pid, time.Since(left))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("QEMU exited %v after the host left", time.Since(left).Round(time.Millisecond))
}

// processRunning reports whether pid exists and is not a zombie waiting for its
// parent to reap it.
func processRunning(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func liveExec(t *testing.T, h *testHost) {
	script := "echo hi; id -u; hostname; ip addr show lo | grep -o 'inet [0-9.]*'; date +%s; " +
		"mount | grep -c ' on /dev/pts '"
	start := time.Now()
	o := h.open(execReq("sh", "-c", script)).finish(1, 2)
	t.Logf("exec in %v: %q %q %v", time.Since(start), o.out[1], o.out[2], o.result)
	lines := strings.Split(strings.TrimSpace(string(o.out[1])), "\n")
	if exitCode(t, o) != 0 || len(lines) != 6 || lines[0] != "hi" || lines[1] != "0" ||
		lines[2] != "supermachine" || lines[3] != "inet 127.0.0.1" || lines[5] != "1" {
		t.Errorf("unexpected output %q", lines)
	}
	if len(lines) == 6 {
		guest, _ := strconv.ParseInt(lines[4], 10, 64)
		if d := time.Now().Unix() - guest; d < -2 || d > 2 {
			t.Errorf("guest clock is %ds off", d)
		}
	}
	o = h.open(execReq("no-such-program")).finish(1, 2)
	if exitCode(t, o) != 127 || !strings.Contains(string(o.out[2]), "not found") {
		t.Errorf("missing program: %v %q", o.result, o.out[2])
	}
}

// liveSystem checks what PID 1 set up at boot.
func liveSystem(t *testing.T, h *testHost) {
	script := "for m in /proc /sys /dev /dev/pts /dev/shm /tmp /run; do " +
		"grep -q \" $m \" /proc/mounts && echo $m; done; " +
		"for l in fd stdin stdout stderr; do readlink /dev/$l; done; stat -c %a /tmp /dev/shm /run"
	o := h.open(execReq("sh", "-c", script)).finish(1, 2)
	want := "/proc\n/sys\n/dev\n/dev/pts\n/dev/shm\n/tmp\n/run\n" +
		"/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\n1777\n1777\n755\n"
	if exitCode(t, o) != 0 || string(o.out[1]) != want {
		t.Errorf("system set-up: %q, stderr %q", o.out[1], o.out[2])
	}
}

func liveTTY(t *testing.T, h *testHost) {
	req := execReq("sh", "-c", "tty; stty size")
	req["tty"] = map[string]int{"rows": 30, "cols": 100}
	o := h.open(req).finish(1, 2)
	out := strings.ReplaceAll(string(o.out[1]), "\r\n", "\n")
	if exitCode(t, o) != 0 || !strings.HasPrefix(out, "/dev/pts/") ||
		!strings.HasSuffix(out, "30 100\n") {
		t.Errorf("tty gave %q", out)
	}
}

func liveTimeout(t *testing.T, h *testHost) {
	req := execReq("sh", "-c", "sleep 1000 & echo $!; sleep 1000")
	req["timeoutMs"] = 500
	o := h.open(req).finish(1, 2)
	if o.result["timedOut"] != true {
		t.Fatalf("result %v", o.result)
	}
	child := strings.TrimSpace(string(o.out[1]))
	check := "sleep 0.5; test -e /proc/" + child + " && echo alive; " +
		"grep -l '^State:.Z' /proc/[0-9]*/status || true"
	o = h.open(execReq("sh", "-c", check)).finish(1, 2)
	if len(o.out[1]) != 0 {
		t.Errorf("after the timeout: %q (want no live child, no zombies)", o.out[1])
	}
}

func liveFiles(t *testing.T, h *testHost) {
	data := make([]byte, 8<<20)
	_, _ = rand.Read(data)
	start := time.Now()
	w := h.open(map[string]any{"op": "writeFile", "path": "/tmp/live/data", "mkdirs": true,
		"mode": 0o600, "uid": 65534, "gid": 65534})
	w.expect(frameOpened)
	w.sendData(data)
	w.sendEOF()
	if o := w.finish(); o.err != nil {
		t.Fatalf("writeFile: %+v", *o.err)
	}
	wrote := time.Since(start)
	start = time.Now()
	o := h.open(map[string]any{"op": "readFile", "path": "/tmp/live/data"}).finish(0)
	if o.err != nil || !bytes.Equal(o.out[0], data) {
		t.Fatalf("readFile: %d bytes, %+v", len(o.out[0]), o.err)
	}
	t.Logf("8 MiB written in %v, read in %v; OPENED %v", wrote, time.Since(start), o.opened)
	if o.opened["mode"] != float64(0o600) || o.opened["uid"] != float64(65534) {
		t.Errorf("OPENED %v", o.opened)
	}
}

func liveConnect(t *testing.T, h *testHost) {
	w := h.open(map[string]any{"op": "writeFile", "path": "/tmp/www/index.html",
		"mkdirs": true})
	w.expect(frameOpened)
	w.sendData([]byte("hello from the guest\n"))
	w.sendEOF()
	w.finish()
	server := h.open(execReq("httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/tmp/www"))
	server.expect(frameOpened)
	deadline := time.Now().Add(waitTimeout)
	for {
		c := h.open(map[string]any{"op": "connect", "port": 8080})
		if f := c.next(); f.typ == frameError {
			if time.Now().After(deadline) {
				t.Fatalf("httpd never listened: %s", f.payload)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		c.sendData([]byte("GET /index.html HTTP/1.0\r\n\r\n"))
		c.sendEOF()
		o := c.finish(0)
		if o.err != nil || !strings.Contains(string(o.out[0]), "hello from the guest") {
			t.Errorf("HTTP answer %q, error %+v", o.out[0], o.err)
		}
		break
	}
	server.cancel()
	if o := server.finish(); o.err == nil || o.err.Code != "ECANCELED" {
		t.Errorf("cancel of httpd gave %+v", o)
	}
}
