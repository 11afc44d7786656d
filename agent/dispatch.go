package main

import (
	"encoding/json"
	"fmt"
)

// dispatch acts on one frame from the host. It returns false for a frame
// that is a framing error (docs/protocol.md: a known type with a malformed
// payload, or DATA beyond the window), which sends the decoder hunting.
func (s *session) dispatch(f frame) bool {
	s.log.Debugf("frame type %#x stream %d, %d bytes", f.typ, f.stream, len(f.payload))
	switch f.typ {
	case frameHello:
		return s.handleHello(f.payload)
	case frameOpen:
		return s.handleOpen(f.stream, f.payload)
	case frameData:
		return s.handleData(f.stream, f.payload)
	case frameEOF:
		ch, err := parseEOF(f.payload)
		if err != nil {
			return false
		}
		if st := s.lookup(f.stream); st != nil && ch == 0 && st.in != nil {
			st.in.closeWrite()
		}
	case frameWindow:
		ch, inc, err := parseWindow(f.payload)
		if err != nil {
			return false
		}
		if st := s.lookup(f.stream); st != nil && int(ch) < len(st.out) {
			st.out[ch].grant(inc)
		}
	case frameControl:
		return s.handleControl(f.stream, f.payload)
	case frameCancel:
		if st := s.lookup(f.stream); st != nil {
			st.halt(stopCanceled)
		}
	}
	// Other types travel the other way or are from a later version.
	return true
}

func (s *session) handleHello(payload []byte) bool {
	var req helloRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		s.log.Printf("failed to parse HELLO: %v", err)
		return false
	}
	s.abortAll()
	ack := s.handshake(req)

	s.mu.Lock()
	s.hello = req.Version == protocolVersion
	if s.sink != nil {
		b := append([]byte(nil), syncMarker...)
		s.out.push(appendFrame(b, frameHelloAck, 0, mustJSON(ack)))
	}
	s.mu.Unlock()
	return true
}

func (s *session) handleOpen(id uint32, payload []byte) bool {
	if id == 0 {
		s.sendError(0, fmt.Errorf("failed to open stream 0: %w", ErrProtocol))
		return true
	}
	s.mu.Lock()
	hello := s.hello
	old := s.streams[id]
	if hello {
		delete(s.streams, id)
	}
	s.mu.Unlock()
	if !hello {
		s.sendError(id, fmt.Errorf("failed to open stream %d: %w", id, ErrNoHello))
		return true
	}
	if old != nil {
		// ERROR ends a stream, so the one already using the id ends
		// too: nothing of it may follow.
		old.halt(stopAborted)
		s.sendError(id, fmt.Errorf("failed to open stream %d: %w: id in use", id, ErrProtocol))
		return true
	}
	op, err := parseRequest(payload)
	if err != nil {
		s.sendError(id, err)
		return true
	}

	st := newStream(id, s, op.takesInput())
	s.mu.Lock()
	s.streams[id] = st
	s.mu.Unlock()
	s.log.goSafe(fmt.Sprintf("stream %d", id), func() {
		defer func() {
			if r := recover(); r != nil {
				st.fail(fmt.Errorf("agent failed: %v", r))
				panic(r)
			}
		}()
		op.run(st)
	})
	return true
}

func (s *session) handleData(id uint32, payload []byte) bool {
	ch, data, err := parseData(payload)
	if err != nil {
		return false
	}
	st := s.lookup(id)
	if st == nil || ch != 0 || st.in == nil {
		return true
	}
	if err := st.in.push(data); err != nil {
		s.log.Printf("stream %d: %v", id, err)
		return false
	}
	return true
}

func (s *session) handleControl(id uint32, payload []byte) bool {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(payload, &probe); err != nil {
		s.log.Printf("failed to parse CONTROL for stream %d: %v", id, err)
		return false
	}
	if st := s.lookup(id); st != nil {
		if err := st.control(payload); err != nil {
			s.log.Printf("stream %d: %v", id, err)
		}
	}
	return true
}
