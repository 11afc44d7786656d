package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// defaultFileMode applies when writeFile names no mode.
const defaultFileMode = 0o644

type writeFileRequest struct {
	Path   string  `json:"path"`
	Mode   *uint32 `json:"mode"`
	UID    *int    `json:"uid"`
	GID    *int    `json:"gid"`
	Mkdirs bool    `json:"mkdirs"`
}

func (r *writeFileRequest) takesInput() bool { return true }

func (r *writeFileRequest) validate() error {
	if !filepath.IsAbs(r.Path) {
		return invalid("writeFile", "`path` must be absolute, got %q", r.Path)
	}
	if r.Mode != nil && *r.Mode > 0o7777 {
		return invalid("writeFile", "`mode` must be at most 0o7777, got %#o", *r.Mode)
	}
	return nil
}

// run writes the host's channel 0 to a temporary file beside the path and
// renames it into place, so readers in the guest see the old file or the
// whole new one, never a part.
func (r *writeFileRequest) run(st *stream) {
	dir := filepath.Dir(r.Path)
	if r.Mkdirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			st.fail(err)
			return
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(r.Path)+".supermachine-*")
	if err != nil {
		st.fail(err)
		return
	}
	st.opened(struct{}{})

	total, err := r.fill(st, tmp)
	if err == nil {
		err = r.install(tmp)
	}
	if err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		if errors.Is(err, ErrStreamEnded) {
			st.end()
		} else {
			st.fail(err)
		}
		return
	}
	st.result(map[string]int64{"bytes": total})
}

// fill copies channel 0 into f until the host's EOF.
func (r *writeFileRequest) fill(st *stream, f *os.File) (int64, error) {
	var total int64
	for {
		data, err := st.in.next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if _, err := f.Write(data); err != nil {
			return total, fmt.Errorf("failed to write %q: %w", r.Path, err)
		}
		total += int64(len(data))
		st.grantConsumed(len(data))
	}
}

// install gives the file its owner, then its mode (chown clears set-id
// bits, so the order matters), and renames it over the path.
func (r *writeFileRequest) install(f *os.File) error {
	uid, gid := -1, -1
	if r.UID != nil {
		uid = *r.UID
	}
	if r.GID != nil {
		gid = *r.GID
	}
	if uid != -1 || gid != -1 {
		if err := f.Chown(uid, gid); err != nil {
			return fmt.Errorf("failed to chown %q: %w", r.Path, err)
		}
	}
	mode := uint32(defaultFileMode)
	if r.Mode != nil {
		mode = *r.Mode
	}
	if err := syscall.Fchmod(int(f.Fd()), mode); err != nil {
		return fmt.Errorf("failed to chmod %q: %w", r.Path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write %q: %w", r.Path, err)
	}
	if err := os.Rename(f.Name(), r.Path); err != nil {
		return fmt.Errorf("failed to rename over %q: %w", r.Path, err)
	}
	return nil
}
