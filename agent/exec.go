package main

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
)

type ttySize struct {
	Rows uint16 `json:"rows"`
	Cols uint16 `json:"cols"`
}

type execRequest struct {
	Argv      []string `json:"argv"`
	Env       []string `json:"env"`
	Cwd       string   `json:"cwd"`
	UID       *uint32  `json:"uid"`
	GID       *uint32  `json:"gid"`
	Groups    []uint32 `json:"groups"`
	User      string   `json:"user"`
	TTY       *ttySize `json:"tty"`
	Stdin     bool     `json:"stdin"`
	TimeoutMs float64  `json:"timeoutMs"`
}

type execResult struct {
	ExitCode   *int    `json:"exitCode"`
	Signal     *string `json:"signal"`
	TimedOut   bool    `json:"timedOut"`
	DurationMs float64 `json:"durationMs"`
	PeakRssKib int64   `json:"peakRssKib"`
}

func (r *execRequest) takesInput() bool { return r.Stdin }

func (r *execRequest) validate() error {
	if len(r.Argv) == 0 || r.Argv[0] == "" {
		return invalid("exec", "`argv` must name a program, got %q", r.Argv)
	}
	if r.TimeoutMs < 0 || math.IsNaN(r.TimeoutMs) {
		return invalid("exec", "`timeoutMs` must be 0 or more, got %v", r.TimeoutMs)
	}
	if r.Cwd == "" {
		r.Cwd = "/"
	}
	if !filepath.IsAbs(r.Cwd) {
		return invalid("exec", "`cwd` must be an absolute path, got %q", r.Cwd)
	}
	if r.User != "" && (r.UID != nil || r.GID != nil) {
		return invalid("exec", "give either `user` or `uid`/`gid`, not both")
	}
	return nil
}

func (r *execRequest) run(st *stream) {
	if err := r.resolveUser(); err != nil {
		st.fail(err)
		return
	}
	if err := checkDir(r.Cwd); err != nil {
		st.fail(err)
		return
	}
	env := r.environ()
	path, err := resolveProgram(r.Argv[0], r.Cwd, env)
	var notStarted *startError
	if errors.As(err, &notStarted) {
		r.reportNotStarted(st, notStarted)
		return
	}
	proc, err := spawn(st.sess.cfg.reaper, r, path, env)
	if errors.As(err, &notStarted) {
		r.reportNotStarted(st, notStarted)
		return
	}
	if err != nil {
		st.fail(err)
		return
	}
	st.sess.log.Debugf("stream %d: started %q as pid %d", st.id, r.Argv, proc.pid)
	st.opened(map[string]int{"pid": proc.pid})
	x := &execution{st: st, req: r, proc: proc}
	x.supervise()
}

// reportNotStarted answers as a shell would for a program that cannot be
// run, so exec(["missing"]) and exec(["sh","-c","missing"]) look alike.
// There is no process, so OPENED carries pid 0.
func (r *execRequest) reportNotStarted(st *stream, e *startError) {
	st.opened(map[string]int{"pid": 0})
	ch := byte(2)
	if r.TTY != nil {
		ch = 1
	}
	msg := fmt.Sprintf("supermachine: %s: %s\n", r.Argv[0], e.reason)
	if n := st.out[ch].take(len(msg)); n == len(msg) {
		st.sendData(ch, []byte(msg))
	}
	st.sendEOF(1)
	st.sendEOF(2)
	code := e.exitCode
	st.result(execResult{ExitCode: &code})
}

// resolveUser turns a `docker exec --user` value into ids, read from the
// image's passwd and group files as for the workload.
func (r *execRequest) resolveUser() error {
	if r.User == "" {
		return nil
	}
	u, err := resolveUser(r.User, passwdFile, groupFile)
	if err != nil {
		return err
	}
	r.UID, r.GID, r.Groups = &u.uid, &u.gid, u.groups
	return nil
}
