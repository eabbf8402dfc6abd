package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// maxEmptyReads is how many (0, nil) reads in a row make a source count as
// broken, as in bufio.
const maxEmptyReads = 100

// Reader cuts a document read from an io.Reader into Chunks.
//
// The cuts are a function of the document's bytes and the Config alone: how the
// source splits its reads never moves a cut. The Reader reads in large blocks
// straight into the buffer that becomes the next chunk, and copies only the
// short tail after each cut. A Reader is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	cfg  Config
	pend []byte // read but not yet returned; its array becomes the next chunk's Data
	off  int64  // document offset of pend[0]
	seq  int    // Seq of the next chunk
	eof  bool   // src has reported io.EOF, so pend is the rest of the document
	err  error  // the first error Next returned; it returns it from then on
}

// NewReader returns a Reader that cuts the document read from r as cfg says.
func NewReader(r io.Reader, cfg Config) (*Reader, error) {
	if r == nil {
		return nil, errors.New("new chunk reader: nil io.Reader")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new chunk reader: %w", err)
	}
	return &Reader{src: r, cfg: cfg}, nil
}

// Next returns the next chunk of the document, or io.EOF after the last one (an
// empty document has no chunks). Any other error is ErrLineTooLong or the
// source's read error, wrapped with the byte offset. Once Next has returned an
// error it returns the same error on every later call.
func (r *Reader) Next() (Chunk, error) {
	if r.err != nil {
		return Chunk{}, r.err
	}
	n, err := r.cut()
	if err == nil && n == 0 {
		err = io.EOF
	}
	if err != nil {
		r.err = err
		return Chunk{}, err
	}
	// The full slice expression keeps a caller's append from reaching the bytes
	// that follow the chunk in the same array.
	c := Chunk{Seq: r.seq, Offset: r.off, Data: r.pend[:n:n], pool: r.cfg.Pool, buf: r.pend}
	r.advance(n)
	return c, nil
}

// cut reads as much as it needs and returns the length of the next chunk, or 0
// at the end of the document.
func (r *Reader) cut() (int, error) {
	size := r.cfg.Size
	// One byte past Size tells "the rest fits in one chunk" apart from "exactly
	// Size bytes and more to come" without depending on how src splits reads.
	if err := r.fill(size + 1); err != nil {
		return 0, err
	}
	if len(r.pend) <= size { // fill stops short only at EOF
		return len(r.pend), nil
	}
	if i := r.lastCut(r.pend[:size]); i >= 0 {
		return i + 1, nil
	}
	return r.extend()
}

// extend handles text with no cut point in its first Size bytes: the chunk runs
// to the first cut point after them, reading Size bytes at a time, and may grow
// to MaxLine bytes. Reading Size at a time keeps the tail after the cut, which
// advance copies, shorter than Size.
func (r *Reader) extend() (int, error) {
	limit := r.cfg.MaxLine
	from := r.cfg.Size // pend[:from] holds no cut point
	for {
		end := min(len(r.pend), limit)
		if i := r.firstCut(r.pend[from:end]); i >= 0 {
			return from + i + 1, nil
		}
		switch {
		case len(r.pend) > limit:
			return 0, fmt.Errorf("line at byte offset %d is longer than %d bytes (the chunk MaxLine): %w",
				r.off, limit, ErrLineTooLong)
		case r.eof:
			return len(r.pend), nil
		}
		from = end
		if err := r.fill(min(len(r.pend)+r.cfg.Size, limit+1)); err != nil {
			return 0, err
		}
	}
}

// lastCut returns the index of the last byte in b that a chunk may end with, or -1.
func (r *Reader) lastCut(b []byte) int {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 || !r.cfg.SplitAtSpace {
		return i
	}
	return bytes.LastIndexAny(b, cutSpace)
}

// firstCut returns the index of the first byte in b that a chunk may end with, or -1.
func (r *Reader) firstCut(b []byte) int {
	if r.cfg.SplitAtSpace {
		return bytes.IndexAny(b, cutSpace)
	}
	return bytes.IndexByte(b, '\n')
}

// fill reads until pend holds want bytes or src is at EOF.
func (r *Reader) fill(want int) error {
	if r.eof || len(r.pend) >= want {
		return nil
	}
	if cap(r.pend) < want {
		// Double, as append would, but never past the most a chunk can need, so
		// a long line costs at most MaxLine+1 bytes.
		var grown []byte
		if size := min(max(want, 2*cap(r.pend)), r.cfg.MaxLine+1); r.cfg.Pool != nil && size <= r.cfg.Size+1 {
			grown = r.cfg.Pool.get(len(r.pend))
		} else {
			grown = make([]byte, len(r.pend), size)
		}
		copy(grown, r.pend)
		if r.cfg.Pool != nil && r.pend != nil {
			r.cfg.Pool.put(r.pend) // nothing else holds it
		}
		r.pend = grown
	}
	for empty := 0; len(r.pend) < want; {
		n, err := r.src.Read(r.pend[len(r.pend):want])
		r.pend = r.pend[:len(r.pend)+n]
		switch {
		case err == io.EOF:
			r.eof = true
			return nil
		case err != nil:
			return fmt.Errorf("read document at byte offset %d: %w", r.off+int64(len(r.pend)), err)
		case n > 0:
			empty = 0
		default:
			if empty++; empty == maxEmptyReads {
				return fmt.Errorf("read document at byte offset %d: %w", r.off+int64(len(r.pend)), io.ErrNoProgress)
			}
		}
	}
	return nil
}

// advance drops the n bytes just returned. The rest moves to a new buffer, the
// next chunk's, so a returned chunk's bytes are never written again.
func (r *Reader) advance(n int) {
	rest := r.pend[n:]
	r.off += int64(n)
	r.seq++
	if r.eof { // nothing more will be read: keep just the rest
		r.pend = slices.Clone(rest)
		return
	}
	var next []byte
	if r.cfg.Pool != nil {
		next = r.cfg.Pool.get(len(rest))
	} else {
		next = make([]byte, len(rest), max(r.cfg.Size+1, len(rest)))
	}
	copy(next, rest)
	r.pend = next
}
