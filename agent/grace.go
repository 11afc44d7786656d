package main

import (
	"syscall"
	"time"
)

// graceCheck is how often the agent looks whether a host is connected.
const graceCheck = 250 * time.Millisecond

// watchGrace calls expire once no host has been connected for the grace
// period, counted from boot or from when the last host left. A test
// runner killed without cleanup thus leaves no VM behind.
func watchGrace(s *session, grace time.Duration, expire func()) {
	if grace <= 0 {
		return
	}
	for range time.Tick(graceCheck) {
		idle, since := s.idle()
		if idle && time.Since(since) >= grace {
			expire()
		}
	}
}

// powerOff syncs the file systems and powers the VM off, which makes QEMU
// exit. It returns only if the kernel refused, and the watch tries again.
func powerOff(log *logger, grace time.Duration) {
	log.Printf("no host for %v: powering off", grace)
	syscall.Sync()
	err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	log.Printf("failed to power off: %v", err)
}
