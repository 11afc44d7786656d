package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Frame types of protocol version 1 (docs/protocol.md, "Frame types").
const (
	frameHello    byte = 0x01
	frameHelloAck byte = 0x02
	frameOpen     byte = 0x03
	frameOpened   byte = 0x04
	frameData     byte = 0x05
	frameEOF      byte = 0x06
	frameWindow   byte = 0x07
	frameControl  byte = 0x08
	frameResult   byte = 0x09
	frameError    byte = 0x0A
	frameCancel   byte = 0x0B
)

const (
	protocolVersion = 1

	// maxPayload bounds a frame so that a corrupt length can never make a
	// receiver buffer more than 1 MiB.
	maxPayload = 1 << 20

	// headerLen is length (4) + type (1) + stream (4). The length field
	// counts everything after itself, so its smallest valid value is 5.
	headerLen = 9

	// maxDataChunk keeps each DATA frame at 64 KiB so that one busy
	// transfer holds the shared port only briefly.
	maxDataChunk = 64 << 10

	// initialWindow is the send window of every channel when its stream
	// opens, in both directions.
	initialWindow = 262144

	// windowBatch is how much input must be consumed before the agent
	// grants it back: a quarter of the window, so small writes do not each
	// cost a WINDOW frame, while the host never runs dry.
	windowBatch = initialWindow / 4
)

// syncMarker precedes every HELLO and HELLO_ACK. It starts with 0xFF, which
// no valid length does, so it is detected wherever a frame was expected.
var syncMarker = []byte("\xffSMSYNC\n")

// ErrMalformed reports a known frame type whose payload has the wrong shape.
var ErrMalformed = errors.New("malformed frame payload")

type frame struct {
	typ     byte
	stream  uint32
	payload []byte
}

// appendFrame encodes one frame onto dst.
func appendFrame(dst []byte, typ byte, stream uint32, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(5+len(payload)))
	dst = append(dst, typ)
	dst = binary.BigEndian.AppendUint32(dst, stream)
	return append(dst, payload...)
}

func encodeFrame(f frame) []byte {
	return appendFrame(make([]byte, 0, headerLen+len(f.payload)), f.typ, f.stream, f.payload)
}

// encodeData builds a whole DATA frame in one allocation, since it is on
// the hot path of every transfer.
func encodeData(stream uint32, ch byte, data []byte) []byte {
	b := make([]byte, 0, headerLen+1+len(data))
	b = binary.BigEndian.AppendUint32(b, uint32(6+len(data)))
	b = append(b, frameData)
	b = binary.BigEndian.AppendUint32(b, stream)
	b = append(b, ch)
	return append(b, data...)
}

func dataPayload(ch byte, data []byte) []byte {
	return append([]byte{ch}, data...)
}

func parseData(p []byte) (byte, []byte, error) {
	if len(p) < 1 {
		return 0, nil, fmt.Errorf("failed to parse DATA: %w", ErrMalformed)
	}
	return p[0], p[1:], nil
}

func parseEOF(p []byte) (byte, error) {
	if len(p) != 1 {
		return 0, fmt.Errorf("failed to parse EOF: %w", ErrMalformed)
	}
	return p[0], nil
}

func windowPayload(ch byte, increment uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{ch}, increment)
}

func parseWindow(p []byte) (byte, uint32, error) {
	if len(p) != 5 {
		return 0, 0, fmt.Errorf("failed to parse WINDOW: %w", ErrMalformed)
	}
	return p[0], binary.BigEndian.Uint32(p[1:]), nil
}
