package main

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// The guest side echoes in upper case what it reads, then closes; the host
// half-closes first, as a client sending a request would.
func TestConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		_, _ = c.Write([]byte(strings.ToUpper(string(b))))
	}()

	h := newHost(t)
	port := l.Addr().(*net.TCPAddr).Port
	hs := h.open(map[string]any{"op": "connect", "port": port})
	hs.expect(frameOpened)
	payload := strings.Repeat("hello guest ", 50000)
	hs.sendData([]byte(payload))
	hs.sendEOF()
	o := hs.finish(0)
	if o.err != nil || string(o.out[0]) != strings.ToUpper(payload) {
		t.Fatalf("got %d bytes, error %+v", len(o.out[0]), o.err)
	}
}

func TestConnectRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	h := newHost(t)
	o := h.open(map[string]any{"op": "connect", "port": port, "host": "127.0.0.1"}).finish()
	if o.err == nil || o.err.Code != "ECONNREFUSED" {
		t.Errorf("connect to closed port %s gave %+v", strconv.Itoa(port), o.err)
	}
}

func TestConnectReset(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		// Linger 0 makes Close send a reset instead of a FIN.
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close()
	}()
	h := newHost(t)
	hs := h.open(map[string]any{"op": "connect", "port": l.Addr().(*net.TCPAddr).Port})
	if o := hs.finish(); o.err == nil || o.err.Code != "ECONNRESET" {
		t.Errorf("reset gave %+v, want ECONNRESET", o)
	}
}

func TestConnectCancel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	h := newHost(t)
	hs := h.open(map[string]any{"op": "connect", "port": l.Addr().(*net.TCPAddr).Port})
	hs.expect(frameOpened)
	hs.cancel()
	if o := hs.finish(); o.err == nil || o.err.Code != "ECANCELED" {
		t.Errorf("cancel gave %+v, want ECANCELED", o.err)
	}
	c := <-accepted
	defer c.Close()
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("guest side read %d, %v after cancel; want EOF", n, err)
	}
}
