package main

import (
	"fmt"
	"syscall"
)

type signalRequest struct {
	PID    int    `json:"pid"`
	Signal string `json:"signal"`
	Group  bool   `json:"group"`

	sig syscall.Signal
}

func (r *signalRequest) takesInput() bool { return false }

func (r *signalRequest) validate() error {
	if r.PID <= 0 {
		return invalid("signal", "`pid` must be a process id, got %d", r.PID)
	}
	if r.Signal == "" {
		r.Signal = "SIGTERM"
	}
	sig, err := parseSignal(r.Signal)
	if err != nil {
		return err
	}
	r.sig = sig
	return nil
}

// run sends the signal. The stream follows the usual life, OPENED then
// RESULT, so a host handles every operation alike.
func (r *signalRequest) run(st *stream) {
	target := r.PID
	if r.Group {
		target = -r.PID
	}
	if err := syscall.Kill(target, r.sig); err != nil {
		st.fail(fmt.Errorf("failed to send %s to %d: %w", r.Signal, target, err))
		return
	}
	st.opened(struct{}{})
	st.result(struct{}{})
}
