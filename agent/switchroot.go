package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// newRootDir is where the image's root file system is mounted before the
// agent switches into it.
const newRootDir = "/newroot"

// rootDeviceWait bounds the wait for the root device's node: virtio-blk
// probes during kernel init, so it is normally there at once.
const rootDeviceWait = 2 * time.Second

// movedMounts are the initramfs's mounts the image gets: the kernel's
// views and devices. /dev/pts and /dev/shm move with /dev. The
// initramfs's /tmp and /run stay behind: the image brings its own, as
// under Docker.
var movedMounts = []string{"/dev", "/proc", "/sys"}

// switchRoot mounts device as the image's root and makes it "/" for the
// agent and everything it starts, as switch_root does: move the mount
// onto "/" and chroot into it. The initramfs stays in memory, unused. On
// failure the agent is left where it was, serving from the initramfs.
func switchRoot(device, fstype string) error {
	if err := os.MkdirAll(newRootDir, 0o755); err != nil {
		return fmt.Errorf("failed to create %q: %w", newRootDir, err)
	}
	if err := mountRootDevice(device, fstype); err != nil {
		return err
	}
	var moved []string
	undo := func() {
		for i := len(moved) - 1; i >= 0; i-- {
			_ = syscall.Mount(filepath.Join(newRootDir, moved[i]), moved[i], "",
				syscall.MS_MOVE, "")
		}
		_ = syscall.Unmount(newRootDir, syscall.MNT_DETACH)
	}
	for _, m := range movedMounts {
		target := filepath.Join(newRootDir, m)
		if err := os.MkdirAll(target, 0o755); err != nil {
			undo()
			return fmt.Errorf("failed to create %q in the image: %w", m, err)
		}
		if err := syscall.Mount(m, target, "", syscall.MS_MOVE, ""); err != nil {
			undo()
			return fmt.Errorf("failed to move %q into the image: %w", m, err)
		}
		moved = append(moved, m)
	}

	if err := syscall.Chdir(newRootDir); err != nil {
		undo()
		return fmt.Errorf("failed to enter %q: %w", newRootDir, err)
	}
	if err := syscall.Mount(".", "/", "", syscall.MS_MOVE, ""); err != nil {
		_ = syscall.Chdir("/")
		undo()
		return fmt.Errorf("failed to move %q onto /: %w", newRootDir, err)
	}
	if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("failed to change root to %q: %w", device, err)
	}
	if err := syscall.Chdir("/"); err != nil {
		return fmt.Errorf("failed to enter the new root: %w", err)
	}
	return nil
}

func mountRootDevice(device, fstype string) error {
	if fstype == "" {
		fstype = "ext4"
	}
	deadline := time.Now().Add(rootDeviceWait)
	for {
		err := syscall.Mount(device, newRootDir, fstype, 0, mountData(fstype))
		if err == nil {
			return nil
		}
		missing := errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENXIO)
		if !missing || time.Now().After(deadline) {
			return fmt.Errorf("failed to mount %q (%s) as the root: %w", device, fstype, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeEtcFiles gives the image the name files Docker gives a container:
// the hostname, a hosts file that resolves it and localhost, and a
// resolv.conf that says why there are no name servers.
func writeEtcFiles(hostname string) error {
	hosts := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"127.0.0.1\t" + hostname + "\n"
	files := [][2]string{
		{"/etc/hostname", hostname + "\n"},
		{"/etc/hosts", hosts},
		{"/etc/resolv.conf", "# supermachine: the VM has no network, so no name servers\n"},
	}
	if err := os.MkdirAll("/etc", 0o755); err != nil {
		return fmt.Errorf("failed to create %q: %w", "/etc", err)
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, replaceFile(f[0], f[1]))
	}
	return errors.Join(errs...)
}

// replaceFile writes content beside path and renames it over, so a
// symlink there (resolv.conf often is one) is replaced, not followed.
func replaceFile(path, content string) error {
	tmp := path + ".supermachine"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("failed to write %q: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("failed to chmod %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("failed to replace %q: %w", path, err)
	}
	return nil
}
