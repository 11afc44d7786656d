package main

import (
	"strconv"
)

type logsRequest struct {
	Since  string `json:"since"`
	Follow bool   `json:"follow"`
	since  int64
}

func (r *logsRequest) takesInput() bool { return false }

func (r *logsRequest) validate() error {
	if r.Since == "" {
		return nil
	}
	ns, err := strconv.ParseInt(r.Since, 10, 64)
	if err != nil || ns < 0 {
		return invalid("logs", "`since` must be unix nanoseconds as a decimal string, got %q",
			r.Since)
	}
	r.since = ns
	return nil
}

// run sends the workload's buffered output from `since` on, in the order
// it was read, and with follow whatever comes until the workload ends.
func (r *logsRequest) run(st *stream) {
	w, err := st.sess.currentWorkload()
	if err != nil {
		st.fail(err)
		return
	}
	st.opened(struct{}{})
	next, truncated := w.logs.start(r.since)
	for {
		chunks, after, lost, closed, changed := w.logs.read(next)
		truncated = truncated || lost
		for _, c := range chunks {
			if !sendAll(st, c.ch, c.data) {
				st.end()
				return
			}
		}
		next = after
		if !r.Follow || (closed && len(chunks) == 0) {
			break
		}
		if len(chunks) > 0 {
			continue
		}
		select {
		case <-changed:
		case <-st.stop:
			st.end()
			return
		}
	}
	st.sendEOF(1)
	st.sendEOF(2)
	st.result(map[string]bool{"truncated": truncated})
}

// sendAll sends data on channel ch as the host's window allows. It
// returns false once the stream has stopped.
func sendAll(st *stream, ch byte, data []byte) bool {
	for len(data) > 0 {
		n := st.out[ch].take(min(len(data), maxDataChunk))
		if n == 0 {
			return false
		}
		st.sendData(ch, data[:n])
		data = data[n:]
	}
	return true
}
