package main

import (
	"fmt"
	"syscall"
)

// openFilesLimit is what Docker (through containerd) gives every container:
// databases and caches size their connection tables from RLIMIT_NOFILE and
// complain, or shrink, under the kernel's default of 1024/4096.
const openFilesLimit = 1 << 20

// raiseOpenFilesLimit sets PID 1's open-file limit, which every workload and
// exec inherits. Go records a limit set through syscall.Setrlimit as the one
// to hand to children, so they see this value rather than the boot default.
func raiseOpenFilesLimit() error {
	limit := syscall.Rlimit{Cur: openFilesLimit, Max: openFilesLimit}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		return fmt.Errorf("failed to raise the open-file limit to %d: %w", openFilesLimit, err)
	}
	return nil
}
