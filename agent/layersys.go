package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// paxXattrPrefix marks extended attributes in PAX records, as written by
// GNU tar, Go's archive/tar and the image builders.
const paxXattrPrefix = "SCHILY.xattr."

// setXattrs applies the entry's extended attributes to p itself, not to
// what a symlink points to. A file system without xattrs, or without the
// namespace, is no error: the image still runs.
func setXattrs(p string, hdr *tar.Header) error {
	for key, value := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(key, paxXattrPrefix)
		if !ok {
			continue
		}
		err := lsetxattr(p, name, []byte(value))
		if errors.Is(err, syscall.ENOTSUP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("failed to set xattr %q on %q: %w", name, hdr.Name, err)
		}
	}
	return nil
}

func lsetxattr(p, name string, value []byte) error {
	pp, err := syscall.BytePtrFromString(p)
	if err != nil {
		return err
	}
	np, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	var vp unsafe.Pointer
	if len(value) > 0 {
		vp = unsafe.Pointer(&value[0])
	}
	_, _, errno := syscall.Syscall6(syscall.SYS_LSETXATTR, uintptr(unsafe.Pointer(pp)),
		uintptr(unsafe.Pointer(np)), uintptr(vp), uintptr(len(value)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// atSymlinkNofollow is AT_SYMLINK_NOFOLLOW of linux/fcntl.h.
const atSymlinkNofollow = 0x100

// setTimes sets the access and modification times of p itself.
func setTimes(p string, mtime time.Time) error {
	pp, err := syscall.BytePtrFromString(p)
	if err != nil {
		return err
	}
	ts := [2]syscall.Timespec{
		syscall.NsecToTimespec(mtime.UnixNano()),
		syscall.NsecToTimespec(mtime.UnixNano()),
	}
	_, _, errno := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(atFdcwd),
		uintptr(unsafe.Pointer(pp)), uintptr(unsafe.Pointer(&ts[0])),
		atSymlinkNofollow, 0, 0)
	if errno != 0 {
		return fmt.Errorf("failed to set the time of %q: %w", p, errno)
	}
	return nil
}

// atFdcwd is AT_FDCWD of linux/fcntl.h, as an unsigned word.
const atFdcwd = ^uintptr(99)

// mkdev encodes a device number as the kernel's new_encode_dev does.
func mkdev(major, minor int64) int {
	ma, mi := uint64(major), uint64(minor)
	return int(mi&0xff | (ma&0xfff)<<8 | (mi&^0xff)<<12 | (ma&^0xfff)<<32)
}
