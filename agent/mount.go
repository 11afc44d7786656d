package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

type mountRequest struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	FSType   string `json:"fstype"`
	ReadOnly bool   `json:"readOnly"`
}

func (r *mountRequest) takesInput() bool { return false }

func (r *mountRequest) validate() error {
	if !filepath.IsAbs(r.Source) || !filepath.IsAbs(r.Target) {
		return invalid("mount", "`source` and `target` must be absolute paths, got %q and %q",
			r.Source, r.Target)
	}
	if r.FSType == "" {
		r.FSType = "ext4"
	}
	return nil
}

// run mounts the device, creating the mount point if missing.
func (r *mountRequest) run(st *stream) {
	if err := os.MkdirAll(r.Target, 0o755); err != nil {
		st.fail(fmt.Errorf("failed to create mount point %q: %w", r.Target, err))
		return
	}
	var flags uintptr
	if r.ReadOnly {
		flags = syscall.MS_RDONLY
	}
	if err := syscall.Mount(r.Source, r.Target, r.FSType, flags, mountData(r.FSType)); err != nil {
		st.fail(fmt.Errorf("failed to mount %q on %q: %w", r.Source, r.Target, err))
		return
	}
	st.opened(struct{}{})
	st.result(struct{}{})
}

type unmountRequest struct {
	Target string `json:"target"`
}

func (r *unmountRequest) takesInput() bool { return false }

func (r *unmountRequest) validate() error {
	if !filepath.IsAbs(r.Target) {
		return invalid("unmount", "`target` must be an absolute path, got %q", r.Target)
	}
	return nil
}

// run writes everything out first: the host copies or snapshots the disk
// as soon as the RESULT arrives, and unmounting leaves ext4 marked clean.
func (r *unmountRequest) run(st *stream) {
	syscall.Sync()
	if err := syscall.Unmount(r.Target, 0); err != nil {
		st.fail(fmt.Errorf("failed to unmount %q: %w", r.Target, err))
		return
	}
	syscall.Sync()
	st.opened(struct{}{})
	st.result(struct{}{})
}

// checkDevice makes sure path is a block device, so a typo cannot format
// a regular file the host did not mean.
func checkDevice(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("failed to use device %q: %w", path, err)
	}
	if fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
		return fmt.Errorf("failed to use device %q: %w: not a block device", path,
			syscall.ENOTBLK)
	}
	return nil
}

// mountData is the file system specific options of every mount. mkfs
// leaves ext4's inode tables for the kernel to zero in the background on
// the first read-write mount; the disks are new, sparse and read as zeros
// already, and in a VM booted from an overlay that zeroing would only
// fill the overlay, so the kernel is told not to.
func mountData(fstype string) string {
	if fstype == "ext4" {
		return "noinit_itable"
	}
	return ""
}
