package main

import (
	"bytes"
	"errors"
	"testing"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("EIO") }

// A console that refuses writes sends the line to the kernel log instead.
func TestConsoleLogFallback(t *testing.T) {
	var kmsg bytes.Buffer
	log := newLogger(consoleLog{console: failingWriter{}, kmsg: &kmsg}, false)
	log.Printf("hello %d", 1)
	log.Debugf("hidden")
	if got, want := kmsg.String(), kmsgLevel+logPrefix+"hello 1\n"; got != want {
		t.Errorf("kernel log got %q, want %q", got, want)
	}

	var console bytes.Buffer
	log = newLogger(consoleLog{console: &console, kmsg: &kmsg}, true)
	log.Debugf("shown")
	if console.String() != logPrefix+"shown\n" {
		t.Errorf("console got %q", console.String())
	}
}
