package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestFileRoundTrip(t *testing.T) {
	h := newHost(t)
	path := filepath.Join(t.TempDir(), "a", "b", "file")
	data := make([]byte, 3<<20+17)
	_, _ = rand.Read(data)

	w := h.open(map[string]any{"op": "writeFile", "path": path, "mode": 0o4750,
		"uid": 1234, "gid": 5678, "mkdirs": true})
	w.expect(frameOpened)
	w.sendData(data)
	w.sendEOF()
	o := w.finish()
	if o.err != nil || o.result["bytes"] != float64(len(data)) {
		t.Fatalf("writeFile: result %v, error %+v", o.result, o.err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o4750 || st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("file mode %#o owner %d:%d", st.Mode&0o7777, st.Uid, st.Gid)
	}

	o = h.open(map[string]any{"op": "readFile", "path": path}).finish(0)
	if o.err != nil || !bytes.Equal(o.out[0], data) || o.result["bytes"] != float64(len(data)) {
		t.Fatalf("readFile: %d bytes, result %v, error %+v", len(o.out[0]), o.result, o.err)
	}
	want := map[string]any{"size": float64(len(data)), "mode": float64(0o4750),
		"uid": float64(1234), "gid": float64(5678)}
	for k, v := range want {
		if o.opened[k] != v {
			t.Errorf("OPENED %s = %v, want %v", k, o.opened[k], v)
		}
	}
}

func TestReadFileErrors(t *testing.T) {
	h := newHost(t)
	for path, code := range map[string]string{"/no/such/file": "ENOENT", "/tmp": "EISDIR"} {
		o := h.open(map[string]any{"op": "readFile", "path": path}).finish()
		if o.err == nil || o.err.Code != code {
			t.Errorf("readFile %q gave %+v, want %s", path, o.err, code)
		}
	}
}

// A cancelled write leaves neither the file nor its temporary behind.
func TestWriteFileCancel(t *testing.T) {
	h := newHost(t)
	dir := t.TempDir()
	w := h.open(map[string]any{"op": "writeFile", "path": filepath.Join(dir, "f")})
	w.expect(frameOpened)
	w.sendData(make([]byte, 100<<10))
	w.cancel()
	if o := w.finish(); o.err == nil || o.err.Code != "ECANCELED" {
		t.Fatalf("cancel gave %+v, want ECANCELED", o.err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("left %v behind (%v)", entries, err)
	}
}

func TestWriteFileErrors(t *testing.T) {
	h := newHost(t)
	o := h.open(map[string]any{"op": "writeFile", "path": "/no/such/dir/f"}).finish()
	if o.err == nil || o.err.Code != "ENOENT" {
		t.Errorf("writeFile without mkdirs gave %+v, want ENOENT", o.err)
	}
	o = h.open(map[string]any{"op": "writeFile", "path": "relative"}).finish()
	if o.err == nil || o.err.Code != "EINVAL" {
		t.Errorf("relative path gave %+v, want EINVAL", o.err)
	}
}

// readFile streams: a large file passes through in window-sized pieces.
func TestReadFileLarge(t *testing.T) {
	h := newHost(t)
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	o := h.open(map[string]any{"op": "readFile", "path": path}).finish(0)
	if o.err != nil || len(o.out[0]) != size {
		t.Fatalf("read %d bytes, error %+v", len(o.out[0]), o.err)
	}
}
