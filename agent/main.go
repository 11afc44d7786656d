// Command supermachine-agent is the guest's PID 1. It prepares the minimal
// system a workload needs, then serves the host over the virtio-serial
// port "agent" (docs/protocol.md) until the VM is powered off.
//
// Run as an ordinary process it skips the PID 1 steps and serves a path or
// a socket given by flags, for development without a VM.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if os.Getpid() == 1 {
		runInit()
		return
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	if err := runDev(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "%s%v\n", logPrefix, err)
		os.Exit(1)
	}
}

// runInit is the life of PID 1. It never returns: an error it can report
// is logged and the agent carries on.
func runInit() {
	log := newLogger(os.Stderr, false)
	ignoreInitSignals()
	mountErr := mountAll()
	log = newLogger(openLog(), false)
	cfg := parseCmdline(readCmdline(), log)
	log.debug = cfg.debug
	log.Printf("starting, version %s", agentVersion)
	if mountErr != nil {
		log.Printf("%v", mountErr)
	}
	if err := syscall.Sethostname([]byte(cfg.hostname)); err != nil {
		log.Printf("failed to set hostname %q: %v", cfg.hostname, err)
	}
	if err := bringUpLoopback(); err != nil {
		log.Printf("%v", err)
	}
	if err := raiseOpenFilesLimit(); err != nil {
		log.Printf("%v", err)
	}
	log.Debugf("loopback addresses: %s", loopbackAddrs())
	rootErr := enterImageRoot(cfg, log)

	s := newSession(sessionConfig{
		log:        log,
		rootErr:    rootErr,
		reaper:     startReaper(log),
		setClock:   setClock,
		addEntropy: addEntropy,
	})
	go watchGrace(s, cfg.grace, func() { powerOff(log, cfg.grace) })
	for {
		serveOnce(s, cfg.portName, log)
		time.Sleep(time.Second)
	}
}

// enterImageRoot switches into the image's root file system when the
// command line names one. A failure is logged and returned for HELLO_ACK:
// the agent keeps serving from the initramfs so the host can see why.
func enterImageRoot(cfg config, log *logger) string {
	if cfg.root == "" {
		return ""
	}
	started := time.Now()
	if err := switchRoot(cfg.root, cfg.rootType); err != nil {
		log.Printf("%v", err)
		return err.Error()
	}
	log.Debugf("switched root to %s in %v", cfg.root, time.Since(started))
	if err := writeEtcFiles(cfg.hostname); err != nil {
		// The workload can run without them; they are not the root.
		log.Printf("%v", err)
	}
	return ""
}

// serveOnce serves the port until reading it fails, which should not
// happen, or a bug panics; either is logged and the port opened again.
func serveOnce(s *session, portName string, log *logger) {
	defer log.recoverPanic("port reader")
	fd := openPortByName(portName, log)
	defer syscall.Close(fd)
	log.Printf("%v; reopening", servePort(s, fd))
}

// ignoreInitSignals keeps signals from ending PID 1. The kernel delivers
// to init only signals it handles, and the Go runtime handles them all,
// some by exiting. Notify, unlike Ignore, is not inherited by children.
func ignoreInitSignals() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP,
		syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE,
		syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU)
	go func() {
		for range sigs {
		}
	}()
}

// runDev serves a file, device or socket as an ordinary process.
func runDev(cfg config) error {
	log := newLogger(os.Stderr, cfg.debug)
	// Orphans of the processes it starts come back to the agent, as
	// they would to PID 1, so timeouts are seen to reap them.
	if err := setChildSubreaper(); err != nil {
		log.Printf("%v", err)
	}
	s := newSession(sessionConfig{log: log, reaper: startReaper(log)})
	go watchGrace(s, cfg.grace, func() {
		log.Printf("no host for %v: exiting", cfg.grace)
		os.Exit(0)
	})
	switch {
	case cfg.listen != "":
		network, addr, err := listenAddr(cfg.listen)
		if err != nil {
			return err
		}
		l, err := net.Listen(network, addr)
		if err != nil {
			return fmt.Errorf("failed to listen on %q: %w", cfg.listen, err)
		}
		log.Printf("listening on %s", cfg.listen)
		return serveListener(s, l)
	case cfg.portPath != "":
		fd, err := openPort(cfg.portPath)
		if err != nil {
			return err
		}
		log.Printf("serving %s", cfg.portPath)
		return servePort(s, fd)
	default:
		fd := openPortByName(cfg.portName, log)
		return servePort(s, fd)
	}
}

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER of linux/prctl.h.
const prSetChildSubreaper = 36

func setChildSubreaper() error {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	if errno != 0 {
		return fmt.Errorf("failed to become a child subreaper: %w", errno)
	}
	return nil
}
