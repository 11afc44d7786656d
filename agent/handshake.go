package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// agentVersion is reported in HELLO_ACK so the host can log what it met.
const agentVersion = "0.1.0"

// minEntropy is the least seed the host must send (docs/protocol.md); less
// is still mixed in, but HELLO_ACK says it was too little.
const minEntropy = 32

// ErrNotApplied reports a handshake step the agent was told to skip.
var ErrNotApplied = errors.New("skipped: the agent is not PID 1")

type helloRequest struct {
	Version    int    `json:"version"`
	TimeUnixNs string `json:"timeUnixNs"`
	Entropy    string `json:"entropy"`
}

type helloAck struct {
	Version        int    `json:"version"`
	Agent          string `json:"agent"`
	Kernel         string `json:"kernel"`
	Arch           string `json:"arch"`
	BootTimeUnixNs string `json:"bootTimeUnixNs"`
	ClockSetErr    string `json:"clockSetErr"`
	EntropyErr     string `json:"entropyErr"`
	RootErr        string `json:"rootErr"`
}

// handshake applies a HELLO: the clock and entropy fix-up every restored
// clone needs. Failures are reported in the answer, never fatal.
func (s *session) handshake(req helloRequest) helloAck {
	ack := helloAck{
		Version: protocolVersion,
		Agent:   agentVersion,
		Kernel:  s.system.kernel,
		Arch:    s.system.arch,
		RootErr: s.cfg.rootErr,
	}
	if req.Version != protocolVersion {
		s.log.Printf("host speaks protocol version %d, agent speaks %d",
			req.Version, protocolVersion)
		skipped := fmt.Sprintf("skipped: protocol version %d is not supported", req.Version)
		ack.ClockSetErr, ack.EntropyErr = skipped, skipped
		ack.BootTimeUnixNs = bootTimeUnixNs()
		return ack
	}
	ack.ClockSetErr = errText(s.applyClock(req.TimeUnixNs))
	ack.EntropyErr = errText(s.applyEntropy(req.Entropy))
	ack.BootTimeUnixNs = bootTimeUnixNs()
	s.log.Debugf("handshake done, clock %q, entropy %q", ack.ClockSetErr, ack.EntropyErr)
	return ack
}

func (s *session) applyClock(text string) error {
	ns, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return fmt.Errorf("failed to parse timeUnixNs %q: %w", text, err)
	}
	if s.cfg.setClock == nil {
		return ErrNotApplied
	}
	return s.cfg.setClock(ns)
}

func (s *session) applyEntropy(text string) error {
	seed, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return fmt.Errorf("failed to decode entropy: %w", err)
	}
	if s.cfg.addEntropy == nil {
		return ErrNotApplied
	}
	if err := s.cfg.addEntropy(seed); err != nil {
		return err
	}
	if len(seed) < minEntropy {
		return fmt.Errorf("entropy of %d bytes is below the %d required", len(seed), minEntropy)
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// setClock sets the wall clock; a restored clone wakes with the time of
// the snapshot.
func setClock(unixNs int64) error {
	tv := syscall.NsecToTimeval(unixNs)
	if err := syscall.Settimeofday(&tv); err != nil {
		return fmt.Errorf("failed to set the clock: %w", err)
	}
	return nil
}

// clockBoottime counts time since boot including suspend (linux/time.h).
const clockBoottime = 7

// bootTimeUnixNs is the wall-clock time of boot, as a decimal string like
// timeUnixNs.
func bootTimeUnixNs() string {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockBoottime,
		uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return ""
	}
	return strconv.FormatInt(time.Now().UnixNano()-ts.Nano(), 10)
}
