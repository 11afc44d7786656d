package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// vectors is test/vectors/protocol.json, shared with the TypeScript host.
type vectors struct {
	Sync          string         `json:"sync"`
	MaxPayload    int            `json:"maxPayload"`
	InitialWindow int            `json:"initialWindow"`
	Frames        []frameVector  `json:"frames"`
	Streams       []streamVector `json:"streams"`
}

type frameVector struct {
	Name       string  `json:"name"`
	Type       byte    `json:"type"`
	Stream     uint32  `json:"stream"`
	PayloadHex string  `json:"payloadHex"`
	Hex        string  `json:"hex"`
	Channel    *byte   `json:"channel"`
	DataHex    *string `json:"dataHex"`
	Increment  *uint32 `json:"increment"`
}

type streamVector struct {
	Name           string        `json:"name"`
	InputHex       string        `json:"inputHex"`
	SplitEveryByte bool          `json:"splitEveryByte"`
	Frames         []frameVector `json:"frames"`
	FramingErrors  int           `json:"framingErrors"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("../test/vectors/protocol.json")
	if err != nil {
		t.Fatalf("failed to read the vectors: %v", err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("failed to parse the vectors: %v", err)
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestVectorConstants(t *testing.T) {
	v := loadVectors(t)
	if !bytes.Equal(unhex(t, v.Sync), syncMarker) {
		t.Errorf("SYNC = %x, vectors say %s", syncMarker, v.Sync)
	}
	if v.MaxPayload != maxPayload || v.InitialWindow != initialWindow {
		t.Errorf("maxPayload %d, initialWindow %d; vectors say %d, %d",
			maxPayload, initialWindow, v.MaxPayload, v.InitialWindow)
	}
}

func TestVectorFrames(t *testing.T) {
	for _, fv := range loadVectors(t).Frames {
		t.Run(fv.Name, func(t *testing.T) {
			want := unhex(t, fv.Hex)
			payload := unhex(t, fv.PayloadHex)
			got := encodeFrame(frame{fv.Type, fv.Stream, payload})
			if !bytes.Equal(got, want) {
				t.Errorf("encode = %x, want %x", got, want)
			}

			var frames []frame
			d := newDecoder()
			d.feed(append(append([]byte{}, syncMarker...), want...), func(f frame) bool {
				frames = append(frames, f)
				return true
			})
			if len(frames) != 1 || frames[0].typ != fv.Type || frames[0].stream != fv.Stream ||
				!bytes.Equal(frames[0].payload, payload) {
				t.Fatalf("decode = %+v, want one frame %d/%d/%x", frames, fv.Type, fv.Stream, payload)
			}
			checkStructured(t, fv, payload)
		})
	}
}

// checkStructured checks the DATA, EOF and WINDOW field codecs.
func checkStructured(t *testing.T, fv frameVector, payload []byte) {
	t.Helper()
	switch fv.Type {
	case frameData:
		data := unhex(t, *fv.DataHex)
		if got := encodeData(fv.Stream, *fv.Channel, data); !bytes.Equal(got, unhex(t, fv.Hex)) {
			t.Errorf("encodeData = %x, want %s", got, fv.Hex)
		}
		if got := dataPayload(*fv.Channel, data); !bytes.Equal(got, payload) {
			t.Errorf("dataPayload = %x, want %x", got, payload)
		}
		ch, d, err := parseData(payload)
		if err != nil || ch != *fv.Channel || !bytes.Equal(d, data) {
			t.Errorf("parseData = %d, %x, %v", ch, d, err)
		}
	case frameEOF:
		ch, err := parseEOF(payload)
		if err != nil || ch != *fv.Channel {
			t.Errorf("parseEOF = %d, %v", ch, err)
		}
	case frameWindow:
		if got := windowPayload(*fv.Channel, *fv.Increment); !bytes.Equal(got, payload) {
			t.Errorf("windowPayload = %x, want %x", got, payload)
		}
		ch, inc, err := parseWindow(payload)
		if err != nil || ch != *fv.Channel || inc != *fv.Increment {
			t.Errorf("parseWindow = %d, %d, %v", ch, inc, err)
		}
	}
}

func TestVectorStreams(t *testing.T) {
	for _, sv := range loadVectors(t).Streams {
		input := unhex(t, sv.InputHex)
		chunkings := map[string]int{"whole": len(input)}
		if sv.SplitEveryByte {
			chunkings["bytewise"] = 1
		}
		for how, size := range chunkings {
			t.Run(sv.Name+"/"+how, func(t *testing.T) {
				var got []frame
				d := newDecoder()
				for i := 0; i < len(input); i += size {
					d.feed(input[i:min(i+size, len(input))], func(f frame) bool {
						got = append(got, f)
						return true
					})
				}
				if len(got) != len(sv.Frames) {
					t.Fatalf("decoded %d frames, want %d: %+v", len(got), len(sv.Frames), got)
				}
				for i, want := range sv.Frames {
					f := got[i]
					if f.typ != want.Type || f.stream != want.Stream ||
						!bytes.Equal(f.payload, unhex(t, want.PayloadHex)) {
						t.Errorf("frame %d = %d/%d/%x, want %d/%d/%s", i, f.typ, f.stream,
							f.payload, want.Type, want.Stream, want.PayloadHex)
					}
				}
				if d.framingErrors != sv.FramingErrors {
					t.Errorf("framing errors = %d, want %d", d.framingErrors, sv.FramingErrors)
				}
			})
		}
	}
}

// A frame the session rejects (DATA beyond the window, say) is a framing
// error: the decoder hunts again and skips frames until the next SYNC.
func TestDecoderRejectedFrameHunts(t *testing.T) {
	var in []byte
	in = append(in, syncMarker...)
	in = appendFrame(in, frameData, 1, []byte{0})
	in = appendFrame(in, frameCancel, 2, nil)
	in = append(in, syncMarker...)
	in = appendFrame(in, frameCancel, 3, nil)
	var got []uint32
	d := newDecoder()
	d.feed(in, func(f frame) bool {
		got = append(got, f.stream)
		return f.typ != frameData
	})
	if len(got) != 2 || got[0] != 1 || got[1] != 3 || d.framingErrors != 1 {
		t.Errorf("streams %v with %d framing errors, want [1 3] and 1", got, d.framingErrors)
	}
}
