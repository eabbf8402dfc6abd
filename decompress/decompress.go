// Package decompress makes compressed documents readable as their text:
// gzip and zstd are recognised by their magic bytes, not by file names, so a
// document gives the same answer whether or not it was compressed.
package decompress

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Format names a compression format.
type Format string

// The formats Reader recognises; None is plain data.
const (
	None Format = ""
	Gzip Format = "gzip"
	Zstd Format = "zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Detect reports the format of data that starts with prefix.
func Detect(prefix []byte) Format {
	switch {
	case bytes.HasPrefix(prefix, zstdMagic):
		return Zstd
	case bytes.HasPrefix(prefix, gzipMagic):
		return Gzip
	}
	return None
}

// NewReader returns a reader of r's text: r itself (buffered) when it is not
// compressed, else a decompressing reader. A corrupt or truncated archive
// makes Read return an error, never a short text. Close releases the
// decompressor; it does not close r.
func NewReader(r io.Reader) (io.ReadCloser, Format, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	prefix, err := br.Peek(len(zstdMagic))
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, None, err
	}
	switch f := Detect(prefix); f {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, f, fmt.Errorf("read gzip header: %w", err)
		}
		return &errorNamer{r: zr, close: zr.Close, format: f}, f, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, f, fmt.Errorf("start zstd: %w", err)
		}
		return &errorNamer{r: zr, close: func() error { zr.Close(); return nil }, format: f}, f, nil
	}
	return io.NopCloser(br), None, nil
}

// errorNamer says which format failed, so that "unexpected EOF" reads as a
// truncated archive.
type errorNamer struct {
	r      io.Reader
	close  func() error
	format Format
}

func (e *errorNamer) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("corrupt or truncated %s data: %w", e.format, err)
	}
	return n, err
}

func (e *errorNamer) Close() error { return e.close() }
