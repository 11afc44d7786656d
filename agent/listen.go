package main

import (
	"fmt"
	"net"
	"strings"
)

// listenAddr splits "unix:/path" or "tcp:host:port" for net.Listen.
func listenAddr(spec string) (string, string, error) {
	network, addr, ok := strings.Cut(spec, ":")
	if !ok || (network != "unix" && network != "tcp") || addr == "" {
		return "", "", fmt.Errorf("failed to parse -listen %q: want unix:/path or tcp:host:port",
			spec)
	}
	return network, addr, nil
}

// serveListener serves one connection at a time, as the virtio port does:
// a second host waits until the first has gone.
func serveListener(s *session, l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return fmt.Errorf("failed to accept on %q: %w", l.Addr(), err)
		}
		serveConn(s, c)
	}
}

// serveConn runs one connection to its end.
func serveConn(s *session, c net.Conn) {
	defer c.Close()
	s.connect(c)
	defer s.disconnect(c)
	buf := make([]byte, readBuffer)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			s.feed(buf[:n])
		}
		if err != nil {
			return
		}
	}
}
