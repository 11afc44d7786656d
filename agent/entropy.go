package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// ioctls of /dev/urandom (linux/random.h), the same on amd64 and arm64.
const (
	// rndAddEntropy is _IOW('R', 0x03, int[2]).
	rndAddEntropy = 0x40085203
	// rndReseedCRNG is _IO('R', 0x07).
	rndReseedCRNG = 0x5207
)

// addEntropy mixes seed into the kernel pool, credited at 8 bits a byte,
// then forces the CRNG to reseed from it. Clones of one snapshot share
// their RNG state until this runs.
func addEntropy(seed []byte) error {
	f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("failed to open %q: %w", "/dev/urandom", err)
	}
	defer f.Close()

	// struct rand_pool_info { int entropy_count; int buf_size; __u32 buf[]; }
	// padded to whole u32 words so the kernel reads only our memory.
	info := make([]byte, 8+(len(seed)+3)/4*4)
	binary.NativeEndian.PutUint32(info[0:], uint32(8*len(seed)))
	binary.NativeEndian.PutUint32(info[4:], uint32(len(seed)))
	copy(info[8:], seed)

	fd := f.Fd()
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, rndAddEntropy,
		uintptr(unsafe.Pointer(&info[0])))
	if errno != 0 {
		return fmt.Errorf("failed to add entropy: %w", errno)
	}
	_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, rndReseedCRNG, 0)
	if errno != 0 {
		return fmt.Errorf("failed to reseed the CRNG: %w", errno)
	}
	return nil
}
