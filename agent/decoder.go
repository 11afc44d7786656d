package main

import (
	"bytes"
	"encoding/binary"
)

// decoder turns the byte stream from the host into frames. It starts in
// hunting state, discarding input until SYNC, and returns to hunting on any
// framing error without consuming the bytes that caused it, so a SYNC that
// arrives where a length was expected is found by the rescan.
type decoder struct {
	buf           []byte
	hunting       bool
	framingErrors int
}

func newDecoder() *decoder {
	return &decoder{hunting: true}
}

// reset forgets buffered input and hunts again, as on a new connection.
func (d *decoder) reset() {
	d.buf = d.buf[:0]
	d.hunting = true
}

// feed decodes as many frames from p as are complete. emit returns false
// when the frame was malformed in a way only the caller can judge (a DATA
// beyond the window, a bad JSON payload): that is a framing error too.
func (d *decoder) feed(p []byte, emit func(frame) bool) {
	d.buf = append(d.buf, p...)
	start := 0
	for {
		rest := d.buf[start:]
		if d.hunting {
			i := bytes.Index(rest, syncMarker)
			if i < 0 {
				// Keep a tail that may be the start of a SYNC split
				// across reads.
				start += max(0, len(rest)-(len(syncMarker)-1))
				break
			}
			start += i + len(syncMarker)
			d.hunting = false
			continue
		}
		if len(rest) < 4 {
			break
		}
		length := binary.BigEndian.Uint32(rest)
		if length < 5 || length > 5+maxPayload {
			d.framingError()
			continue
		}
		if uint32(len(rest)-4) < length {
			break
		}
		f := frame{
			typ:     rest[4],
			stream:  binary.BigEndian.Uint32(rest[5:]),
			payload: bytes.Clone(rest[headerLen : 4+length]),
		}
		if f.payload == nil {
			f.payload = []byte{}
		}
		start += 4 + int(length)
		if !emit(f) {
			d.framingError()
		}
	}
	d.compact(start)
}

func (d *decoder) framingError() {
	d.framingErrors++
	d.hunting = true
}

// compact drops consumed bytes, and gives back a large buffer once it is
// no longer needed so one big frame does not pin a megabyte forever.
func (d *decoder) compact(start int) {
	n := copy(d.buf, d.buf[start:])
	d.buf = d.buf[:n]
	if cap(d.buf) > 2*(headerLen+maxPayload) && n < maxDataChunk {
		d.buf = append([]byte(nil), d.buf...)
	}
}
