package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ErrUnsupportedMediaType reports a layer compression the agent cannot
// decode; its ERROR code is ENOTSUP.
var ErrUnsupportedMediaType = errors.New("unsupported layer media type")

// layerCompression maps the layer media types of the OCI image spec and
// of Docker's image manifest v2 to whether they are gzip-compressed.
var layerCompression = map[string]bool{
	"application/vnd.oci.image.layer.v1.tar":                       false,
	"application/vnd.oci.image.layer.v1.tar+gzip":                  true,
	"application/vnd.oci.image.layer.nondistributable.v1.tar":      false,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": true,
	"application/vnd.docker.image.rootfs.diff.tar":                 false,
	"application/vnd.docker.image.rootfs.diff.tar.gzip":            true,
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":    true,
}

type applyLayerRequest struct {
	Root      string `json:"root"`
	MediaType string `json:"mediaType"`
}

func (r *applyLayerRequest) takesInput() bool { return true }

func (r *applyLayerRequest) validate() error {
	if !filepath.IsAbs(r.Root) {
		return invalid("applyLayer", "`root` must be absolute, got %q", r.Root)
	}
	if strings.HasSuffix(r.MediaType, "zstd") {
		return fmt.Errorf("failed to apply a layer of type %q: %w: zstd layers "+
			"are not supported yet", r.MediaType, ErrUnsupportedMediaType)
	}
	if _, ok := layerCompression[r.MediaType]; !ok {
		return fmt.Errorf("failed to apply a layer of type %q: %w", r.MediaType,
			ErrUnsupportedMediaType)
	}
	return nil
}

// run applies the layer the host streams on channel 0. The window is
// granted back as the bytes are decoded, so a large layer never sits in
// the agent's memory.
func (r *applyLayerRequest) run(st *stream) {
	if err := checkDir(r.Root); err != nil {
		st.fail(err)
		return
	}
	st.opened(struct{}{})

	in := bufio.NewReaderSize(&inputReader{st: st}, 256<<10)
	var tarStream io.Reader = in
	if layerCompression[r.MediaType] {
		zr, err := gzip.NewReader(in)
		if err != nil {
			r.end(st, fmt.Errorf("failed to decompress layer: %w", err))
			return
		}
		tarStream = zr
	}
	a := newLayerApplier(r.Root)
	err := a.apply(tarStream)
	if err == nil {
		// Read past the tar's end so gzip checks its trailer and the
		// host's EOF is taken.
		if _, err = io.Copy(io.Discard, tarStream); err != nil {
			err = fmt.Errorf("failed to read layer: %w", err)
		}
	}
	if err != nil {
		r.end(st, err)
		return
	}
	st.result(a.stats)
}

func (r *applyLayerRequest) end(st *stream, err error) {
	if errors.Is(err, ErrStreamEnded) {
		st.end()
		return
	}
	st.fail(err)
}

// inputReader reads the host's channel 0 of a stream, granting the window
// back as bytes are taken.
type inputReader struct {
	st   *stream
	rest []byte
}

func (ir *inputReader) Read(p []byte) (int, error) {
	for len(ir.rest) == 0 {
		data, err := ir.st.in.next()
		if err != nil {
			return 0, err
		}
		ir.rest = data
	}
	n := copy(p, ir.rest)
	ir.rest = ir.rest[n:]
	ir.st.grantConsumed(n)
	return n, nil
}
