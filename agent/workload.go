package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	// ErrWorkloadStarted reports a second startWorkload; a VM runs one
	// workload. Its ERROR code is EBUSY.
	ErrWorkloadStarted = errors.New("a workload was already started")
	// ErrNoWorkload reports waiting for or stopping a workload that was
	// never started. Its ERROR code is ESRCH.
	ErrNoWorkload = errors.New("no workload was started")
)

type startWorkloadRequest struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
	User string   `json:"user"`
}

func (r *startWorkloadRequest) takesInput() bool { return false }

func (r *startWorkloadRequest) validate() error {
	if len(r.Argv) == 0 || r.Argv[0] == "" {
		return invalid("startWorkload", "`argv` must name a program, got %q", r.Argv)
	}
	if r.Cwd == "" {
		r.Cwd = "/"
	}
	if !filepath.IsAbs(r.Cwd) {
		return invalid("startWorkload", "`cwd` must be an absolute path, got %q", r.Cwd)
	}
	return nil
}

// workload is the VM's main process. It belongs to the session, not to a
// stream, so it outlives host connections.
type workload struct {
	pid     int
	started time.Time
	logs    *logRing
	done    chan struct{} // closed once it exited and its output is in
	exit    exitStatus    // valid once done is closed
}

func (r *startWorkloadRequest) run(st *stream) {
	s := st.sess
	s.mu.Lock()
	w := s.workload
	s.mu.Unlock()
	if w != nil {
		st.fail(fmt.Errorf("failed to start %q: %w (pid %d)", r.Argv[0],
			ErrWorkloadStarted, w.pid))
		return
	}
	w, err := r.start(s)
	if err != nil {
		st.fail(err)
		return
	}
	s.mu.Lock()
	if s.workload != nil {
		// Lost a race with a concurrent start: this one must go.
		s.mu.Unlock()
		_ = syscall.Kill(-w.pid, syscall.SIGKILL)
		st.fail(fmt.Errorf("failed to start %q: %w", r.Argv[0], ErrWorkloadStarted))
		return
	}
	s.workload = w
	s.mu.Unlock()
	s.log.Printf("started workload %q as pid %d", r.Argv, w.pid)
	st.opened(map[string]int{"pid": w.pid})
	st.result(map[string]int{"pid": w.pid})
}

func (r *startWorkloadRequest) start(s *session) (*workload, error) {
	u, err := resolveUser(r.User, passwdFile, groupFile)
	if err != nil {
		return nil, err
	}
	// Docker creates a missing working directory too.
	if err := os.MkdirAll(r.Cwd, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create working directory %q: %w", r.Cwd, err)
	}
	env := r.environ(u)
	path, err := resolveProgram(r.Argv[0], r.Cwd, env)
	if err != nil {
		return nil, workloadStartError(r.Argv[0], err)
	}

	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("failed to open %q: %w", os.DevNull, err)
	}
	defer null.Close()
	var readers, writers [2]*os.File
	defer func() {
		for _, f := range writers {
			if f != nil {
				_ = f.Close()
			}
		}
	}()
	for i := range readers {
		if readers[i], writers[i], err = os.Pipe(); err != nil {
			closeAll(readers[:])
			return nil, fmt.Errorf("failed to create a pipe: %w", err)
		}
	}
	attr := &syscall.ProcAttr{
		Dir:   r.Cwd,
		Env:   env,
		Files: []uintptr{null.Fd(), writers[0].Fd(), writers[1].Fd()},
		Sys: &syscall.SysProcAttr{
			Setpgid:    true,
			Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: u.groups},
		},
	}
	w := &workload{logs: newLogRing(workloadLogMax), done: make(chan struct{})}
	pid, exited, err := s.cfg.reaper.spawn(func() (int, error) {
		w.started = time.Now()
		return syscall.ForkExec(path, r.Argv, attr)
	})
	if err != nil {
		closeAll(readers[:])
		return nil, workloadStartError(r.Argv[0], execFailure(path, err))
	}
	w.pid = pid
	s.log.goSafe("workload", func() { w.supervise(s, exited, readers) })
	return w, nil
}

// environ adds HOME from the image's passwd when env lacks it, and a
// default PATH when env gives none, as Docker does.
func (r *startWorkloadRequest) environ(u execUser) []string {
	env := append([]string(nil), r.Env...)
	has := func(key string) bool {
		for _, kv := range env {
			if strings.HasPrefix(kv, key+"=") {
				return true
			}
		}
		return false
	}
	if !has("PATH") {
		env = append(env, "PATH="+defaultPath)
	}
	if !has("HOME") {
		env = append(env, "HOME="+u.home)
	}
	return env
}

// workloadStartError names the program in an error whose code says why
// it cannot run: ENOENT when missing, EACCES when not executable.
func workloadStartError(argv0 string, err error) error {
	var se *startError
	if !errors.As(err, &se) {
		return err
	}
	code := syscall.EACCES
	if se.exitCode == exitNotFound {
		code = syscall.ENOENT
	}
	return fmt.Errorf("failed to start workload %q: %s: %w", argv0, se.reason, code)
}

func closeAll(files []*os.File) {
	for _, f := range files {
		if f != nil {
			_ = f.Close()
		}
	}
}

// supervise collects the workload's output until it exits and its pipes
// are drained, then records the exit.
func (w *workload) supervise(s *session, exited <-chan exitStatus, outputs [2]*os.File) {
	var pumps sync.WaitGroup
	afterExit := make(chan struct{})
	for i, f := range outputs {
		pumps.Add(1)
		s.log.goSafe("workload output", func() {
			defer pumps.Done()
			w.collect(s, byte(i+1), f, afterExit)
		})
	}
	ex := <-exited
	close(afterExit)
	for _, f := range outputs {
		// Wakes a read that is blocked with no deadline yet; pipes are
		// pollable, so this cannot fail.
		_ = f.SetReadDeadline(time.Now().Add(drainIdle))
	}
	pumps.Wait()
	closeAll(outputs[:])
	w.exit = ex
	w.logs.close()
	close(w.done)
	s.log.Printf("workload pid %d ended: %s", w.pid, describeExit(ex))
}

// collect reads one output into the ring. After the workload exits, a
// background child may hold the pipe open for ever, so reading stops at
// the first pause of drainIdle, as for an exec.
func (w *workload) collect(s *session, ch byte, f *os.File, afterExit <-chan struct{}) {
	buf := make([]byte, maxDataChunk)
	exited := false
	for {
		if !exited {
			select {
			case <-afterExit:
				exited = true
			default:
			}
		}
		if exited {
			_ = f.SetReadDeadline(time.Now().Add(drainIdle))
		}
		n, err := f.Read(buf)
		if n > 0 {
			w.logs.add(ch, buf[:n])
			if s.log.debug {
				s.log.Printf("workload %d: %s", ch, strings.TrimRight(string(buf[:n]), "\n"))
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !exited {
				continue
			}
			return
		}
	}
}
