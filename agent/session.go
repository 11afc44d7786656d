package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// sessionConfig holds what a session needs from its surroundings, so tests
// can run the real protocol code without touching the host's clock.
type sessionConfig struct {
	log    *logger
	reaper *reaper
	// setClock and addEntropy apply the handshake; nil means the agent
	// was told not to (it is not PID 1), which HELLO_ACK reports.
	setClock   func(unixNs int64) error
	addEntropy func(seed []byte) error
	// rootErr says why the image's root could not be entered at boot;
	// HELLO_ACK carries it.
	rootErr string
}

// session is the agent's side of the protocol. It outlives connections:
// streams keep running while no host is connected and end only when the
// next HELLO arrives, since only then is it certain the old host is gone.
type session struct {
	cfg    sessionConfig
	log    *logger
	out    *outbox
	system systemInfo

	// feedMu serialises input: a connection that is ending and the next
	// one may overlap for a moment, and frames must not interleave.
	feedMu sync.Mutex
	dec    *decoder

	mu        sync.Mutex
	sink      io.Writer // nil while no host is connected
	hello     bool      // a HELLO of our version arrived on this connection
	streams   map[uint32]*stream
	idleSince time.Time // when the last host left; zero while connected
	workload  *workload // nil until startWorkload; never ends with a stream
}

// writeBatch is how much queued output one write to the host carries.
const writeBatch = 256 << 10

func newSession(cfg sessionConfig) *session {
	s := &session{
		cfg:       cfg,
		log:       cfg.log,
		out:       newOutbox(),
		dec:       newDecoder(),
		system:    readSystemInfo(),
		streams:   make(map[uint32]*stream),
		idleSince: time.Now(),
	}
	s.log.goForever("writer", s.writeLoop)
	return s
}

// connect starts a connection whose output goes to w. The host speaks
// first: nothing is decoded before its SYNC.
func (s *session) connect(w io.Writer) {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	s.mu.Lock()
	s.sink = w
	s.hello = false
	s.idleSince = time.Time{}
	s.mu.Unlock()
	s.dec.reset()
	s.log.Debugf("host connected")
}

// disconnect notes that the host writing to w went away and drops output
// queued for it. A connection that was already replaced changes nothing.
func (s *session) disconnect(w io.Writer) {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	s.mu.Lock()
	if s.sink != w {
		s.mu.Unlock()
		return
	}
	s.sink = nil
	s.hello = false
	s.idleSince = time.Now()
	s.out.drop()
	s.mu.Unlock()
	s.dec.reset()
	s.log.Debugf("host disconnected")
}

// idle reports whether no host is connected, and since when.
func (s *session) idle() (bool, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sink == nil, s.idleSince
}

// feed decodes input from the host and acts on every complete frame. It
// never blocks on a stream, so one slow consumer cannot stall the others.
func (s *session) feed(p []byte) {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	s.dec.feed(p, s.dispatch)
}

func (s *session) writeLoop() {
	var buf []byte
	for {
		buf = s.out.take(buf[:0], writeBatch)
		s.mu.Lock()
		sink := s.sink
		s.mu.Unlock()
		if sink == nil {
			continue
		}
		if _, err := sink.Write(buf); err != nil {
			// The reader sees the same disconnection and handles it.
			s.log.Debugf("failed to write to host: %v", err)
		}
		if cap(buf) > 2*writeBatch {
			buf = nil
		}
	}
}

// push queues a frame for a stream that may already be gone. Streams
// ended by a new HELLO are unregistered under the same lock, so none of
// their frames can follow the HELLO_ACK.
func (s *session) push(st *stream, b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := s.streams[st.id] == st
	if live && s.sink != nil {
		s.out.push(b)
	}
	return live
}

// finish queues the last frame of a stream and unregisters it.
func (s *session) finish(st *stream, typ byte, payload []byte) {
	s.mu.Lock()
	if s.streams[st.id] == st {
		delete(s.streams, st.id)
		if s.sink != nil {
			s.out.push(encodeFrame(frame{typ, st.id, payload}))
		}
	}
	s.mu.Unlock()
	st.halt(stopFinished)
}

// sendError answers a frame that has no live stream to carry the answer.
func (s *session) sendError(id uint32, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sink != nil {
		s.out.push(encodeFrame(frame{frameError, id, errorPayload(err)}))
	}
}

func (s *session) lookup(id uint32) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hello {
		return nil
	}
	return s.streams[id]
}

// abortAll ends every stream without a last frame: the host they belonged
// to is gone.
func (s *session) abortAll() {
	s.mu.Lock()
	old := make([]*stream, 0, len(s.streams))
	for id, st := range s.streams {
		old = append(old, st)
		delete(s.streams, id)
	}
	s.out.drop()
	s.mu.Unlock()
	for _, st := range old {
		st.halt(stopAborted)
	}
	if len(old) > 0 {
		s.log.Debugf("ended %d streams of the previous connection", len(old))
	}
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorPayload(err error) []byte {
	return mustJSON(errorBody{Code: errorCode(err), Message: err.Error()})
}

// mustJSON encodes values whose types cannot fail to encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("failed to encode %T: %v", v, err))
	}
	return b
}
