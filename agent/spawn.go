package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// defaultPath is the PATH of a process whose request gives no env, and
// the search path when the given env has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Exit codes a shell uses for a program it cannot run.
const (
	exitNotFound      = 127
	exitNotExecutable = 126
)

// startError is a program that cannot be run: reported like a shell does,
// with an exit code, not as a failed request.
type startError struct {
	exitCode int
	reason   string
}

func (e *startError) Error() string { return e.reason }

// process is a started exec with the agent's ends of its stdio.
type process struct {
	pid     int
	exited  <-chan exitStatus
	started time.Time
	stdin   *os.File   // pipe or pty master; nil when stdin is /dev/null
	outputs []*os.File // stdout and stderr pipes, or the pty master alone
	master  *os.File   // pty master, nil without a tty
}

func (p *process) close() {
	for _, f := range append(p.outputs, p.stdin, p.master) {
		if f != nil {
			_ = f.Close() // a second Close of a shared master is harmless
		}
	}
}

func (r *execRequest) environ() []string {
	if r.Env != nil {
		return r.Env
	}
	uid := uint32(os.Getuid())
	if r.UID != nil {
		uid = *r.UID
	}
	home := "/"
	if u, ok := lookupUser(uid); ok && u.home != "" {
		home = u.home
	}
	env := []string{"PATH=" + defaultPath, "HOME=" + home}
	if r.TTY != nil {
		env = append(env, "TERM=xterm")
	}
	return env
}

func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("failed to use working directory %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("failed to use working directory %q: %w", dir, syscall.ENOTDIR)
	}
	return nil
}

// resolveProgram finds argv0 the way execvp does: as a path when it has a
// slash, else in the PATH of env, relative entries taken from cwd.
func resolveProgram(argv0, cwd string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		path := argv0
		if !filepath.IsAbs(path) {
			path = filepath.Join(cwd, path)
		}
		if err := checkExecutable(path); err != nil {
			return "", err
		}
		return path, nil
	}
	var denied error
	for _, dir := range filepath.SplitList(searchPath(env)) {
		if dir == "" {
			dir = "."
		}
		path := filepath.Join(dir, argv0)
		if !filepath.IsAbs(path) {
			path = filepath.Join(cwd, path)
		}
		err := checkExecutable(path)
		if err == nil {
			return path, nil
		}
		if e := (*startError)(nil); errors.As(err, &e) && e.exitCode == exitNotExecutable {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", &startError{exitCode: exitNotFound, reason: "command not found"}
}

func searchPath(env []string) string {
	path, found := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path, found = v, true
		}
	}
	if !found {
		return defaultPath
	}
	return path
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return &startError{exitCode: exitNotFound, reason: "no such file or directory"}
	case fi.IsDir():
		return &startError{exitCode: exitNotExecutable, reason: "is a directory"}
	case fi.Mode()&0o111 == 0:
		return &startError{exitCode: exitNotExecutable, reason: "permission denied"}
	}
	return nil
}

// execFailure turns an error of fork+exec into a startError when it is
// the program that could not be run; other errors (a bad user, say) are
// the request's fault and stay errors.
func execFailure(path string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	switch errno {
	case syscall.ENOENT:
		return &startError{exitCode: exitNotFound, reason: errno.Error()}
	case syscall.EACCES, syscall.ENOEXEC, syscall.EISDIR, syscall.ETXTBSY,
		syscall.ELOOP, syscall.ENOTDIR:
		return &startError{exitCode: exitNotExecutable, reason: errno.Error()}
	}
	return fmt.Errorf("failed to start %q: %w", path, err)
}
