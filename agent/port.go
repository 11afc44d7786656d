package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrPortNotFound reports that no virtio-serial port has the wanted name.
var ErrPortNotFound = errors.New("virtio-serial port not found")

const (
	// portSearch is how long the port may take to appear at boot before
	// the agent starts to complain; it keeps looking after that.
	portSearch = 5 * time.Second
	// hostPoll is the pause between reads while no host is connected: a
	// disconnected port returns end-of-file at once, so reading again is
	// how a new host is noticed.
	hostPoll = 10 * time.Millisecond
	// readBuffer is the most the agent reads from the host at once.
	readBuffer = 256 << 10
)

// findPort returns the device of the virtio-serial port called name, as
// /sys/class/virtio-ports/vport1p1/name holding "agent" gives /dev/vport1p1.
func findPort(name string) (string, error) {
	paths, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil && strings.TrimSpace(string(b)) == name {
			return "/dev/" + filepath.Base(filepath.Dir(p)), nil
		}
	}
	return "", fmt.Errorf("failed to find port %q: %w", name, ErrPortNotFound)
}

// openPortByName waits for the port to appear and opens it. It never gives
// up: without its port the agent has nothing to do but wait.
func openPortByName(name string, log *logger) int {
	start := time.Now()
	var warned time.Time
	for {
		path, err := findPort(name)
		if err == nil {
			fd, openErr := openPort(path)
			if openErr == nil {
				log.Printf("serving %s (port %q)", path, name)
				return fd
			}
			err = openErr
		}
		if time.Since(start) > portSearch && time.Since(warned) > 10*time.Second {
			log.Printf("%v; still trying", err)
			warned = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openPort opens the port in blocking mode with raw system calls: the
// virtio console reports a missing host as end-of-file and POLLHUP, which
// the runtime's edge-triggered poller handles poorly.
func openPort(path string) (int, error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("failed to open %q: %w", path, err)
	}
	return fd, nil
}

// portWriter writes to the port. While no host is connected a write
// blocks until one is; the session drops what was queued for the old one.
type portWriter struct{ fd int }

func (w portWriter) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := syscall.Write(w.fd, b[done:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			time.Sleep(hostPoll)
			continue
		case err != nil:
			return done, fmt.Errorf("failed to write to the port: %w", err)
		}
		done += n
	}
	return done, nil
}

// servePort reads from the port for ever. Zero bytes means no host: the
// session is told once, then reads are retried until data arrives, which
// means a host has connected.
func servePort(s *session, fd int) error {
	buf := make([]byte, readBuffer)
	w := portWriter{fd}
	connected := false
	for {
		n, err := syscall.Read(fd, buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			time.Sleep(hostPoll)
			continue
		case err != nil:
			if connected {
				s.disconnect(w)
			}
			return fmt.Errorf("failed to read from the port: %w", err)
		case n == 0:
			if connected {
				s.disconnect(w)
				connected = false
			}
			time.Sleep(hostPoll)
			continue
		}
		if !connected {
			s.connect(w)
			connected = true
		}
		s.feed(buf[:n])
	}
}
