package main

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"
)

// ifreqFlags is struct ifreq (linux/if.h) as used by SIOC[GS]IFFLAGS: the
// name, then a short of flags in a 24-byte union.
type ifreqFlags struct {
	name  [syscall.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// bringUpLoopback sets lo up; the kernel then gives it 127.0.0.1 by itself.
// Guest services listen on loopback and connect dials it.
func bringUpLoopback() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("failed to open a socket for %q: %w", "lo", err)
	}
	defer syscall.Close(fd)

	var req ifreqFlags
	copy(req.name[:], "lo")
	if err := ifIoctl(fd, syscall.SIOCGIFFLAGS, &req); err != nil {
		return fmt.Errorf("failed to read the flags of %q: %w", "lo", err)
	}
	req.flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	if err := ifIoctl(fd, syscall.SIOCSIFFLAGS, &req); err != nil {
		return fmt.Errorf("failed to bring %q up: %w", "lo", err)
	}
	return nil
}

func ifIoctl(fd int, req uintptr, ifr *ifreqFlags) error {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req,
		uintptr(unsafe.Pointer(ifr)))
	if errno != 0 {
		return errno
	}
	return nil
}

// loopbackAddrs lists the addresses of lo, for the debug log.
func loopbackAddrs() string {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return err.Error()
	}
	addrs, err := lo.Addrs()
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(addrs)
}
