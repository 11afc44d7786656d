package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// exitStatus is what wait4 reported for one process.
type exitStatus struct {
	status syscall.WaitStatus
	rusage syscall.Rusage
	at     time.Time
}

// reaper is the one place that calls wait4. As PID 1 the agent inherits
// every orphan in the guest, so it must reap with wait4(-1); a per-process
// wait elsewhere would race with it and lose exit statuses. Processes the
// agent started are registered under the same lock that wait4 runs under,
// taken before fork, so even a process that exits at once is dispatched.
type reaper struct {
	log     *logger
	mu      sync.Mutex
	waiting map[int]chan exitStatus
}

func startReaper(log *logger) *reaper {
	r := &reaper{log: log, waiting: make(map[int]chan exitStatus)}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	log.goForever("reaper", func() {
		for range sigs {
			r.reap()
		}
	})
	// Reap whatever exited before the handler was installed.
	r.reap()
	return r
}

// reap collects every child that has exited. SIGCHLD signals coalesce, so
// one signal may stand for many children.
func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		var ru syscall.Rusage
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, &ru)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- exitStatus{status: ws, rusage: ru, at: time.Now()}
			continue
		}
		r.log.Debugf("reaped orphan %d", pid)
	}
}

// spawn runs start, which forks a process, and registers the process
// before the reaper can see it exit.
func (r *reaper) spawn(start func() (int, error)) (int, <-chan exitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := start()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan exitStatus, 1)
	r.waiting[pid] = ch
	return pid, ch, nil
}
