package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"time"
)

// logger writes short lines to the console. The agent is quiet by default:
// boot, the port it found and failures; debug adds per-frame detail.
type logger struct {
	mu    sync.Mutex
	w     io.Writer
	debug bool
}

const logPrefix = "supermachine-agent: "

func newLogger(w io.Writer, debug bool) *logger {
	return &logger{w: w, debug: debug}
}

func (l *logger) Printf(format string, args ...any) {
	line := logPrefix + fmt.Sprintf(format, args...) + "\n"
	l.mu.Lock()
	defer l.mu.Unlock()
	// A console that fails to take a log line has nowhere to report it.
	_, _ = io.WriteString(l.w, line)
}

func (l *logger) Debugf(format string, args ...any) {
	if l.debug {
		l.Printf(format, args...)
	}
}

// goSafe runs fn in a goroutine that cannot take PID 1 down: a panic is
// logged with its stack and the goroutine ends.
func (l *logger) goSafe(name string, fn func()) {
	go func() {
		defer l.recoverPanic(name)
		fn()
	}()
}

// goForever runs a loop that must not stop, such as the writer to the
// host: after a panic it is logged and started again.
func (l *logger) goForever(name string, fn func()) {
	go func() {
		for {
			func() {
				defer l.recoverPanic(name)
				fn()
			}()
			time.Sleep(restartPause)
		}
	}()
}

// restartPause keeps a loop that panics at once from spinning.
const restartPause = time.Second

func (l *logger) recoverPanic(name string) {
	if r := recover(); r != nil {
		l.Printf("panic in %s: %v\n%s", name, r, debug.Stack())
	}
}

// consoleLog sends log lines to the console and, when the console refuses
// them, to the kernel log instead: a serial port whose driver failed to
// start answers every write with EIO, and PID 1 must not go mute then.
type consoleLog struct {
	console io.Writer // nil if /dev/console could not be opened
	kmsg    io.Writer // nil if /dev/kmsg could not be opened
}

// kmsgLevel is KERN_NOTICE: shown on the console unless it is `quiet`,
// and always kept in dmesg.
const kmsgLevel = "<5>"

func (c consoleLog) Write(b []byte) (int, error) {
	if c.console != nil {
		if n, err := c.console.Write(b); err == nil {
			return n, nil
		}
	}
	if c.kmsg == nil {
		return 0, io.ErrClosedPipe
	}
	// One write is one kernel log record.
	if _, err := c.kmsg.Write(append([]byte(kmsgLevel), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}
