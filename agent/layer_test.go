package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// tarEntry builds one header; files get their body from data.
type tarEntry struct {
	hdr  tar.Header
	data string
}

var layerTime = time.Unix(1700000000, 0)

func file(name, data string) tarEntry {
	return tarEntry{tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644,
		Size: int64(len(data)), ModTime: layerTime}, data}
}

func dir(name string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755,
		ModTime: layerTime}}
}

func symlink(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeSymlink,
		Linkname: target, ModTime: layerTime}}
}

func hardlink(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Name: name, Typeflag: tar.TypeLink,
		Linkname: target, ModTime: layerTime}}
}

func makeTar(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("failed to write %q: %v", hdr.Name, err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func applyTar(t *testing.T, root string, entries ...tarEntry) layerStats {
	t.Helper()
	a := newLayerApplier(root)
	if err := a.apply(bytes.NewReader(makeTar(t, entries...))); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return a.stats
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestLayerWhiteouts(t *testing.T) {
	root := t.TempDir()
	applyTar(t, root, dir("etc/"), file("etc/a", "a"), file("etc/b", "b"),
		dir("opt/"), dir("opt/sub/"), file("opt/sub/old", "old"), file("opt/keep", "k"),
		dir("var/"), file("var/x", "x"))

	// The opaque marker comes after this layer's own entries in opt/:
	// it must still hide only what the lower layer put there.
	stats := applyTar(t, root,
		file("etc/.wh.a", ""),
		dir("opt/"), file("opt/new", "new"), dir("opt/sub/"), file("opt/sub/fresh", "f"),
		file("opt/implicit/file", "i"),
		file("opt/.wh..wh..opq", ""),
		file("var/.wh.missing", ""),
		file("var/same", "s"), file("var/.wh.same", ""))

	if exists(filepath.Join(root, "etc/a")) || !exists(filepath.Join(root, "etc/b")) {
		t.Errorf("whiteout: etc/a should be gone and etc/b kept")
	}
	for _, gone := range []string{"opt/keep", "opt/sub/old", "etc/.wh.a", "opt/.wh..wh..opq"} {
		if exists(filepath.Join(root, gone)) {
			t.Errorf("%s should not exist", gone)
		}
	}
	for _, kept := range []string{"opt/new", "opt/sub/fresh", "opt/implicit/file", "var/x",
		"var/same"} {
		if !exists(filepath.Join(root, kept)) {
			t.Errorf("%s should exist", kept)
		}
	}
	if stats.Entries != 10 || stats.Bytes != 6 {
		t.Errorf("stats %+v, want 10 entries and 6 bytes", stats)
	}
}

func TestLayerLinksDevicesAndAttributes(t *testing.T) {
	root := t.TempDir()
	suid := file("bin/tool", "#!/bin/sh\n")
	suid.hdr.Mode, suid.hdr.Uid, suid.hdr.Gid = 0o4755, 1000, 2000
	sticky := dir("tmp/")
	sticky.hdr.Mode = 0o1777
	dev := tarEntry{hdr: tar.Header{Name: "dev/null2", Typeflag: tar.TypeChar, Mode: 0o666,
		Devmajor: 1, Devminor: 3, ModTime: layerTime}}
	fifo := tarEntry{hdr: tar.Header{Name: "run/fifo", Typeflag: tar.TypeFifo, Mode: 0o600,
		ModTime: layerTime}}
	xattr := file("bin/cap", "x")
	xattr.hdr.PAXRecords = map[string]string{"SCHILY.xattr.user.test": "value"}
	applyTar(t, root, dir("bin/"), suid, hardlink("bin/again", "bin/tool"),
		symlink("bin/abs", "/bin/tool"), sticky, dir("dev/"), dev, dir("run/"), fifo, xattr)

	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(root, "bin/tool"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o4755 || st.Uid != 1000 || st.Gid != 2000 || st.Nlink != 2 {
		t.Errorf("bin/tool mode %#o owner %d:%d links %d", st.Mode&0o7777, st.Uid, st.Gid,
			st.Nlink)
	}
	if st.Mtim.Sec != layerTime.Unix() {
		t.Errorf("bin/tool mtime %d, want %d", st.Mtim.Sec, layerTime.Unix())
	}
	if target, _ := os.Readlink(filepath.Join(root, "bin/abs")); target != "/bin/tool" {
		t.Errorf("bin/abs -> %q, want /bin/tool kept as is", target)
	}
	if fi, err := os.Stat(filepath.Join(root, "tmp")); err != nil ||
		fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("tmp should be sticky: %v %v", fi, err)
	}
	if err := syscall.Stat(filepath.Join(root, "dev/null2"), &st); err != nil ||
		st.Mode&syscall.S_IFMT != syscall.S_IFCHR || st.Rdev != uint64(mkdev(1, 3)) {
		t.Errorf("dev/null2 mode %#o rdev %#x (%v)", st.Mode, st.Rdev, err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "run/fifo")); err != nil ||
		fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("run/fifo is not a fifo: %v", err)
	}
	// Directory times are set after their children were written.
	if err := syscall.Stat(filepath.Join(root, "bin"), &st); err != nil ||
		st.Mtim.Sec != layerTime.Unix() {
		t.Errorf("bin mtime %d, want %d (%v)", st.Mtim.Sec, layerTime.Unix(), err)
	}
	buf := make([]byte, 16)
	n, err := syscall.Getxattr(filepath.Join(root, "bin/cap"), "user.test", buf)
	if err != nil && !errors.Is(err, syscall.ENOTSUP) {
		t.Errorf("xattr: %v", err)
	} else if err == nil && string(buf[:n]) != "value" {
		t.Errorf("xattr user.test = %q", buf[:n])
	}
}

// Docker replaces a file by a directory and the reverse.
func TestLayerReplacesTypes(t *testing.T) {
	root := t.TempDir()
	applyTar(t, root, file("a", "file"), dir("b/"), file("b/inner", "x"))
	applyTar(t, root, dir("a/"), file("a/child", "c"), file("b", "now a file"))
	if readString(t, filepath.Join(root, "a/child")) != "c" ||
		readString(t, filepath.Join(root, "b")) != "now a file" {
		t.Errorf("types were not replaced")
	}
}

// Hostile names and links never reach outside the root.
func TestLayerConfinement(t *testing.T) {
	outer := t.TempDir()
	root := filepath.Join(outer, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outer, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}

	stats := applyTar(t, root,
		file("../../escape", "no"),
		file("a/../../escape2", "no"),
		file("/abs", "abs"),
		symlink("x", "/"),
		file("x/etc/evil", "evil"),
		symlink("up", "../.."),
		file("up/escape3", "up"),
		symlink("loop", "../secret"),
		file("loop", "replaced"),
		hardlink("hl", "../secret"),
	)
	if stats.Skipped != 3 {
		t.Errorf("skipped %d entries, want 3 (two names and a hard link)", stats.Skipped)
	}
	if exists(filepath.Join(outer, "escape")) || exists(filepath.Join(outer, "escape3")) ||
		exists(filepath.Join(outer, "..", "escape")) {
		t.Errorf("an entry escaped the root")
	}
	if readString(t, filepath.Join(root, "abs")) != "abs" {
		t.Errorf("an absolute name should land inside the root")
	}
	if readString(t, filepath.Join(root, "etc/evil")) != "evil" {
		t.Errorf("x/etc/evil should follow x -> / inside the root")
	}
	if readString(t, filepath.Join(root, "escape3")) != "up" {
		t.Errorf("up/escape3 should stop at the root")
	}
	if fi, err := os.Lstat(filepath.Join(root, "loop")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("loop should be a file now, not a link written through: %v", err)
	}
	if readString(t, secret) != "secret" {
		t.Errorf("the file outside the root changed")
	}

	// A hard link to an absolute path names the root's file, which is
	// missing here: the layer fails rather than linking outside.
	a := newLayerApplier(root)
	err := a.apply(bytes.NewReader(makeTar(t, hardlink("shadow", "/etc/shadow"))))
	if err == nil || exists(filepath.Join(root, "shadow")) {
		t.Errorf("hard link to /etc/shadow: %v", err)
	}
}

func TestApplyLayerOverStream(t *testing.T) {
	h := newHost(t)
	root := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	body := bytes.Repeat([]byte("0123456789"), 100<<10)
	_, _ = zw.Write(makeTar(t, dir("d/"), file("d/big", string(body))))
	_ = zw.Close()

	s := h.open(map[string]any{"op": "applyLayer", "root": root,
		"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"})
	s.expect(frameOpened)
	s.sendData(gz.Bytes())
	s.sendEOF()
	o := s.finish()
	if o.err != nil || o.result["entries"] != float64(2) ||
		o.result["bytes"] != float64(len(body)) {
		t.Fatalf("applyLayer: result %v, error %+v", o.result, o.err)
	}
	if got := readString(t, filepath.Join(root, "d/big")); got != string(body) {
		t.Errorf("d/big has %d bytes, want %d", len(got), len(body))
	}

	o = h.open(map[string]any{"op": "applyLayer", "root": root,
		"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd"}).finish()
	if o.err == nil || o.err.Code != "ENOTSUP" {
		t.Errorf("zstd layer gave %+v, want ENOTSUP", o.err)
	}
}
