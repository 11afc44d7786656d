package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// dialTimeout bounds a connect to a guest port that never answers, which
// the host sees as ETIMEDOUT.
const dialTimeout = 10 * time.Second

type connectRequest struct {
	Port int    `json:"port"`
	Host string `json:"host"`
}

func (r *connectRequest) takesInput() bool { return true }

func (r *connectRequest) validate() error {
	if r.Port <= 0 || r.Port > 65535 {
		return invalid("connect", "`port` must be 1-65535, got %d", r.Port)
	}
	if r.Host == "" {
		r.Host = "127.0.0.1"
	}
	return nil
}

// run relays bytes between channel 0 and a TCP connection inside the
// guest. Each direction ends on its own (a half-close); the stream ends
// when both have.
func (r *connectRequest) run(st *stream) {
	addr := net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		st.fail(fmt.Errorf("failed to connect to %q: %w", addr, err))
		return
	}
	conn := c.(*net.TCPConn)
	defer conn.Close()
	st.onHalt(func(stopReason) { _ = conn.SetDeadline(time.Now()) })
	st.opened(struct{}{})

	done := make(chan error, 2)
	st.sess.log.goSafe("connect reader", func() {
		_, err := copyOut(st, 0, conn)
		if err == nil {
			st.sendEOF(0)
		}
		done <- err
	})
	st.sess.log.goSafe("connect writer", func() { done <- copyIn(st, conn) })
	for range 2 {
		if err := <-done; err != nil {
			if st.stopReason() != running {
				st.end()
			} else {
				st.fail(fmt.Errorf("failed to relay %q: %w", addr, err))
			}
			return
		}
	}
	st.result(struct{}{})
}

// copyIn writes channel 0 to the connection, granting the window back as
// the socket takes the bytes, and half-closes it at the host's EOF.
func copyIn(st *stream, conn *net.TCPConn) error {
	for {
		data, err := st.in.next()
		if errors.Is(err, io.EOF) {
			return conn.CloseWrite()
		}
		if err != nil {
			return err
		}
		if _, err := conn.Write(data); err != nil {
			return err
		}
		st.grantConsumed(len(data))
	}
}
