package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

type readFileRequest struct {
	Path string `json:"path"`
}

type readFileOpened struct {
	Size int64  `json:"size"`
	Mode uint32 `json:"mode"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
}

func (r *readFileRequest) takesInput() bool { return false }

func (r *readFileRequest) validate() error {
	if r.Path == "" {
		return invalid("readFile", "`path` must not be empty")
	}
	return nil
}

// run streams the file on channel 0 in window-sized pieces, so a file of
// any size passes through a few hundred KiB of memory.
func (r *readFileRequest) run(st *stream) {
	f, err := os.Open(r.Path)
	if err != nil {
		st.fail(err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		st.fail(err)
		return
	}
	if fi.IsDir() {
		st.fail(fmt.Errorf("failed to read %q: %w", r.Path, syscall.EISDIR))
		return
	}
	opened := readFileOpened{Size: fi.Size()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		opened.Mode = sys.Mode & 0o7777
		opened.UID, opened.GID = sys.Uid, sys.Gid
	}
	st.opened(opened)

	total, err := copyOut(st, 0, f)
	switch {
	case err == nil:
		st.sendEOF(0)
		st.result(map[string]int64{"bytes": total})
	case errors.Is(err, ErrStreamEnded):
		st.end()
	default:
		st.fail(fmt.Errorf("failed to read %q: %w", r.Path, err))
	}
}

// copyOut sends r on channel ch until end of file or until the stream
// stops, within the host's window.
func copyOut(st *stream, ch byte, r io.Reader) (int64, error) {
	buf := make([]byte, maxDataChunk)
	var total int64
	for {
		n := st.out[ch].take(len(buf))
		if n == 0 {
			return total, ErrStreamEnded
		}
		m, err := r.Read(buf[:n])
		st.out[ch].refund(n - m)
		if m > 0 {
			st.sendData(ch, buf[:m])
			total += int64(m)
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
