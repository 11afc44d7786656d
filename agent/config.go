package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is what the agent was told at start: by the kernel command line
// when it is PID 1, by flags during development.
type config struct {
	grace    time.Duration // 0: never power off
	hostname string
	debug    bool
	portName string // virtio-serial port to find by name
	portPath string // development: a file or device to serve instead
	listen   string // development: "unix:/path" to serve instead
	root     string // block device holding the image's root; "" for none
	rootType string // its file system type; "" means ext4
}

// Defaults of docs/protocol.md and the kernel command line.
const (
	defaultGrace    = 30 * time.Second
	defaultHostname = "supermachine"
	defaultPortName = "agent"
	cmdlinePrefix   = "supermachine."
)

// parseCmdline reads the supermachine.* parameters from /proc/cmdline. A
// bad value is reported and the default kept: PID 1 must come up anyway.
func parseCmdline(cmdline string, log *logger) config {
	cfg := config{grace: defaultGrace, hostname: defaultHostname, portName: defaultPortName}
	for _, word := range strings.Fields(cmdline) {
		key, value, _ := strings.Cut(word, "=")
		name, ok := strings.CutPrefix(key, cmdlinePrefix)
		if !ok {
			continue
		}
		switch name {
		case "grace":
			secs, err := strconv.ParseFloat(value, 64)
			if err != nil || secs < 0 {
				log.Printf("ignoring %s: want seconds, got %q", word, value)
				continue
			}
			cfg.grace = time.Duration(secs * float64(time.Second))
		case "hostname":
			cfg.hostname = value
		case "debug":
			cfg.debug = value == "" || value == "1" || value == "true"
		case "port":
			cfg.portName = value
		case "root":
			cfg.root = value
		case "rootfstype":
			cfg.rootType = value
		}
	}
	return cfg
}

// parseFlags reads the development flags used when the agent is not PID 1.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("supermachine-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{}
	fs.DurationVar(&cfg.grace, "grace", 0,
		"exit when no host has been connected this long (0: never)")
	fs.BoolVar(&cfg.debug, "debug", false, "log every frame")
	fs.StringVar(&cfg.portName, "port-name", defaultPortName,
		"virtio-serial port to serve, found by name")
	fs.StringVar(&cfg.portPath, "port", "",
		"serve this file or character device instead of a virtio-serial port")
	fs.StringVar(&cfg.listen, "listen", "",
		"serve connections on this socket instead, e.g. unix:/tmp/agent.sock")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("failed to parse arguments: unexpected %q", fs.Arg(0))
	}
	if cfg.portPath != "" && cfg.listen != "" {
		return cfg, fmt.Errorf("failed to parse arguments: give -port or -listen, not both")
	}
	return cfg, nil
}

func readCmdline() string {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return ""
	}
	return string(b)
}
