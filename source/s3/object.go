package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tallyhq/tally/source"
)

// object is an S3 object opened at one version. Each ReadAt is a request of
// its own, so it is safe for concurrent use.
type object struct {
	core *client
	// ctx is the Open call's: Opener's contract is that it bounds the
	// object's reads, which io.ReaderAt has no way to pass.
	ctx  context.Context
	loc  location
	size int64 // planned
	// The planned version: an ETag, sent as If-Match, or else a
	// Last-Modified time, checked against each response. Neither when the
	// server gives neither.
	etag         string
	lastModified time.Time
}

func (o *object) Size() int64  { return o.size }
func (o *object) Close() error { return nil }

// ReadAt reads len(p) bytes at off, or up to the planned size, with one
// ranged GET. It fails with an error that wraps source.ErrChanged when the
// object is no longer the version planned: another ETag, size or
// Last-Modified time.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: read at negative offset %d", o.loc.URL(), off)
	}
	if off >= o.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(p)), o.size)
	// Conditional on the ETag on the server's side: a single request
	// cannot read a mix of two versions.
	resp, err := o.core.get(o.ctx, o.loc.bucket, o.loc.key, off, end-1, o.etag)
	if err != nil {
		return 0, classify(o.loc, err)
	}
	body := resp.Body
	defer body.Close()
	if err := o.check(resp.Header, off); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(body, p[:end-off])
	if err != nil {
		return n, fmt.Errorf("read %s at %d: %w", o.loc.URL(), off, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// check checks that a response to a read at off is of the planned version
// and range. If-Match covers ETags only where the server honours it, so
// the ETag is checked here too.
func (o *object) check(h http.Header, off int64) error {
	total, start, err := totalSize(h)
	if err != nil {
		return fmt.Errorf("%s: %w", o.loc.URL(), err)
	}
	switch {
	case total != o.size:
		return fmt.Errorf("%s: %w (its size is %d, planned %d)", o.loc.URL(), source.ErrChanged, total, o.size)
	case start != off:
		return fmt.Errorf("%s: the server answered a read at %d with bytes from %d", o.loc.URL(), off, start)
	case o.etag != "" && strings.Trim(h.Get("ETag"), `"`) != o.etag:
		return fmt.Errorf("%s: %w (its ETag is no longer the one planned)", o.loc.URL(), source.ErrChanged)
	case !o.lastModified.IsZero():
		// Not If-Unmodified-Since: versitygw compares it with the file's
		// sub-second time, and fails it even for the Last-Modified it gave.
		lm, err := http.ParseTime(h.Get("Last-Modified"))
		if err != nil {
			return fmt.Errorf("%s: %w (no valid Last-Modified: %v)", o.loc.URL(), source.ErrChanged, err)
		}
		if !lm.Equal(o.lastModified) {
			return fmt.Errorf("%s: %w (modified at %s, planned %s)", o.loc.URL(), source.ErrChanged,
				lm.UTC().Format(time.RFC3339), o.lastModified.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// totalSize is the object's size and the response's first byte, from
// Content-Range ("bytes FIRST-LAST/TOTAL") or, for a response with the
// whole object, Content-Length.
func totalSize(h http.Header) (total, start int64, err error) {
	cr := h.Get("Content-Range")
	if cr == "" {
		total, err = strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		if err != nil {
			return 0, 0, errors.New("response has neither Content-Range nor Content-Length")
		}
		return total, 0, nil
	}
	rng, totalText, ok := strings.Cut(strings.TrimPrefix(cr, "bytes "), "/")
	first, _, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("invalid Content-Range %q", cr)
	}
	start, err1 := strconv.ParseInt(first, 10, 64)
	total, err2 := strconv.ParseInt(totalText, 10, 64)
	if err1 != nil || err2 != nil {
		// A total of "*" means the server does not know it.
		return 0, 0, fmt.Errorf("invalid Content-Range %q", cr)
	}
	return total, start, nil
}

// StreamRange reads n bytes at off in one GET, checked as ReadAt checks a
// range. Each request to an S3 service costs about a millisecond beside
// its bytes: a worker reads a split in one of them, not one per range. One
// request also sees one version of the object, even where the version
// planned is only a size and a time (a whole object read by Stream).
func (o *object) StreamRange(off, n int64) (io.ReadCloser, error) {
	if off < 0 || n < 0 || off+n > o.size {
		return nil, fmt.Errorf("%s: range [%d, +%d) is outside its %d bytes", o.loc.URL(), off, n, o.size)
	}
	if n == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	last := int64(-1) // the whole object
	if off > 0 || n < o.size {
		last = off + n - 1
	}
	resp, err := o.core.get(o.ctx, o.loc.bucket, o.loc.key, off, last, o.etag)
	if err != nil {
		return nil, classify(o.loc, err)
	}
	if err := o.check(resp.Header, off); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return &whole{ReadCloser: resp.Body, url: o.loc.URL(), left: n}, nil
}

// whole is an object's body, which must hold exactly its size: one cut
// short (a connection lost) is an error, never a shorter text.
type whole struct {
	io.ReadCloser
	url  string
	left int64
}

func (w *whole) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	w.left -= int64(n)
	if err == io.EOF && w.left != 0 {
		err = fmt.Errorf("read %s: the response ended %d bytes early", w.url, w.left)
	} else if err != nil && err != io.EOF {
		err = fmt.Errorf("read %s: %w", w.url, err)
	}
	return n, err
}
