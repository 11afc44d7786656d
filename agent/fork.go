package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// spawn starts the process of an exec request with its stdio wired to
// pipes or a pseudo-terminal. It forks through the reaper, which alone
// collects exit statuses.
func spawn(r *reaper, req *execRequest, path string, env []string) (*process, error) {
	p := &process{}
	var childEnds []*os.File
	defer func() {
		// The child has its own copies; the agent's must go, or the
		// pipes never report end-of-file.
		for _, f := range childEnds {
			_ = f.Close()
		}
	}()

	stdio, sys, childEnds, err := wireStdio(p, req)
	if err != nil {
		p.close()
		return nil, err
	}
	sys.Credential = credential(req)
	attr := &syscall.ProcAttr{
		Dir:   req.Cwd,
		Env:   env,
		Files: []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd()},
		Sys:   sys,
	}
	pid, exited, err := r.spawn(func() (int, error) {
		p.started = time.Now()
		return syscall.ForkExec(path, req.Argv, attr)
	})
	if err != nil {
		p.close()
		return nil, execFailure(path, err)
	}
	p.pid, p.exited = pid, exited
	return p, nil
}

// wireStdio creates the process's stdin, stdout and stderr. It returns
// the child's ends, which the caller closes once the child has them.
func wireStdio(p *process, req *execRequest) ([3]*os.File, *syscall.SysProcAttr,
	[]*os.File, error) {
	var stdio [3]*os.File
	var child []*os.File
	sys := &syscall.SysProcAttr{}

	if req.TTY != nil {
		master, slave, err := openPTY(*req.TTY)
		if err != nil {
			return stdio, nil, nil, err
		}
		child = append(child, slave)
		p.master = master
		p.outputs = []*os.File{master}
		// All three are the terminal, as under `docker run -t`: programs
		// test stdin to decide whether they are interactive. Without
		// `stdin` the host just never types.
		stdio = [3]*os.File{slave, slave, slave}
		// A new session whose controlling terminal is the pty, as a
		// login shell would have.
		sys.Setsid, sys.Setctty, sys.Ctty = true, true, 0
		if req.Stdin {
			p.stdin = master
		}
	} else {
		// A process group of its own, so a timeout reaches its children.
		sys.Setpgid = true
		for i := 1; i <= 2; i++ {
			rd, wr, err := os.Pipe()
			if err != nil {
				return stdio, nil, child, fmt.Errorf("failed to create a pipe: %w", err)
			}
			p.outputs = append(p.outputs, rd)
			child = append(child, wr)
			stdio[i] = wr
		}
		if req.Stdin {
			rd, wr, err := os.Pipe()
			if err != nil {
				return stdio, nil, child, fmt.Errorf("failed to create a pipe: %w", err)
			}
			p.stdin = wr
			child = append(child, rd)
			stdio[0] = rd
		}
	}
	if stdio[0] == nil {
		null, err := os.Open(os.DevNull)
		if err != nil {
			return stdio, nil, child, fmt.Errorf("failed to open %q: %w", os.DevNull, err)
		}
		child = append(child, null)
		stdio[0] = null
	}
	return stdio, sys, child, nil
}

// credential is nil when the request names no user, so the process runs
// as the agent does.
func credential(req *execRequest) *syscall.Credential {
	if req.UID == nil && req.GID == nil && req.Groups == nil {
		return nil
	}
	uid := uint32(os.Getuid())
	if req.UID != nil {
		uid = *req.UID
	}
	gid := uint32(os.Getgid())
	if req.GID != nil {
		gid = *req.GID
	} else if u, ok := lookupUser(uid); ok {
		gid = u.gid
	}
	groups := req.Groups
	if groups == nil {
		groups = []uint32{}
	}
	return &syscall.Credential{Uid: uid, Gid: gid, Groups: groups}
}
