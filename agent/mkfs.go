package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"time"
)

// mke2fsPath is Debian's mke2fs, which scripts/build-guest.sh copies into
// the initramfs with its libraries: busybox has no mkfs.ext4.
const mke2fsPath = "/sbin/mke2fs"

// mkfsOptions make a small file system quickly. The root file system is
// written once by applyLayer and then read through a copy-on-write
// overlay by VMs that are thrown away, so it needs no journal (8 MiB of a
// 256 MiB disk) and no blocks reserved for root. Inode tables are left
// unzeroed: the disk is new and reads as zeros (see mountData). Measured
// under tcg on 256 MiB, all variants took 0.10-0.18 s, noise included.
var mkfsOptions = []string{"-F", "-q", "-t", "ext4", "-m", "0",
	"-O", "^has_journal", "-E", "lazy_itable_init=1,nodiscard"}

// labelPattern keeps labels to what ext4 stores (16 bytes) and to
// characters that need no quoting anywhere.
var labelPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{0,16}$`)

type mkfsRequest struct {
	Device string `json:"device"`
	FSType string `json:"fstype"`
	Label  string `json:"label"`
}

func (r *mkfsRequest) takesInput() bool { return false }

func (r *mkfsRequest) validate() error {
	if !filepath.IsAbs(r.Device) {
		return invalid("mkfs", "`device` must be an absolute path, got %q", r.Device)
	}
	if r.FSType == "" {
		r.FSType = "ext4"
	}
	if r.FSType != "ext4" {
		return invalid("mkfs", "`fstype` must be \"ext4\", got %q", r.FSType)
	}
	if !labelPattern.MatchString(r.Label) {
		return invalid("mkfs", "`label` must be at most 16 of A-Z a-z 0-9 . _ -, got %q",
			r.Label)
	}
	return nil
}

func (r *mkfsRequest) run(st *stream) {
	if err := checkDevice(r.Device); err != nil {
		st.fail(err)
		return
	}
	st.opened(struct{}{})
	started := time.Now()
	argv := append([]string{mke2fsPath}, mkfsOptions...)
	if r.Label != "" {
		argv = append(argv, "-L", r.Label)
	}
	argv = append(argv, r.Device)
	if _, err := runTool(st.sess.cfg.reaper, argv); err != nil {
		st.fail(fmt.Errorf("failed to make a file system on %q: %w", r.Device, err))
		return
	}
	ms := float64(time.Since(started).Microseconds()) / 1000
	st.result(map[string]float64{"durationMs": ms})
}
