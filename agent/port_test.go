package main

import (
	"crypto/rand"
	"net"
	"os"
	"syscall"
	"testing"
)

// servePort over one end of a socketpair: data means a host, end-of-file
// means it left, as on the virtio console.
func TestServePort(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession((&fakeSystem{}).config(testLogger()))
	t.Cleanup(s.abortAll)
	// The loop polls the dead socket until the test binary exits, as the
	// agent polls a port with no host.
	go func() { _ = servePort(s, fds[0]) }()

	h := newTestHost(t, fileConn(t, fds[1]))
	h.hello(protocolVersion)
	if o := h.open(execReq("echo", "port")).finish(1, 2); string(o.out[1]) != "port\n" {
		t.Errorf("exec over the port gave %q", o.out[1])
	}
	_ = h.conn.Close()
	waitIdle(t, s, true)
}

func TestFindPortMissing(t *testing.T) {
	if _, err := findPort("surely-no-such-port"); err == nil {
		t.Error("found a port that does not exist")
	}
}

func TestListenAddr(t *testing.T) {
	if n, a, err := listenAddr("unix:/tmp/x.sock"); err != nil || n != "unix" || a != "/tmp/x.sock" {
		t.Errorf("listenAddr = %q %q %v", n, a, err)
	}
	if _, _, err := listenAddr("/tmp/x.sock"); err == nil {
		t.Error("listenAddr accepted a spec without network")
	}
}

// serveListener accepts one host after another on a real unix socket.
func TestServeListener(t *testing.T) {
	path := t.TempDir() + "/agent.sock"
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	s := newSession((&fakeSystem{}).config(testLogger()))
	t.Cleanup(s.abortAll)
	go func() { _ = serveListener(s, l) }()
	for i := range 2 {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		h := newTestHost(t, c)
		h.hello(protocolVersion)
		if o := h.open(execReq("true")).finish(1, 2); exitCode(t, o) != 0 {
			t.Errorf("connection %d: exec failed", i)
		}
		_ = c.Close()
		waitIdle(t, s, true)
	}
}

func TestAddEntropy(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("RNDADDENTROPY needs root")
	}
	seed := make([]byte, 32)
	_, _ = rand.Read(seed)
	if err := addEntropy(seed); err != nil {
		t.Errorf("addEntropy: %v", err)
	}
}
