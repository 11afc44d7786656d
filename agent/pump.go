package main

import (
	"io"
	"os"
	"time"
)

// eot is the terminal's end-of-file character (^D): a tty has no
// half-close, so the host's EOF on stdin is typed instead.
const eot = 0x04

// pump copies one output of the process to the host on channel ch, never
// more than the host's window allows, and ends with EOF. After the process
// has exited each read waits at most drainIdle, since a background child
// may hold the pipe open for ever.
func (x *execution) pump(ch byte, f *os.File) {
	defer x.pumps.Done()
	st := x.st
	buf := make([]byte, maxDataChunk)
	afterExit := 0
	for afterExit <= drainMax {
		n := st.out[ch].take(len(buf))
		if n == 0 {
			break
		}
		exited := x.exited.Load()
		if exited {
			_ = f.SetReadDeadline(time.Now().Add(drainIdle))
		}
		m, err := f.Read(buf[:n])
		st.out[ch].refund(n - m)
		if m > 0 {
			st.sendData(ch, buf[:m])
		}
		if exited {
			afterExit += m
		}
		// End of file, EIO from a pty whose last holder closed it, the
		// drain deadline or a close: the output is over in every case.
		if err != nil {
			break
		}
	}
	st.sendEOF(ch)
}

// feedInput writes the host's channel 0 to the process's stdin and grants
// the window back as the process takes the bytes. Once the process stops
// reading, the rest is discarded so the host is never left blocked.
func feedInput(st *stream, w *os.File, tty bool) {
	broken := false
	for {
		data, err := st.in.next()
		if err == io.EOF && !broken {
			if tty {
				_, _ = w.Write([]byte{eot})
			} else {
				_ = w.Close()
			}
		}
		if err != nil {
			return
		}
		if !broken {
			if _, err := w.Write(data); err != nil {
				broken = true
			}
		}
		st.grantConsumed(len(data))
	}
}
