package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrEscapesRoot reports a layer entry whose name leads outside the root
// file system it is applied to.
var ErrEscapesRoot = errors.New("path escapes the root")

// maxSymlinkHops bounds the symlinks followed while resolving one path,
// as the kernel's limit of 40 does, so a loop ends with ELOOP.
const maxSymlinkHops = 40

// cleanEntryName turns a tar entry name into a path relative to the root,
// without "." or ".." components. A leading "/" is dropped, as GNU tar
// does; a ".." that would climb above the root is ErrEscapesRoot.
func cleanEntryName(name string) (string, error) {
	var parts []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", fmt.Errorf("failed to place %q: %w", name, ErrEscapesRoot)
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "/"), nil
}

// resolveDir returns the real path of directory rel inside root, following
// symlinks as if root were "/" (an absolute link restarts at root, ".."
// stops at root), so no link in an image can point outside it. Missing
// directories are created with mode 0755 when create is set.
func resolveDir(root, rel string, create bool) (string, error) {
	todo := splitPath(rel)
	var done []string
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == ".." {
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		p := filepath.Join(root, filepath.Join(done...), c)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, os.ErrNotExist) && create:
			if err := os.Mkdir(p, 0o755); err != nil {
				return "", fmt.Errorf("failed to create directory %q: %w", p, err)
			}
			done = append(done, c)
		case err != nil:
			return "", fmt.Errorf("failed to resolve %q: %w", p, err)
		case fi.Mode()&os.ModeSymlink != 0:
			hops++
			if hops > maxSymlinkHops {
				return "", fmt.Errorf("failed to resolve %q: too many symlinks", rel)
			}
			target, err := os.Readlink(p)
			if err != nil {
				return "", fmt.Errorf("failed to read link %q: %w", p, err)
			}
			if path.IsAbs(target) {
				done = nil
			}
			todo = append(splitPath(target), todo...)
		case !fi.IsDir():
			return "", fmt.Errorf("failed to resolve %q: %q is not a directory", rel, p)
		default:
			done = append(done, c)
		}
	}
	return filepath.Join(root, filepath.Join(done...)), nil
}

// resolveEntry returns the real path of rel inside root with its parent
// resolved by resolveDir and the last component kept as is, never
// followed: that is the name an entry creates, replaces or removes.
func resolveEntry(root, rel string, create bool) (string, error) {
	dir, base := path.Split(rel)
	realDir, err := resolveDir(root, dir, create)
	if err != nil {
		return "", err
	}
	return filepath.Join(realDir, base), nil
}

func splitPath(p string) []string {
	var parts []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			parts = append(parts, c)
		}
	}
	return parts
}
