package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/internal/backoff"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// Storage retries: a transient error of the store (a refused connection, a
// 5xx, a timeout) is tried again a few times with backoff before the task
// fails and the coordinator gives it to another worker.
const (
	storeAttempts    = 4
	storeBackoffBase = 100 * time.Millisecond
	storeBackoffMax  = 2 * time.Second
)

// readRef counts the lines that ref's split holds: it opens the document
// and reads the split as a run of ReadSize ranges, one buffer at a time, so
// that a split of any size costs one buffer of memory (chunk.ReadRange:
// ranges that tile a split read as the split does). A compressed document
// comes whole and is read as a stream.
func (e *Engine) readRef(ctx context.Context, prog *count.Program, ref task.Ref) (count.Partial, error) {
	if e.open == nil || !e.storage.CanRead(ref.URL) {
		return count.Partial{}, fmt.Errorf("this worker cannot read %s", ref.URL)
	}
	var obj source.Object
	err := e.retry(ctx, ref.URL, func() error {
		var err error
		obj, err = e.open.Open(ctx, ref)
		return err
	})
	if err != nil {
		return count.Partial{}, err
	}
	defer obj.Close()
	if ref.Whole {
		return e.readWhole(prog, obj, ref)
	}
	if m, ok := obj.(source.InPlace); ok {
		if doc, err := m.Mapped(); err == nil {
			return e.readMapped(prog, m, doc, ref)
		}
		// Not mappable (an empty file, a file system without maps): read it.
	}
	// A store that streams a range (S3) serves the split's reads from one
	// request, beginning a byte early and going a little past its end, as
	// chunk.ReadRange reads.
	seq := source.Sequential(e.counting(obj, source.Scheme(ref.URL)), max(ref.Offset-1, 0), ref.End()+splitSlack)
	defer seq.Close()
	buf, _ := e.buffers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer e.buffers.Put(buf)
	// The first range's partial becomes the total: merging it into an
	// empty table would copy the whole table of a one-range split.
	var total count.Partial
	for lo := ref.Offset; lo < ref.End(); lo += int64(ref.Cut.ReadSize) {
		hi := min(lo+int64(ref.Cut.ReadSize), ref.End())
		var data []byte
		err := e.retry(ctx, ref.URL, func() error {
			var err error
			data, *buf, err = source.ReadRange(seq, ref, lo, hi, *buf)
			return err
		})
		if err != nil {
			return count.Partial{}, err
		}
		if total, err = e.add(prog, total, data); err != nil {
			return count.Partial{}, err
		}
	}
	return answer(prog, total), nil // no range: an empty text's answer
}

// readMapped counts the lines of ref's split in doc, its document mapped
// into memory: the ranges readRef reads, cut in place by chunk.SliceRange
// as chunk.ReadRange cuts them, without the copy out of the page cache. A
// file truncated under the map faults where its lost pages are touched; the
// fault becomes the error of a file that changed while it was read.
func (e *Engine) readMapped(prog *count.Program, obj source.InPlace, doc []byte, ref task.Ref) (total count.Partial, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			at, ok := faultAt(r, doc)
			if !ok {
				panic(r)
			}
			// Truncation, nearly always; else the device failed.
			total, err = count.Partial{}, source.ReadError(ref.URL, fmt.Errorf("the page at byte offset %d of its memory map could not be read: %w", at, chunk.ErrShrunk))
		}
	}()
	scheme := source.Scheme(ref.URL)
	for lo := ref.Offset; lo < ref.End(); lo += int64(ref.Cut.ReadSize) {
		hi := min(lo+int64(ref.Cut.ReadSize), ref.End())
		data, _, err := chunk.SliceRange(doc, ref.Size, lo, hi, ref.Cut.Config())
		if err != nil {
			return count.Partial{}, source.ReadError(ref.URL, err)
		}
		e.metrics.StoreRead(scheme, len(data))
		if total, err = e.add(prog, total, data); err != nil {
			return count.Partial{}, err
		}
	}
	obj.Unmap(ref.Offset, ref.End())
	// As each ReadAt checks the version after it reads, so does the split
	// after it is counted: a rewrite in place changes the modification time.
	if err := obj.Check(); err != nil {
		total.Freq.Release()
		return count.Partial{}, err
	}
	return answer(prog, total), nil
}

// faultAt returns the offset in doc of the memory fault that r is the panic
// of (debug.SetPanicOnFault), and false when r is any other panic, or a
// fault outside doc's pages: a bug, not a file that changed, which goes on.
func faultAt(r any, doc []byte) (int64, bool) {
	f, ok := r.(interface{ Addr() uintptr })
	if !ok || len(doc) == 0 {
		return 0, false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(doc)))
	end := start + uintptr(len(doc)+4095)&^4095
	if f.Addr() < start || f.Addr() >= end {
		return 0, false
	}
	return int64(f.Addr() - start), true
}

// checkTable refuses a split's merged table that grew beyond the budget,
// or that lost counts to a limit on the way (never returned as a result).
func (e *Engine) checkTable(total count.Partial) error {
	if total.Freq.Over() || (e.maxTop > 0 && total.Freq.Bytes() > e.maxTop) {
		total.Freq.Release()
		return e.tableError()
	}
	return nil
}

// readWhole counts a whole document read as a stream, in one request where
// the store can: decompressed if it is compressed, cut into chunks of
// ReadSize as a coordinator cuts an upload.
func (e *Engine) readWhole(prog *count.Program, obj source.Object, ref task.Ref) (count.Partial, error) {
	// Reads at offsets, if need be, of a large buffer's size: one request
	// serves many small reads of the decompressor.
	text, err := source.Text(e.counting(obj, source.Scheme(ref.URL)), ref.URL, max(ref.Cut.ReadSize, 64<<10))
	if err != nil {
		return count.Partial{}, err
	}
	defer text.Close()
	cr, err := chunk.NewReader(text, ref.Cut.Config())
	if err != nil {
		return count.Partial{}, err
	}
	var total count.Partial // the first chunk's partial, as in readRef
	for {
		c, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return answer(prog, total), nil
		}
		if err != nil {
			return count.Partial{}, source.ReadError(ref.URL, err)
		}
		if total, err = e.add(prog, total, c.Data); err != nil {
			return count.Partial{}, err
		}
	}
}

// add counts data and merges its answer into total, within the engine's
// budget for a split's table.
func (e *Engine) add(prog *count.Program, total count.Partial, data []byte) (count.Partial, error) {
	p, err := e.count(prog, data)
	if err != nil {
		return count.Partial{}, err
	}
	total = merge(total, p)
	if err := e.checkTable(total); err != nil {
		return count.Partial{}, err
	}
	return total, nil
}

// answer is a split's total, or an empty text's answer (counts of 0, an
// empty table) when it had no text to count.
func answer(prog *count.Program, total count.Partial) count.Partial {
	if total.Counts == nil && total.Freq == nil {
		return prog.Run(nil)
	}
	return total
}

// merge adds p into total, taking p's table for the first piece instead of
// copying it.
func merge(total, p count.Partial) count.Partial {
	if total.Counts == nil && total.Freq == nil {
		return p
	}
	total.Merge(p)
	p.Freq.Release()
	return total
}

// retry runs fn until it succeeds, fails for good (an input error, or its
// line rule), or has failed storeAttempts times.
func (e *Engine) retry(ctx context.Context, url string, fn func() error) error {
	b := backoff.New(storeBackoffBase, storeBackoffMax)
	var err error
	for attempt := 1; ; attempt++ {
		err = fn()
		if err == nil || errors.Is(err, task.ErrInput) {
			return err
		}
		if attempt == storeAttempts || !b.Wait(ctx) {
			return fmt.Errorf("%s: gave up after %d attempts: %w", url, attempt, err)
		}
		e.metrics.StoreRetry(source.Scheme(url))
	}
}

// splitSlack is how far past a split's end its stream goes: far enough to
// finish the last line nearly always (a longer one is read at offsets).
const splitSlack = 64 << 10

// counted counts the bytes a worker reads from a store, for metrics.
type counted struct {
	source.Object
	m      *Engine
	scheme string
}

func (c *counted) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.Object.ReadAt(p, off)
	c.m.metrics.StoreRead(c.scheme, n)
	return n, err
}

// counting wraps obj to count the bytes read from it, keeping its ability
// to stream a range.
func (e *Engine) counting(obj source.Object, scheme string) source.Object {
	c := &counted{Object: obj, m: e, scheme: scheme}
	if rs, ok := obj.(source.RangeStreamer); ok {
		return &countedRanges{counted: c, rs: rs}
	}
	return c
}

// countedRanges is counted for a store that streams ranges.
type countedRanges struct {
	*counted
	rs source.RangeStreamer
}

func (c *countedRanges) StreamRange(off, n int64) (io.ReadCloser, error) {
	body, err := c.rs.StreamRange(off, n)
	if err != nil {
		return nil, err
	}
	return readCloser{Reader: &countedStream{r: body, m: c.m, scheme: c.scheme}, Closer: body}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// countedStream counts the bytes a worker reads from a store's stream.
type countedStream struct {
	r      io.Reader
	m      *Engine
	scheme string
}

func (c *countedStream) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.m.metrics.StoreRead(c.scheme, n)
	return n, err
}
