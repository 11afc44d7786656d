package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
)

// testReaper is the one reaper of the test binary, as in the agent.
var testReaper *reaper

func TestMain(m *testing.M) {
	// Orphans of the processes the tests start come back to this process,
	// so tests can see a timeout's background child reaped, as PID 1 would.
	if err := setChildSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testReaper = startReaper(testLogger())
	os.Exit(m.Run())
}

func testLogger() *logger {
	if os.Getenv("SUPERMACHINE_TEST_DEBUG") != "" {
		return newLogger(os.Stderr, true)
	}
	return newLogger(io.Discard, false)
}

// fakeSystem records what the handshake would have done to the clock and
// the RNG, so tests never touch the machine's.
type fakeSystem struct {
	mu      sync.Mutex
	clockNs int64
	entropy []byte
}

func (f *fakeSystem) config(log *logger) sessionConfig {
	return sessionConfig{
		log:    log,
		reaper: testReaper,
		setClock: func(ns int64) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.clockNs = ns
			return nil
		},
		addEntropy: func(seed []byte) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.entropy = seed
			return nil
		},
	}
}

// startSession runs a session the way -listen does, one connection at a
// time, and returns a function that connects a new test host to it.
func startSession(t *testing.T) (*session, *fakeSystem, func() *testHost) {
	t.Helper()
	sys := &fakeSystem{}
	s := newSession(sys.config(testLogger()))
	t.Cleanup(s.abortAll)
	connect := func() *testHost {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("failed to create a socketpair: %v", err)
		}
		agentEnd := fileConn(t, fds[0])
		go serveConn(s, agentEnd)
		return newTestHost(t, fileConn(t, fds[1]))
	}
	return s, sys, connect
}

func fileConn(t *testing.T, fd int) net.Conn {
	t.Helper()
	f := os.NewFile(uintptr(fd), "socketpair")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatalf("failed to wrap a socket: %v", err)
	}
	return c
}

// newHost starts a session with one connected host that has said HELLO.
func newHost(t *testing.T) *testHost {
	t.Helper()
	_, _, connect := startSession(t)
	h := connect()
	h.hello(protocolVersion)
	return h
}
