package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/decompress"
	"github.com/tallyhq/tally/internal/backoff"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// plan is how a job cuts its documents: streams into chunks, stored
// documents into splits of block bytes (remoteBlock in an object store)
// that workers read by cut.
type plan struct {
	chunk              chunk.Config
	block, remoteBlock int64
	fileRead           int // Config.FileReadSize
}

// split is the split size and cut rule of a document at url.
func (p plan) split(url string) (int64, task.Cut) {
	block, read := p.block, p.chunk.Size
	if source.Scheme(url) != "file" {
		block = p.remoteBlock
	} else if p.fileRead > 0 {
		read = p.fileRead
	}
	cfg := p.chunk
	return block, task.Cut{ReadSize: int(min(block, int64(max(read, minRead)))), MaxLine: cfg.MaxLine, SplitAtSpace: cfg.SplitAtSpace}
}

// feedJob feeds in's documents into j and ends j if that fails. An error
// that comes from the job ending (a cancel, a client gone) keeps the job's
// own cause, so a cancelled job reads as cancelled, not failed.
func (c *Coordinator) feedJob(j *job, in Inputs, p plan) {
	err := c.feed(j, in, p)
	switch {
	case err == nil:
	case j.ctx.Err() != nil:
		j.end(context.Cause(j.ctx))
	case errors.Is(err, context.Canceled): // the client went away
		j.end(err)
	default:
		j.fail(err)
	}
}

// feed turns every document of in into tasks and queues them, holding at
// most the job's window of tasks: a source faster than the workers is
// slowed down here instead of being buffered.
func (c *Coordinator) feed(j *job, in Inputs, p plan) error {
	for {
		d, err := in.Next()
		if errors.Is(err, io.EOF) {
			j.uploadDone()
			return nil
		}
		if err != nil {
			return err
		}
		if d.Object != nil {
			if err := c.feedObject(j, *d.Object, p); err != nil {
				return err
			}
			continue
		}
		doc := j.addDocument(d.Name, d.Size)
		err = c.feedStream(j, doc, d.Name, d.Reader, p.chunk)
		if cl, ok := d.Reader.(io.Closer); ok {
			cl.Close()
		}
		if err != nil {
			return err
		}
	}
}

// feedObject plans a stored document: splits of p.block bytes, which the
// workers read themselves, so the coordinator reads nothing. A compressed
// document cannot be read at an offset, and one whose version is not exact
// cannot be read in parts safely (a rewrite could go unseen between them):
// such a document is one task that a worker reads whole, in one request,
// or, when no worker can reach its store, a stream read here.
func (c *Coordinator) feedObject(j *job, info source.Info, p plan) error {
	doc := j.addDocument(info.Name, info.Size)
	if info.Size == 0 {
		return nil
	}
	ref := info.Ref()
	block, cut := p.split(info.URL)
	ref.Cut = cut
	format, err := c.peek(j.ctx, ref)
	if err != nil {
		return err
	}
	if format != decompress.None || !info.Exact {
		if !c.pool.someoneReads(info.URL) {
			return c.streamObject(j, doc, ref, p.chunk)
		}
		ref.Whole = true
		return c.queue(j, func() (*unit, error) { return j.addSplit(doc, ref) })
	}
	for lo := int64(0); lo < info.Size; lo += block {
		ref.Offset, ref.Length = lo, min(block, info.Size-lo)
		if err := c.queue(j, func() (*unit, error) { return j.addSplit(doc, ref) }); err != nil {
			return err
		}
	}
	return nil
}

// queue adds the task that add makes to j, once j's window has room.
func (c *Coordinator) queue(j *job, add func() (*unit, error)) error {
	if err := j.acquire(); err != nil {
		return err
	}
	t, err := add()
	if err != nil {
		return err
	}
	c.sched.push(t)
	return nil
}

// peek reads the first bytes of a stored document: is it compressed? A
// store that fails for a moment is tried again, as a worker would.
func (c *Coordinator) peek(ctx context.Context, ref task.Ref) (format decompress.Format, err error) {
	b := backoff.New(100*time.Millisecond, time.Second)
	for attempt := 1; ; attempt++ {
		if format, err = c.peekOnce(ctx, ref); err == nil || errors.Is(err, task.ErrInput) || attempt == 3 || !b.Wait(ctx) {
			return format, err
		}
	}
}

func (c *Coordinator) peekOnce(ctx context.Context, ref task.Ref) (decompress.Format, error) {
	obj, err := c.stores.Open(ctx, ref)
	if err != nil {
		return decompress.None, err
	}
	defer obj.Close()
	var magic [4]byte
	n, err := obj.ReadAt(magic[:min(len(magic), int(ref.Size))], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return decompress.None, source.ReadError(ref.URL, err)
	}
	return decompress.Detect(magic[:n]), nil
}

// streamObject reads a document that must be read whole (compressed, or
// without an exact version) here, in one request, and streams it to the
// workers in chunks, when none can reach its store.
func (c *Coordinator) streamObject(j *job, doc int, ref task.Ref, cfg chunk.Config) error {
	obj, err := c.stores.Open(j.ctx, ref)
	if err != nil {
		return err
	}
	defer obj.Close()
	text, err := source.Text(obj, ref.URL, 1<<20)
	if err != nil {
		return err
	}
	defer text.Close()
	return c.feedStream(j, doc, ref.URL, text, cfg)
}

// feedStream cuts a document read from r into chunks and queues them.
func (c *Coordinator) feedStream(j *job, doc int, name string, r io.Reader, cfg chunk.Config) error {
	cr, err := chunk.NewReader(&received{r: r, job: j}, cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", task.ErrInput, err)
	}
	for {
		ch, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, chunk.ErrLineTooLong) || errors.Is(err, decompress.ErrCorrupt) || errors.Is(err, task.ErrInput) {
			return fmt.Errorf("%w: document %q: %w", task.ErrInput, name, err)
		}
		if err != nil {
			return fmt.Errorf("read document %q: %w", name, err)
		}
		if err := c.queue(j, func() (*unit, error) { return j.addTask(doc, ch) }); err != nil {
			return err
		}
	}
}

// received counts what is read of a stream as the job's received bytes.
type received struct {
	r   io.Reader
	job *job
}

func (r *received) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.job.received(n)
	return n, err
}

// readSplit reads a split for a worker that cannot reach its store: the
// coordinator carries its bytes, as it does a stream's. It reads into a
// buffer of an earlier split that release gave back: memory just used is
// mapped and cached already, where a fresh 16 MiB is cleared and faulted
// in page by page during the read.
func (c *Coordinator) readSplit(ctx context.Context, ref task.Ref) (data []byte, release func(), err error) {
	obj, err := c.stores.Open(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	defer obj.Close()
	var buf []byte
	if b, ok := c.splitBuffers.Get().(*[]byte); ok {
		buf = *b
	}
	data, used, err := source.ReadRange(obj, ref, ref.Offset, ref.End(), buf)
	release = func() { c.splitBuffers.Put(&used) }
	if err != nil {
		release()
		return nil, nil, err
	}
	return data, release, nil
}
