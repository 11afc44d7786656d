package main

import (
	"sync"
)

// stopReason says why a stream stopped; it decides the stream's last frame.
type stopReason int

const (
	running      stopReason = iota
	stopFinished            // the operation sent its RESULT or ERROR
	stopCanceled            // the host sent CANCEL: answer ECANCELED
	stopAborted             // a new HELLO: the host is gone, send nothing
)

// stream is one operation's view of the session: its channels, its windows
// and the means to end it.
type stream struct {
	id   uint32
	sess *session
	in   *inbox     // channel 0 from the host; nil if the op reads none
	out  [3]*window // send windows of channels 0, 1 and 2

	mu        sync.Mutex
	reason    stopReason
	onHalts   []func(stopReason)
	onControl func(payload []byte) error
	stop      chan struct{} // closed when the stream stops for any reason
}

func newStream(id uint32, s *session, input bool) *stream {
	st := &stream{id: id, sess: s, stop: make(chan struct{})}
	if input {
		st.in = newInbox()
	}
	for i := range st.out {
		st.out[i] = newWindow()
	}
	return st
}

// halt stops the stream: blocked pumps wake up and the registered hooks
// run (an exec kills its process group there). Only the first call counts.
func (st *stream) halt(reason stopReason) {
	st.mu.Lock()
	if st.reason != running {
		st.mu.Unlock()
		return
	}
	st.reason = reason
	hooks := st.onHalts
	st.onHalts = nil
	close(st.stop)
	st.mu.Unlock()

	for _, w := range st.out {
		w.close()
	}
	if st.in != nil {
		st.in.close()
	}
	for _, fn := range hooks {
		fn(reason)
	}
}

// onHalt registers fn to run when the stream stops, or runs it now if it
// already has, so a CANCEL racing with process start still kills it.
func (st *stream) onHalt(fn func(stopReason)) {
	st.mu.Lock()
	reason := st.reason
	if reason == running {
		st.onHalts = append(st.onHalts, fn)
	}
	st.mu.Unlock()
	if reason != running {
		fn(reason)
	}
}

func (st *stream) stopReason() stopReason {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.reason
}

func (st *stream) setControl(fn func(payload []byte) error) {
	st.mu.Lock()
	st.onControl = fn
	st.mu.Unlock()
}

func (st *stream) control(payload []byte) error {
	st.mu.Lock()
	fn := st.onControl
	st.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(payload)
}

func (st *stream) opened(v any) {
	st.sess.push(st, encodeFrame(frame{frameOpened, st.id, mustJSON(v)}))
}

func (st *stream) sendData(ch byte, data []byte) bool {
	return st.sess.push(st, encodeData(st.id, ch, data))
}

func (st *stream) sendEOF(ch byte) {
	st.sess.push(st, encodeFrame(frame{frameEOF, st.id, []byte{ch}}))
}

func (st *stream) sendWindow(ch byte, increment uint32) {
	st.sess.push(st, encodeFrame(frame{frameWindow, st.id, windowPayload(ch, increment)}))
}

// grantConsumed tells the host that n more input bytes were consumed.
func (st *stream) grantConsumed(n int) {
	if inc := st.in.consumed(n); inc > 0 {
		st.sendWindow(0, inc)
	}
}

func (st *stream) result(v any) {
	st.sess.finish(st, frameResult, mustJSON(v))
}

func (st *stream) fail(err error) {
	st.sess.finish(st, frameError, errorPayload(err))
}

// end finishes a stream that stopped early: ECANCELED for a CANCEL,
// nothing at all when a new HELLO aborted it.
func (st *stream) end() {
	if st.stopReason() == stopAborted {
		return
	}
	st.fail(ErrCanceled)
}
