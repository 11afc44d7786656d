package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// operation is one kind of OPEN request, parsed and validated.
type operation interface {
	// takesInput says whether the host sends DATA on channel 0.
	takesInput() bool
	// run carries the operation out and ends the stream.
	run(st *stream)
}

// parseRequest reads an OPEN payload. A payload that is not a JSON object,
// or asks for something impossible, is an EINVAL answer on the stream.
func parseRequest(payload []byte) (operation, error) {
	var head struct {
		Op string `json:"op"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("failed to parse OPEN: %w: %v", ErrInvalidRequest, err)
	}
	var op interface {
		operation
		validate() error
	}
	switch head.Op {
	case "exec":
		op = &execRequest{}
	case "signal":
		op = &signalRequest{}
	case "readFile":
		op = &readFileRequest{}
	case "writeFile":
		op = &writeFileRequest{}
	case "connect":
		op = &connectRequest{}
	case "mkfs":
		op = &mkfsRequest{}
	case "mount":
		op = &mountRequest{}
	case "unmount":
		op = &unmountRequest{}
	case "applyLayer":
		op = &applyLayerRequest{}
	case "startWorkload":
		op = &startWorkloadRequest{}
	case "waitWorkload":
		op = &waitWorkloadRequest{}
	case "stopWorkload":
		op = &stopWorkloadRequest{}
	case "logs":
		op = &logsRequest{}
	default:
		return nil, fmt.Errorf("failed to open %q: %w: unknown op", head.Op, ErrInvalidRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(op); err != nil {
		return nil, fmt.Errorf("failed to parse %q request: %w: %v", head.Op, ErrInvalidRequest, err)
	}
	if err := op.validate(); err != nil {
		return nil, err
	}
	return op, nil
}

func invalid(op, format string, args ...any) error {
	return fmt.Errorf("failed to run %q: %w: %s", op, ErrInvalidRequest, fmt.Sprintf(format, args...))
}
