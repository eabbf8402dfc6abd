// Package source reads stored documents by reference. The coordinator's
// planner lists and sizes them and cuts them into task.Refs; a worker opens
// a Ref through the same interface and reads its byte range itself, so the
// bytes of a large corpus never pass through the coordinator. Stores:
// source/file (a directory, such as a shared volume) and source/s3.
package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/tallyhq/tally/decompress"
	"github.com/tallyhq/tally/task"
)

// Object is a stored document opened at one version. It is safe for
// concurrent use. A read that finds another version (the document changed
// since it was planned) fails with an error that wraps ErrChanged.
type Object interface {
	io.ReaderAt
	// Size is the document's size in bytes.
	Size() int64
	Close() error
}

// InPlace is an Object whose bytes can be read where they lie, without a
// copy: a local file mapped into memory.
type InPlace interface {
	Object
	// Mapped returns the whole document as it was opened, mapped into
	// memory, valid until Close. A document truncated meanwhile raises a
	// fault (SIGBUS) where its lost pages are touched: readers run under
	// debug.SetPanicOnFault. An error means it cannot be mapped: read it
	// with ReadAt instead.
	Mapped() ([]byte, error)
	// Unmap says that the mapped bytes [lo, hi) will not be read again
	// through this object: their whole pages leave the memory map now, in
	// the caller's thread, instead of all of a large file's at once when the
	// last object closes. A read of them after it maps them again.
	Unmap(lo, hi int64)
	// Check returns an error wrapping ErrChanged if the document is no
	// longer the version it was opened at, as a ReadAt would.
	Check() error
}

// Stream returns obj's bytes from start to end: in one request when obj is
// a RangeStreamer, which sees one version of it even where its Version
// cannot pin one exactly; else read at offsets, size bytes at a time.
func Stream(obj Object, size int) (io.ReadCloser, error) {
	if rs, ok := obj.(RangeStreamer); ok {
		return rs.StreamRange(0, obj.Size())
	}
	return io.NopCloser(bufio.NewReaderSize(io.NewSectionReader(obj, 0, obj.Size()), size)), nil
}

// Text returns the text of the whole document obj at url, read as Stream
// reads it and decompressed if it is gzip or zstd; errors name url.
// Closing it closes the stream too.
func Text(obj Object, url string, size int) (io.ReadCloser, error) {
	body, err := Stream(obj, size)
	if err != nil {
		return nil, ReadError(url, err)
	}
	text, err := decompress.Open(body)
	if err != nil {
		return nil, ReadError(url, err)
	}
	return text, nil
}

// Opener opens the documents that refs name.
type Opener interface {
	// Open opens ref's document, pinned to ref.Version when it is set. ctx
	// bounds the object's reads as well as the open.
	Open(ctx context.Context, ref task.Ref) (Object, error)
}

// Info describes a stored document found by a listing.
type Info struct {
	// URL names the document, as task.Ref.URL does.
	URL string
	// Name is how results name the document.
	Name string
	// Size is its size in bytes.
	Size int64
	// Version identifies this version of it, for task.Ref.Version.
	Version string
	// Exact says that Version pins the content itself (an ETag; a file's
	// size, modification time and inode): reads of separate parts of the
	// document, by separate workers, are checked to see one text. Without
	// it (an object with no ETag, pinned only to its size and a time of
	// whole seconds) a rewrite could go unseen between two reads, so the
	// planner reads such a document whole, in one request (Stream).
	Exact bool
}

// Ref is a ref to the whole of the document i describes.
func (i Info) Ref() task.Ref {
	return task.Ref{URL: i.URL, Version: i.Version, Size: i.Size, Length: i.Size}
}

// ListOptions says how a listing expands a prefix.
type ListOptions struct {
	// Hidden includes documents with a path segment that starts with ".".
	Hidden bool
}

// Lister finds the documents a URL names.
type Lister interface {
	// List returns the documents that rawURL names, in a stable order: one
	// document, or every document under a prefix or matching a glob. A URL
	// that names none is an error that wraps ErrNotFound.
	List(ctx context.Context, rawURL string, opts ListOptions) ([]Info, error)
}

// Errors of stores. Each is an input error (errors.Is(err, task.ErrInput)):
// it is the input's fault, the same on every worker, and fails the job at once.
var (
	ErrNotFound = task.InputError("not found")
	ErrDenied   = task.InputError("access denied")
	ErrChanged  = task.InputError("changed since the job was planned")
	ErrNoStore  = task.InputError("no store is configured for this URL")
)

// Mux routes URLs to stores by their scheme ("file", "s3"). The zero value
// has none. A Mux is safe for concurrent use once built.
type Mux map[string]Opener

// Open opens ref with the store of its URL's scheme.
func (m Mux) Open(ctx context.Context, ref task.Ref) (Object, error) {
	s, err := m.store(ref.URL)
	if err != nil {
		return nil, err
	}
	return s.Open(ctx, ref)
}

// List lists rawURL with the store of its scheme, if it can list.
func (m Mux) List(ctx context.Context, rawURL string, opts ListOptions) ([]Info, error) {
	s, err := m.store(rawURL)
	if err != nil {
		return nil, err
	}
	l, ok := s.(Lister)
	if !ok {
		return nil, fmt.Errorf("%s: %w", rawURL, errors.ErrUnsupported)
	}
	return l.List(ctx, rawURL, opts)
}

// Schemes lists the schemes m serves, sorted.
func (m Mux) Schemes() []string {
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (m Mux) store(rawURL string) (Opener, error) {
	scheme := Scheme(rawURL)
	if s, ok := m[scheme]; ok && s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%s: %w (this process reads %s)", rawURL, ErrNoStore, orNone(m.Schemes()))
}

func orNone(schemes []string) string {
	if len(schemes) == 0 {
		return "none"
	}
	return strings.Join(schemes, ", ")
}

// Scheme is the scheme of rawURL ("s3", "file"), or "" when it has none.
func Scheme(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Scheme
}

// IsURL reports whether arg names a document by a URL that stores read
// (s3://...) rather than a local path.
func IsURL(arg string) bool { return strings.HasPrefix(arg, "s3://") }
