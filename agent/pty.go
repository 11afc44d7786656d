package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// openPTY allocates a pseudo-terminal of the given size. The master is
// opened through package os so that it is pollable: a read blocked on it
// can be cut short with a deadline when the process is gone.
func openPTY(size ttySize) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to open %q: %w", "/dev/ptmx", err)
	}
	defer func() {
		if err != nil {
			_ = master.Close()
		}
	}()

	var unlock int32
	if err = ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		return nil, nil, fmt.Errorf("failed to unlock the pty: %w", err)
	}
	var n uint32
	if err = ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		return nil, nil, fmt.Errorf("failed to get the pty number: %w", err)
	}
	if err = setWinsize(master, size); err != nil {
		return nil, nil, err
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	slave, err = os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to open %q: %w", name, err)
	}
	return master, slave, nil
}

// winsize is struct winsize of linux/termios.h.
type winsize struct {
	rows, cols, xpixel, ypixel uint16
}

func setWinsize(master *os.File, size ttySize) error {
	ws := winsize{rows: size.Rows, cols: size.Cols}
	if err := ioctl(master, syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		return fmt.Errorf("failed to resize the tty to %dx%d: %w", size.Cols, size.Rows, err)
	}
	return nil
}

// ioctl runs an ioctl on f without taking its descriptor out of the
// poller, which f.Fd() would do.
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	err = conn.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
