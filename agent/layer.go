package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Whiteout names of the OCI image spec's layer format: ".wh.<name>"
// deletes <name> of the layers below, ".wh..wh..opq" empties the
// directory it is in of everything the layers below put there.
// ErrUnsupportedEntry reports a layer entry that is skipped: a tar type
// or whiteout the layer format does not define.
var ErrUnsupportedEntry = errors.New("unsupported layer entry")

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// layerStats is what applying a layer did.
type layerStats struct {
	Entries int64 `json:"entries"`
	Bytes   int64 `json:"bytes"`
	// Skipped counts entries left out because they would escape the
	// root or of a type the format does not define.
	Skipped int64 `json:"skipped"`
}

// layerApplier writes one layer's tar stream into root.
type layerApplier struct {
	root  string
	stats layerStats
	// written holds the real paths this layer created, and their parent
	// directories. Whiteouts and opaque markers hide only what lower
	// layers made, and an opaque marker can come after its directory's
	// new entries.
	written  map[string]bool
	dirTimes []dirTime
}

// layerEntryTypes are the tar types a layer may hold; others are skipped
// before anything at their path is touched.
var layerEntryTypes = map[byte]bool{
	tar.TypeReg: true, tar.TypeGNUSparse: true,
	tar.TypeDir: true, tar.TypeSymlink: true, tar.TypeLink: true,
	tar.TypeChar: true, tar.TypeBlock: true, tar.TypeFifo: true,
}

type dirTime struct {
	path  string
	mtime time.Time
}

func newLayerApplier(root string) *layerApplier {
	return &layerApplier{root: filepath.Clean(root), written: make(map[string]bool)}
}

// apply reads the tar stream to its end.
func (a *layerApplier) apply(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("failed to read layer: %w", err)
		}
		if err := a.entry(hdr, tr); err != nil {
			if !errors.Is(err, ErrEscapesRoot) && !errors.Is(err, ErrUnsupportedEntry) {
				return err
			}
			a.stats.Skipped++
		}
	}
	// Creating entries changed their directories' times, so those are
	// set last, when nothing is added any more.
	for i := len(a.dirTimes) - 1; i >= 0; i-- {
		d := a.dirTimes[i]
		if err := setTimes(d.path, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

func (a *layerApplier) entry(hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil
	}
	a.stats.Entries++
	rel, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	dir, base := path.Split(rel)
	if base == opaqueMarker {
		return a.opaque(strings.TrimSuffix(dir, "/"))
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		if name == "" || name == "." || name == ".." {
			// Would name the directory itself or its parent.
			return fmt.Errorf("failed to apply whiteout %q: %w", hdr.Name,
				ErrUnsupportedEntry)
		}
		return a.whiteout(dir + name)
	}
	if rel == "" {
		// The root itself: only its attributes can change.
		if hdr.Typeflag != tar.TypeDir {
			return nil
		}
		return a.finish(a.root, hdr)
	}

	if !layerEntryTypes[hdr.Typeflag] {
		return fmt.Errorf("failed to create %q: %w: tar type %q", hdr.Name,
			ErrUnsupportedEntry, hdr.Typeflag)
	}
	p, err := resolveEntry(a.root, rel, true)
	if err != nil {
		return err
	}
	if err := a.clear(p, hdr.Typeflag == tar.TypeDir); err != nil {
		return err
	}
	if err := a.create(p, hdr, r); err != nil {
		return err
	}
	a.markWritten(p)
	return a.finish(p, hdr)
}

// markWritten records p and the directories above it up to the root.
func (a *layerApplier) markWritten(p string) {
	for p != a.root && !a.written[p] {
		a.written[p] = true
		p = filepath.Dir(p)
	}
}

// clear removes what is at p unless a directory stays a directory, so an
// entry replaces a file by a directory or the reverse, as Docker does.
func (a *layerApplier) clear(p string, dir bool) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to inspect %q: %w", p, err)
	}
	if dir && fi.IsDir() {
		return nil
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("failed to replace %q: %w", p, err)
	}
	return nil
}

func (a *layerApplier) create(p string, hdr *tar.Header, r io.Reader) error {
	mode := uint32(hdr.Mode & 0o7777)
	var err error
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		err = a.writeFile(p, r)
	case tar.TypeDir:
		if err = os.Mkdir(p, 0o755); errors.Is(err, os.ErrExist) {
			err = nil
		}
	case tar.TypeSymlink:
		// Stored as is: a link is resolved by whoever follows it, and
		// after switching root that is inside the image.
		err = os.Symlink(hdr.Linkname, p)
	case tar.TypeLink:
		err = a.hardLink(p, hdr.Linkname)
	case tar.TypeChar:
		err = syscall.Mknod(p, syscall.S_IFCHR|mode, mkdev(hdr.Devmajor, hdr.Devminor))
	case tar.TypeBlock:
		err = syscall.Mknod(p, syscall.S_IFBLK|mode, mkdev(hdr.Devmajor, hdr.Devminor))
	case tar.TypeFifo:
		err = syscall.Mkfifo(p, mode)
	}
	if err != nil {
		return fmt.Errorf("failed to create %q: %w", hdr.Name, err)
	}
	return nil
}

func (a *layerApplier) writeFile(p string, r io.Reader) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	a.stats.Bytes += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// hardLink links p to an earlier entry. The target's name is relative to
// the archive's root, so it is confined like an entry name.
func (a *layerApplier) hardLink(p, linkname string) error {
	rel, err := cleanEntryName(linkname)
	if err != nil {
		return err
	}
	target, err := resolveEntry(a.root, rel, false)
	if err != nil {
		return err
	}
	return os.Link(target, p)
}

// finish gives an entry its owner, then its mode (chown clears set-id
// bits), extended attributes and time. Directories get their time last.
// A hard link shares its target's inode, which its own entry already
// described, so it changes nothing.
func (a *layerApplier) finish(p string, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeLink {
		return nil
	}
	if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("failed to chown %q: %w", hdr.Name, err)
	}
	if hdr.Typeflag != tar.TypeSymlink {
		if err := syscall.Chmod(p, uint32(hdr.Mode&0o7777)); err != nil {
			return fmt.Errorf("failed to chmod %q: %w", hdr.Name, err)
		}
	}
	if err := setXattrs(p, hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		a.dirTimes = append(a.dirTimes, dirTime{p, hdr.ModTime})
		return nil
	}
	return setTimes(p, hdr.ModTime)
}

// whiteout removes rel as left by the layers below.
func (a *layerApplier) whiteout(rel string) error {
	p, err := resolveEntry(a.root, rel, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.written[p] {
		return nil
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("failed to remove %q: %w", rel, err)
	}
	return nil
}

// opaque empties directory rel of what the layers below put there,
// keeping what this layer already wrote into it.
func (a *layerApplier) opaque(rel string) error {
	p, err := resolveDir(a.root, rel, true)
	if err != nil {
		return err
	}
	return a.prune(p, rel)
}

func (a *layerApplier) prune(p, rel string) error {
	entries, err := os.ReadDir(p)
	if err != nil {
		return fmt.Errorf("failed to read directory %q: %w", rel, err)
	}
	for _, e := range entries {
		childRel := path.Join(rel, e.Name())
		child := filepath.Join(p, e.Name())
		switch {
		case !a.written[child]:
			if err := os.RemoveAll(child); err != nil {
				return fmt.Errorf("failed to remove %q: %w", childRel, err)
			}
		case e.IsDir():
			if err := a.prune(child, childRel); err != nil {
				return err
			}
		}
	}
	return nil
}
