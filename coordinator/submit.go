package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// Request is a job to run: what to compute, over which documents.
type Request struct {
	Query query.Job
	// ChunkSize is the size of a stream's chunks and of a worker's reads
	// of a split; 0 uses Config.ChunkSize.
	ChunkSize int
	// BlockSize is the size of the splits of stored documents, one task
	// each; 0 uses Config.BlockSize. It is at least Config.MinBlock.
	BlockSize int
	// Inputs yields the documents, in order.
	Inputs Inputs
	// Client names who submits the job, for Config.MaxJobsPerClient (see
	// clientKey); "" is a caller in this process, which has no such bound.
	Client string
}

// Input is one document of a job: a stored one (Object), which the
// workers read by reference where they can reach its store, or a stream
// (Reader), which the coordinator reads and cuts into chunks.
type Input struct {
	Name   string
	Object *source.Info
	// Reader is a stream's text. If it is an io.Closer it is closed when
	// read.
	Reader io.Reader
	// Size is a stream's size if known, for progress; 0 if not.
	Size int64
}

// Inputs yields a job's documents one after another.
type Inputs interface {
	// Next returns the next document, or io.EOF after the last. A stream
	// it returned is read to its end before Next is called again.
	Next() (Input, error)
}

// List returns Inputs over docs, then over then's documents when it is not nil.
func List(docs []Input, then Inputs) Inputs { return &list{docs: docs, then: then} }

type list struct {
	docs []Input
	then Inputs
}

func (l *list) Next() (Input, error) {
	if len(l.docs) > 0 {
		in := l.docs[0]
		l.docs = l.docs[1:]
		return in, nil
	}
	if l.then == nil {
		return Input{}, io.EOF
	}
	return l.then.Next()
}

// Job is a job submitted to the coordinator: a handle to follow it by.
type Job struct{ j *job }

// ID names the job for GetJob, WatchJob and CancelJob.
func (h *Job) ID() string { return h.j.id }

// Done is closed when the job ends.
func (h *Job) Done() <-chan struct{} { return h.j.done }

// Snapshot returns the job as it is now, with its result if it succeeded
// and withResult is set.
func (h *Job) Snapshot(withResult bool) Snapshot { return h.j.snapshot(withResult) }

// Cancel cancels the job; it is a no-op once the job has ended.
func (h *Job) Cancel() { h.j.cancel(fmt.Errorf("cancelled: %w", context.Canceled)) }

// Wait blocks until the job ends and returns its result, or why it failed:
// an error that wraps task.ErrInput (the input is at fault), ErrNoWorkers,
// or context.Canceled.
func (h *Job) Wait() (*Result, error) {
	<-h.j.done
	s := h.j.snapshot(true)
	switch {
	case s.State == Succeeded:
		return s.Result, nil
	case s.State == Canceled:
		return nil, fmt.Errorf("job %s was cancelled: %w", h.j.id, context.Canceled)
	}
	return nil, fmt.Errorf("job %s failed: %w", h.j.id, s.Err)
}

// Submit starts a job. It fails at once, before any work, for a query or
// size beyond the limits (an error that wraps task.ErrInput), a matcher
// beyond Config.MaxMatcherMemory (errMemory), or when Config.MaxJobs run,
// or Config.MaxJobsPerClient of req.Client's (errTooManyJobs). ctx bounds
// the job: when it ends, the job is cancelled. The job reads req.Inputs on
// a goroutine of its own.
func (c *Coordinator) Submit(ctx context.Context, req Request) (*Job, error) {
	p, err := c.plan(req)
	if errors.Is(err, errMemory) {
		return nil, err
	}
	if err != nil {
		return nil, task.InputError(err.Error())
	}
	j, err := c.admit(ctx, req.Query, req.Client)
	if err != nil {
		return nil, err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(j.fed)
		c.feedJob(j, req.Inputs, p)
	}()
	return &Job{j}, nil
}

// plan checks a request and settles its sizes.
func (c *Coordinator) plan(req Request) (plan, error) {
	q := req.Query
	if err := q.Spec.Validate(); err != nil {
		return plan{}, err
	}
	if err := c.checkLimits(q); err != nil {
		return plan{}, err
	}
	if req.Inputs == nil {
		return plan{}, errors.New("no inputs")
	}
	if req.ChunkSize < 0 || req.BlockSize < 0 {
		return plan{}, fmt.Errorf("chunk size %d and block size %d must not be negative", req.ChunkSize, req.BlockSize)
	}
	if req.ChunkSize > c.cfg.MaxLine {
		return plan{}, fmt.Errorf("chunk size %d is above the coordinator's limit %d", req.ChunkSize, c.cfg.MaxLine)
	}
	ccfg, err := c.chunkConfig(q, req.ChunkSize)
	if err != nil {
		return plan{}, err
	}
	if req.BlockSize > maxBlock {
		return plan{}, fmt.Errorf("block size %d is above the limit %d", req.BlockSize, maxBlock)
	}
	p := plan{chunk: ccfg, block: int64(c.cfg.BlockSize), remoteBlock: int64(c.cfg.RemoteBlockSize)}
	if q.Spec.Count != nil {
		p.fileRead = c.cfg.FileReadSize // a top job's table per read grows with the read
	}
	if req.BlockSize > 0 {
		p.block, p.remoteBlock = int64(req.BlockSize), int64(req.BlockSize)
	}
	if p.remoteBlock == 0 {
		p.remoteBlock = p.block
	}
	p.block, p.remoteBlock = max(p.block, int64(c.cfg.MinBlock)), max(p.remoteBlock, int64(c.cfg.MinBlock))
	return p, nil
}

// minRead is the smallest read of a split: each read looks a little past
// its end, so reads as small as tiny chunks (which serve tests of the
// cutting) would read the split many times over. It never changes an answer.
const minRead = 64 << 10

// maxBlock bounds a split: a coordinator that reads one for a worker that
// cannot reach its store sends it in one message.
const maxBlock = task.MaxMessageBytes / 2

// URLInputs returns the stored documents that urls name (s3://BUCKET/KEY,
// or every object under s3://BUCKET/PREFIX/), to be read by reference, in
// order. A url that names nothing, or that no store reads, is an error
// that wraps task.ErrInput; a store that cannot be reached is another.
func (c *Coordinator) URLInputs(ctx context.Context, urls []string, hidden bool) ([]Input, error) {
	var out []Input
	for _, u := range urls {
		infos, err := c.stores.List(ctx, u, source.ListOptions{Hidden: hidden})
		if errors.Is(err, errors.ErrUnsupported) {
			err = fmt.Errorf("%w: %w", task.ErrInput, err)
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", u, err)
		}
		for i := range infos {
			out = append(out, Input{Name: infos[i].Name, Object: &infos[i]})
		}
	}
	return out, nil
}
