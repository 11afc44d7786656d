package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// mountSpec is one file system PID 1 mounts at boot.
type mountSpec struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

const nosuidNodev = syscall.MS_NOSUID | syscall.MS_NODEV

// bootMounts are mounted in order: /proc first, since it tells what is
// mounted already, and /dev before what lives inside it.
var bootMounts = []mountSpec{
	{"proc", "/proc", "proc", nosuidNodev | syscall.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", nosuidNodev | syscall.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755"},
	// gid 5 is the tty group; mode 0620 lets it write to terminals.
	{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC,
		"newinstance,ptmxmode=0666,mode=0620,gid=5"},
	{"tmpfs", "/dev/shm", "tmpfs", nosuidNodev, "mode=1777"},
	{"tmpfs", "/tmp", "tmpfs", nosuidNodev, "mode=1777"},
	{"tmpfs", "/run", "tmpfs", nosuidNodev, "mode=0755"},
}

// devLinks are the /dev entries programs expect that devtmpfs lacks.
var devLinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

// mountAll mounts the boot file systems. Each failure is collected and the
// rest still tried: a guest with a missing /dev/shm can still run most
// things, and the host learns why others fail from their errors.
func mountAll() error {
	var errs []error
	for _, m := range bootMounts {
		if err := mountOnce(m); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ensurePtmx(); err != nil {
		errs = append(errs, err)
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[0], l[1]); err != nil && !errors.Is(err, os.ErrExist) {
			errs = append(errs, fmt.Errorf("failed to link %q: %w", l[1], err))
		}
	}
	return errors.Join(errs...)
}

func mountOnce(m mountSpec) error {
	if mounted(m.target) {
		return nil
	}
	if err := os.MkdirAll(m.target, 0o755); err != nil {
		return fmt.Errorf("failed to create mount point %q: %w", m.target, err)
	}
	err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data)
	if err == syscall.EINVAL && m.fstype == "devpts" {
		// Older kernels reject some devpts options; a plain instance
		// still gives working ptys.
		err = syscall.Mount(m.source, m.target, m.fstype, m.flags, "ptmxmode=0666")
	}
	if err != nil && err != syscall.EBUSY {
		return fmt.Errorf("failed to mount %s on %q: %w", m.fstype, m.target, err)
	}
	return nil
}

// mounted reports whether path is a mount point. Mounting again would
// stack a second instance, which is not an error but hides the first.
func mounted(path string) bool {
	if path == "/proc" {
		_, err := os.Stat("/proc/self/mountinfo")
		return err == nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ...
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && fields[4] == path {
			return true
		}
	}
	return false
}

// ensurePtmx makes /dev/ptmx open the multiplexer of the devpts mounted on
// /dev/pts. Since Linux 4.7 the device node does so by itself; without a
// node, a symlink to the instance's own ptmx works.
func ensurePtmx() error {
	if _, err := os.Lstat("/dev/ptmx"); err == nil {
		return nil
	}
	if err := os.Symlink("pts/ptmx", "/dev/ptmx"); err != nil {
		return fmt.Errorf("failed to link %q: %w", "/dev/ptmx", err)
	}
	return nil
}

// openLog gives PID 1 standard descriptors on /dev/console, which the
// kernel opens for init only if the initramfs has the node, and returns
// where log lines go: the console, else the kernel log.
func openLog() consoleLog {
	var out consoleLog
	if console, err := os.OpenFile("/dev/console", os.O_RDWR|syscall.O_NOCTTY, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			_ = syscall.Dup3(int(console.Fd()), fd, 0)
		}
		out.console = console
	}
	if kmsg, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
		out.kmsg = kmsg
	}
	return out
}
