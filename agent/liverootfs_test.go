package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLiveRootfs builds an image root file system in one VM and runs a
// workload from it in a second, under QEMU with tcg:
//
//	SUPERMACHINE_GUEST_DIR=$(bash scripts/build-guest.sh) \
//	  go test -run TestLiveRootfs -v
//
// It needs /bin/busybox (static) for the image and qemu-img for the
// copy-on-write overlay the second VM boots from.
func TestLiveRootfs(t *testing.T) {
	guest := os.Getenv("SUPERMACHINE_GUEST_DIR")
	if guest == "" {
		t.Skip("SUPERMACHINE_GUEST_DIR is not set")
	}
	dir := t.TempDir()
	disk := filepath.Join(dir, "rootfs.raw")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 256<<20); err != nil {
		t.Fatal(err)
	}

	h, stopBuilder := bootVM(t, guest, dir, "builder", disk, "raw", "")
	ack := h.hello(protocolVersion)
	if ack.RootErr != "" {
		t.Fatalf("builder reported rootErr %q", ack.RootErr)
	}
	start := time.Now()
	o := h.open(map[string]any{"op": "mkfs", "device": "/dev/vda", "fstype": "ext4",
		"label": "rootfs"}).finish()
	if o.err != nil {
		t.Fatalf("mkfs: %+v", o.err)
	}
	t.Logf("mkfs of 256 MiB: %v (agent says %v ms)", time.Since(start), o.result["durationMs"])
	o = h.open(map[string]any{"op": "mount", "source": "/dev/vda",
		"target": "/mnt/rootfs", "fstype": "ext4"}).finish()
	if o.err != nil {
		t.Fatalf("mount: %+v", o.err)
	}
	liveApply(t, h, busyboxLayer(t))
	bulk := make([]byte, 64<<20)
	_, _ = rand.Read(bulk[:1<<20])
	for i := 1; i < 64; i++ {
		copy(bulk[i<<20:], bulk[:1<<20])
	}
	start = time.Now()
	stats := liveApply(t, h, gzipTar(t, file("data/bulk", string(bulk))))
	d := time.Since(start)
	t.Logf("applyLayer of %v uncompressed bytes in %v: %.1f MiB/s", stats["bytes"], d,
		float64(len(bulk))/(1<<20)/d.Seconds())
	o = h.open(map[string]any{"op": "unmount", "target": "/mnt/rootfs"}).finish()
	if o.err != nil {
		t.Fatalf("unmount: %+v", o.err)
	}

	// The builder has synced and unmounted; QEMU's lock on the disk must
	// go before another VM opens it.
	stopBuilder()
	// e2fsck -n exits non-zero for a file system that is not clean.
	runHost(t, "/sbin/e2fsck", "-fn", disk)

	overlay := filepath.Join(dir, "overlay.qcow2")
	runHost(t, "/usr/bin/qemu-img", "create", "-q", "-f", "qcow2", "-b", disk, "-F", "raw", overlay)
	h, stopRunner := bootVM(t, guest, dir, "runner", overlay, "qcow2", "supermachine.root=/dev/vda")
	start = time.Now()
	ack = h.hello(protocolVersion)
	if ack.RootErr != "" {
		t.Fatalf("runner reported rootErr %q", ack.RootErr)
	}
	o = h.open(execReq("sh", "-c", "cat /etc/hosts /etc/hostname; ls /data; "+
		"test -e /init || echo no-initramfs")).finish(1, 2)
	if !strings.Contains(string(o.out[1]), "bulk\n") ||
		!strings.Contains(string(o.out[1]), "no-initramfs") ||
		!strings.Contains(string(o.out[1]), "127.0.0.1\tlocalhost") {
		t.Errorf("image root not in place: %q %q", o.out[1], o.out[2])
	}
	o = h.open(map[string]any{"op": "startWorkload",
		"argv": []string{"sh", "-c", "echo hello; exec sleep 1000"},
		"env":  []string{"PATH=/bin"}, "user": "nobody"}).finish()
	if o.err != nil {
		t.Fatalf("startWorkload: %+v", o.err)
	}
	waitLog(h.open(map[string]any{"op": "logs", "follow": true}), "hello\n", "")
	o = h.open(map[string]any{"op": "stopWorkload", "timeoutMs": 5000}).finish()
	if o.err != nil || o.result["signal"] != "SIGTERM" {
		t.Errorf("stopWorkload: %v %+v", o.result, o.err)
	}
	o = h.open(map[string]any{"op": "logs"}).finish(1, 2)
	t.Logf("workload logs %q, stopped: %v", o.out[1], o.result)

	// A root that cannot be mounted leaves the initramfs serving and
	// says why.
	stopRunner()
	h, _ = bootVM(t, guest, dir, "fallback", overlay, "qcow2",
		"supermachine.root=/dev/vdz")
	ack = h.hello(protocolVersion)
	o = h.open(execReq("sh", "-c", "test -e /init && echo initramfs")).finish(1, 2)
	if !strings.Contains(ack.RootErr, "/dev/vdz") || string(o.out[1]) != "initramfs\n" {
		t.Errorf("fallback: rootErr %q, exec %q", ack.RootErr, o.out[1])
	}
	t.Logf("fallback rootErr: %s", ack.RootErr)
}

func liveApply(t *testing.T, h *testHost, layer []byte) map[string]any {
	t.Helper()
	s := h.open(map[string]any{"op": "applyLayer", "root": "/mnt/rootfs",
		"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"})
	s.expect(frameOpened)
	s.sendData(layer)
	s.sendEOF()
	o := s.finish()
	if o.err != nil {
		t.Fatalf("applyLayer: %+v", o.err)
	}
	return o.result
}

// busyboxLayer is a minimal image: busybox, the links the test uses and
// a passwd file.
func busyboxLayer(t *testing.T) []byte {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	bin := file("bin/busybox", string(bb))
	bin.hdr.Mode = 0o755
	entries := []tarEntry{dir("bin/"), bin}
	for _, name := range []string{"sh", "sleep", "cat", "ls", "test", "echo"} {
		entries = append(entries, symlink("bin/"+name, "busybox"))
	}
	entries = append(entries, dir("etc/"),
		file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"+
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
		file("etc/group", "root:x:0:\nnogroup:x:65534:\n"), dir("tmp/"))
	return gzipTar(t, entries...)
}

func gzipTar(t *testing.T, entries ...tarEntry) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(makeTar(t, entries...)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bootVM starts QEMU as machine.ts does and connects to its agent port.
// QEMU is started through the test's reaper, which alone may wait for it.
func bootVM(t *testing.T, guest, dir, name, disk, format, extra string) (*testHost, func()) {
	t.Helper()
	socket := filepath.Join(dir, name+".sock")
	console, err := os.Create(filepath.Join(dir, name+".console"))
	if err != nil {
		t.Fatal(err)
	}
	defer console.Close()
	args := []string{"qemu-system-x86_64",
		"-M", "microvm,acpi=on,rtc=on,pit=off,pic=off", "-accel", "tcg", "-cpu", "max",
		"-m", "512", "-smp", "2", "-nodefaults", "-no-user-config", "-display", "none",
		"-no-reboot", "-kernel", filepath.Join(guest, "vmlinux"),
		"-initrd", filepath.Join(guest, "initramfs.cpio"),
		"-append", "console=ttyS0 panic=-1 supermachine.grace=20 " + hostTscArg() + extra,
		"-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
		"-device", "virtio-serial-device",
		"-chardev", "socket,id=agent,path=" + socket + ",server=on,wait=off",
		"-device", "virtserialport,chardev=agent,name=agent",
		"-device", "virtio-rng-device",
		"-drive", "file=" + disk + ",format=" + format + ",if=none,id=disk0",
		"-device", "virtio-blk-device,drive=disk0"}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	attr := &syscall.ProcAttr{Env: os.Environ(),
		Files: []uintptr{null.Fd(), console.Fd(), console.Fd()}}
	pid, exited, err := testReaper.spawn(func() (int, error) {
		return syscall.ForkExec("/usr/bin/qemu-system-x86_64", args, attr)
	})
	if err != nil {
		t.Fatalf("failed to start QEMU: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-exited
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, err := os.ReadFile(console.Name())
			t.Logf("%s console (%v):\n%s", name, err, b)
		}
	})
	deadline := time.Now().Add(waitTimeout)
	for {
		c, err := net.Dial("unix", socket)
		if err == nil {
			return newTestHost(t, c), stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("failed to connect to %q: %v", socket, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostTscArg tells the guest the TSC rate, as machine.ts does: microvm
// without a PIT has nothing to calibrate it against under tcg.
func hostTscArg() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "cpu MHz" {
			mhz, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return fmt.Sprintf("tsc_early_khz=%d ", int(mhz*1000))
			}
		}
	}
	return ""
}

// runHost runs a program on the host through the test's reaper.
func runHost(t *testing.T, path string, args ...string) {
	t.Helper()
	out, err := runTool(testReaper, append([]string{path}, args...))
	if err != nil {
		t.Fatalf("%v", err)
	}
	if out != "" {
		t.Logf("%s: %s", filepath.Base(path), out)
	}
}
