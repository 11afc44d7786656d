package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// After the process exits, its output pipes may still be held open by a
// background child (`sh -c 'daemon &'`). The agent keeps reading while
// data flows and stops at the first pause of drainIdle, or after drainMax
// bytes, which is more than a pipe can hold when its writer exits.
const (
	drainIdle = 100 * time.Millisecond
	drainMax  = 1 << 20
)

// execution supervises one started process until its RESULT.
type execution struct {
	st     *stream
	req    *execRequest
	proc   *process
	exited atomic.Bool
	pumps  sync.WaitGroup
}

func (x *execution) supervise() {
	st, p := x.st, x.proc
	st.onHalt(func(reason stopReason) {
		if reason != stopFinished {
			x.killGroup()
		}
	})
	st.setControl(x.control)
	for i, f := range p.outputs {
		x.pumps.Add(1)
		st.sess.log.goSafe("output pump", func() { x.pump(byte(i+1), f) })
	}
	if p.stdin != nil {
		st.sess.log.goSafe("input feeder", func() { feedInput(st, p.stdin, p.master != nil) })
	}

	ex, timedOut := x.waitExit()
	stoppedEarly := st.stopReason() != running
	x.exited.Store(true)
	x.setReadDeadlines(time.Now().Add(drainIdle))
	x.waitPumps()
	p.close()

	if stoppedEarly {
		st.end()
		return
	}
	if p.master != nil {
		st.sendEOF(2)
	}
	st.result(x.result(ex, timedOut))
}

// waitExit waits for the process, killing its group when the timeout
// passes. A CANCEL kills it from the stream's halt hook.
func (x *execution) waitExit() (exitStatus, bool) {
	if x.req.TimeoutMs <= 0 {
		return <-x.proc.exited, false
	}
	d := time.Duration(x.req.TimeoutMs * float64(time.Millisecond))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ex := <-x.proc.exited:
		return ex, false
	case <-timer.C:
		x.st.sess.log.Debugf("stream %d: timed out after %v", x.st.id, d)
		x.killGroup()
		return <-x.proc.exited, true
	}
}

// waitPumps waits for all output to reach the host; a CANCEL meanwhile
// cuts the drain short.
func (x *execution) waitPumps() {
	done := make(chan struct{})
	go func() {
		x.pumps.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-x.st.stop:
		x.setReadDeadlines(time.Now())
		<-done
	}
}

func (x *execution) setReadDeadlines(t time.Time) {
	for _, f := range x.proc.outputs {
		// Pipes and pty masters are pollable, so this cannot fail.
		_ = f.SetReadDeadline(t)
	}
}

// killGroup kills the process and everything in its process group, so a
// timeout or CANCEL also reaches the children and the pipes close.
func (x *execution) killGroup() {
	_ = syscall.Kill(-x.proc.pid, syscall.SIGKILL)
	if !x.exited.Load() {
		// The leader may have moved to a group of its own.
		_ = syscall.Kill(x.proc.pid, syscall.SIGKILL)
	}
}

func (x *execution) result(ex exitStatus, timedOut bool) execResult {
	ms := float64(ex.at.Sub(x.proc.started).Microseconds()) / 1000
	r := execResult{TimedOut: timedOut, DurationMs: ms, PeakRssKib: ex.rusage.Maxrss}
	if ex.status.Signaled() {
		name := signalName(ex.status.Signal())
		r.Signal = &name
	} else {
		code := ex.status.ExitStatus()
		r.ExitCode = &code
	}
	return r
}

type execControl struct {
	Signal      string   `json:"signal"`
	SignalGroup string   `json:"signalGroup"`
	Resize      *ttySize `json:"resize"`
}

func (x *execution) control(payload []byte) error {
	var c execControl
	if err := json.Unmarshal(payload, &c); err != nil {
		return fmt.Errorf("failed to parse CONTROL: %w", err)
	}
	if x.exited.Load() {
		return nil
	}
	var errs []error
	if c.Signal != "" {
		errs = append(errs, signalProcess(x.proc.pid, c.Signal))
	}
	if c.SignalGroup != "" {
		errs = append(errs, signalProcess(-x.proc.pid, c.SignalGroup))
	}
	if c.Resize != nil && x.proc.master != nil {
		errs = append(errs, setWinsize(x.proc.master, *c.Resize))
	}
	return errors.Join(errs...)
}

func signalProcess(pid int, name string) error {
	sig, err := parseSignal(name)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("failed to send %s to %d: %w", name, pid, err)
	}
	return nil
}
