package main

import (
	"fmt"
	"syscall"
	"time"
)

// defaultStopTimeout is how long stopWorkload waits after its signal
// before SIGKILL, the default of `docker stop`.
const defaultStopTimeout = 10 * time.Second

type workloadResult struct {
	ExitCode   *int    `json:"exitCode"`
	Signal     *string `json:"signal"`
	DurationMs float64 `json:"durationMs"`
}

func (w *workload) result() workloadResult {
	ms := float64(w.exit.at.Sub(w.started).Microseconds()) / 1000
	r := workloadResult{DurationMs: ms}
	if w.exit.status.Signaled() {
		name := signalName(w.exit.status.Signal())
		r.Signal = &name
	} else {
		code := w.exit.status.ExitStatus()
		r.ExitCode = &code
	}
	return r
}

func describeExit(ex exitStatus) string {
	if ex.status.Signaled() {
		return "killed by " + signalName(ex.status.Signal())
	}
	return fmt.Sprintf("exit code %d", ex.status.ExitStatus())
}

func (s *session) currentWorkload() (*workload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.workload == nil {
		return nil, fmt.Errorf("failed to find the workload: %w", ErrNoWorkload)
	}
	return s.workload, nil
}

type waitWorkloadRequest struct{}

func (r *waitWorkloadRequest) takesInput() bool { return false }
func (r *waitWorkloadRequest) validate() error  { return nil }

// run answers once the workload has exited and its output is collected,
// at once if it already has.
func (r *waitWorkloadRequest) run(st *stream) {
	w, err := st.sess.currentWorkload()
	if err != nil {
		st.fail(err)
		return
	}
	st.opened(map[string]int{"pid": w.pid})
	select {
	case <-w.done:
		st.result(w.result())
	case <-st.stop:
		st.end()
	}
}

type stopWorkloadRequest struct {
	Signal    string   `json:"signal"`
	TimeoutMs *float64 `json:"timeoutMs"`
}

func (r *stopWorkloadRequest) takesInput() bool { return false }

func (r *stopWorkloadRequest) validate() error {
	if r.Signal == "" {
		r.Signal = "SIGTERM"
	}
	if _, err := parseSignal(r.Signal); err != nil {
		return invalid("stopWorkload", "`signal` %q: %v", r.Signal, err)
	}
	if r.TimeoutMs != nil && !(*r.TimeoutMs >= 0) {
		return invalid("stopWorkload", "`timeoutMs` must be 0 or more, got %v", *r.TimeoutMs)
	}
	return nil
}

// run signals the workload's process group, then kills the group once the
// timeout passes, as `docker stop` does.
func (r *stopWorkloadRequest) run(st *stream) {
	w, err := st.sess.currentWorkload()
	if err != nil {
		st.fail(err)
		return
	}
	st.opened(map[string]int{"pid": w.pid})
	timeout := defaultStopTimeout
	if r.TimeoutMs != nil {
		timeout = time.Duration(*r.TimeoutMs * float64(time.Millisecond))
	}
	select {
	case <-w.done:
		st.result(w.result())
		return
	default:
	}
	sig, _ := parseSignal(r.Signal)
	w.signal(sig)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-w.done:
	case <-timer.C:
		st.sess.log.Printf("workload pid %d still running %v after %s: killing it",
			w.pid, timeout, r.Signal)
		w.signal(syscall.SIGKILL)
		<-w.done
	case <-st.stop:
		st.end()
		return
	}
	st.result(w.result())
}

// signal reaches the whole process group, and the leader too in case it
// moved to a group of its own.
func (w *workload) signal(sig syscall.Signal) {
	_ = syscall.Kill(-w.pid, sig)
	select {
	case <-w.done:
	default:
		_ = syscall.Kill(w.pid, sig)
	}
}
