package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"

	"tally/chunk"
	tallyv1 "tally/proto/tally/v1"
)

// source is the documents of one job, read one after another.
type source interface {
	// nextDocument returns the next document's header, or io.EOF after the last.
	nextDocument() (*tallyv1.DocumentHeader, error)
	// Read reads the current document's bytes; io.EOF at its end.
	io.Reader
}

// feedJob feeds src into j and ends j if that fails. An error that comes from
// the job ending (a cancel, a client gone) keeps the job's own cause, so a
// cancelled job reads as cancelled, not failed.
func (c *Coordinator) feedJob(j *job, src source, cfg chunk.Config) {
	if cl, ok := src.(io.Closer); ok {
		defer cl.Close()
	}
	err := c.feed(j, src, cfg)
	switch {
	case err == nil:
	case j.ctx.Err() != nil:
		j.end(context.Cause(j.ctx))
	default:
		j.fail(err)
	}
}

// feed cuts every document of src into chunks and queues them, holding at most
// the job's window of chunks: a source faster than the workers is slowed down
// here instead of being buffered.
func (c *Coordinator) feed(j *job, src source, cfg chunk.Config) error {
	for {
		hdr, err := src.nextDocument()
		if errors.Is(err, io.EOF) {
			j.uploadDone()
			return nil
		}
		if err != nil {
			return err
		}
		doc := j.addDocument(hdr.GetName(), int64(hdr.GetSize()))
		if path := hdr.GetLocalPath(); path != "" {
			if err := c.feedLocal(j, doc, hdr.GetName(), path, cfg); err != nil {
				return err
			}
			continue
		}
		if err := c.feedDocument(j, doc, hdr.GetName(), src, cfg); err != nil {
			return err
		}
	}
}

// minBlock is the smallest block of a local file: a worker reads a little
// past each block's end to finish its last line, which must stay small
// beside the block (chunks of a few bytes serve tests of the cutting).
const minBlock = 64 << 10

// feedLocal feeds a document the client named by its local path. A plain
// file is cut into blocks that the workers read for themselves, in
// parallel and into their own caches, so the feeder reads nothing; a
// compressed file, or anything that is not a regular file, is read here.
func (c *Coordinator) feedLocal(j *job, doc int, name, path string, cfg chunk.Config) error {
	blocks, stream, err := c.openLocal(j, name, path)
	if err != nil {
		return err
	}
	if stream != nil {
		defer stream.Close()
		return c.feedDocument(j, doc, name, stream, cfg)
	}
	defer blocks.unhold()
	cfg.Size, cfg.Pool = max(cfg.Size, min(minBlock, cfg.MaxLine)), nil
	for k := range chunk.BlockCount(blocks.size, cfg) {
		if err := j.acquire(); err != nil {
			return err
		}
		t, err := j.addBlock(doc, name, blocks, k, cfg)
		if err != nil {
			return err
		}
		c.sched.push(t)
	}
	return nil
}

func (c *Coordinator) feedDocument(j *job, doc int, name string, r io.Reader, cfg chunk.Config) error {
	cr, err := chunk.NewReader(r, cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", errInput, err)
	}
	for {
		ch, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, chunk.ErrLineTooLong) {
			return fmt.Errorf("%w: document %q: %w", errInput, name, err)
		}
		if err != nil {
			return fmt.Errorf("read document %q: %w", name, err)
		}
		if err := j.acquire(); err != nil {
			return err
		}
		t, err := j.addTask(doc, ch)
		if err != nil {
			return err
		}
		c.sched.push(t)
	}
}

// streamSource reads documents from a RunJob upload stream.
type streamSource struct {
	stream tallyv1.CoordinatorService_RunJobServer
	job    *job
	buf    []byte                  // unread data of the current document
	next   *tallyv1.DocumentHeader // header that ended the current document
	begun  bool                    // a document header has been received
	ended  bool                    // the client closed its side
}

func (s *streamSource) nextDocument() (*tallyv1.DocumentHeader, error) {
	for s.next == nil && !s.ended {
		// Skip what the previous document's reader left unread (nothing, normally).
		if _, err := s.Read(make([]byte, 64<<10)); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	if s.next == nil {
		return nil, io.EOF
	}
	h := s.next
	s.next = nil
	s.buf = nil
	return h, nil
}

func (s *streamSource) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.next != nil || s.ended {
			return 0, io.EOF
		}
		m, err := s.stream.Recv()
		if errors.Is(err, io.EOF) {
			s.ended = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("receive upload: %w", err)
		}
		switch msg := m.GetMessage().(type) {
		case *tallyv1.RunJobRequest_Document:
			s.next, s.begun = msg.Document, true
		case *tallyv1.RunJobRequest_Data:
			if !s.begun {
				return 0, fmt.Errorf("%w: data sent before any document header", errInput)
			}
			s.buf = msg.Data
		default:
			return 0, fmt.Errorf("%w: unexpected %T after the job start", errInput, msg)
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	s.job.received(n)
	return n, nil
}
