// Package decompress makes compressed documents readable as their text:
// gzip and zstd are recognised by their magic bytes, not by file names, so a
// document gives the same answer whether or not it was compressed.
package decompress

import (
	"bufio"
	"bytes"
	"errors"
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
	src := &source{r: r}
	br := bufio.NewReaderSize(src, 64<<10)
	prefix, err := br.Peek(len(zstdMagic))
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, None, err
	}
	switch f := Detect(prefix); f {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			if src.err != nil {
				return nil, f, src.err
			}
			return nil, f, fmt.Errorf("%w: read gzip header: %w", ErrCorrupt, err)
		}
		return &errorNamer{r: zr, src: src, close: zr.Close, format: f}, f, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, f, fmt.Errorf("start zstd: %w", err)
		}
		return &errorNamer{r: zr, src: src, close: func() error { zr.Close(); return nil }, format: f}, f, nil
	}
	return io.NopCloser(br), None, nil
}

// Open is NewReader for a stream handed over with its text: closing the
// text closes r too, and r is closed when the text cannot be opened.
func Open(r io.ReadCloser) (io.ReadCloser, error) {
	text, _, err := NewReader(r)
	if err != nil {
		r.Close()
		return nil, err
	}
	return closeBoth{text, r}, nil
}

// closeBoth closes a text and the stream under it.
type closeBoth struct {
	io.ReadCloser
	under io.Closer
}

func (c closeBoth) Close() error {
	c.ReadCloser.Close()
	return c.under.Close()
}

// ErrCorrupt reports compressed data that cannot be decompressed: corrupt
// or truncated. An error reading the compressed data is returned as it is,
// so that a caller can tell a bad archive from a failing source.
var ErrCorrupt = errors.New("corrupt or truncated compressed data")

// source records the first error of the compressed data's reader.
type source struct {
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// errorNamer says which format failed, so that "unexpected EOF" reads as a
// truncated archive, and passes the source's own errors on unchanged.
type errorNamer struct {
	r      io.Reader
	src    *source
	close  func() error
	format Format
}

func (e *errorNamer) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case e.src.err != nil:
		err = e.src.err
	default:
		err = fmt.Errorf("%w: %s: %w", ErrCorrupt, e.format, err)
	}
	return n, err
}

func (e *errorNamer) Close() error { return e.close() }
