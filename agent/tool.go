package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// toolOutputMax bounds what a helper program's output adds to an error.
const toolOutputMax = 4 << 10

// runTool runs a helper program of the initramfs, such as mke2fs, to its
// end through the reaper, and returns its combined output. A non-zero
// exit is an error that quotes the output.
func runTool(r *reaper, argv []string) (string, error) {
	rd, wr, err := os.Pipe()
	if err != nil {
		return "", fmt.Errorf("failed to create a pipe: %w", err)
	}
	defer rd.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		_ = wr.Close()
		return "", fmt.Errorf("failed to open %q: %w", os.DevNull, err)
	}
	attr := &syscall.ProcAttr{
		Dir:   "/",
		Env:   []string{"PATH=" + defaultPath},
		Files: []uintptr{null.Fd(), wr.Fd(), wr.Fd()},
	}
	_, exited, err := r.spawn(func() (int, error) {
		return syscall.ForkExec(argv[0], argv, attr)
	})
	_ = wr.Close()
	_ = null.Close()
	if err != nil {
		return "", fmt.Errorf("failed to start %q: %w", argv[0], err)
	}
	out, _ := io.ReadAll(io.LimitReader(rd, toolOutputMax))
	_, _ = io.Copy(io.Discard, rd)
	ex := <-exited
	text := strings.TrimSpace(string(out))
	switch {
	case ex.status.Signaled():
		return text, fmt.Errorf("%q was killed by %s: %s", argv[0],
			signalName(ex.status.Signal()), text)
	case ex.status.ExitStatus() != 0:
		return text, fmt.Errorf("%q exited with %d: %s", argv[0],
			ex.status.ExitStatus(), text)
	}
	return text, nil
}
