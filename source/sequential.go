package source

import (
	"io"
)

// RangeStreamer is an Object that reads a range of itself in one request,
// as a stream: a store whose requests cost much more than their bytes (S3)
// reads a split that way instead of one request per ReadAt. The stream
// fails with ErrChanged if the object is not the version planned.
type RangeStreamer interface {
	Object
	StreamRange(off, n int64) (io.ReadCloser, error)
}

// lookback is how many bytes before its position a Sequential keeps: the
// ranges of a split that chunk.ReadRange reads overlap by less (each reads
// a little past its end, and the next starts a byte early).
const lookback = 64 << 10

// Sequential returns a ReaderAt over obj for one reader that reads
// [off, end) mostly forward, as chunk.ReadRange reads the ranges of a
// split: when obj is a RangeStreamer, one streamed request serves them all,
// and reads before the kept bytes or past end fall back to obj.ReadAt.
// Close it when done. It is not safe for concurrent use.
func Sequential(obj Object, off, end int64) *SequentialReader {
	s := &SequentialReader{obj: obj, pos: off, end: min(end, obj.Size())}
	s.streamer, _ = obj.(RangeStreamer)
	return s
}

// SequentialReader is the reader Sequential returns.
type SequentialReader struct {
	obj      Object
	streamer RangeStreamer // nil: every read is obj.ReadAt
	body     io.ReadCloser // the stream, opened at the first read
	pos, end int64         // body's next byte, and where it ends
	keep     []byte        // the bytes just before pos, at most lookback
	err      error         // the stream failed: reads fall back
}

// ReadAt reads len(p) bytes at off, from the bytes kept and the stream
// where it can, and from obj otherwise.
func (s *SequentialReader) ReadAt(p []byte, off int64) (int, error) {
	if s.streamer == nil || s.err != nil {
		return s.obj.ReadAt(p, off)
	}
	kept := s.pos - int64(len(s.keep))
	if off < kept || off > s.pos || off+int64(len(p)) > s.end {
		return s.obj.ReadAt(p, off) // not a forward read of the range
	}
	n := copy(p, s.keep[off-kept:])
	if n == len(p) {
		return n, nil
	}
	if s.body == nil {
		if s.body, s.err = s.streamer.StreamRange(s.pos, s.end-s.pos); s.err != nil {
			return s.obj.ReadAt(p, off) // its own errors say more, and it may work
		}
	}
	m, err := io.ReadFull(s.body, p[n:])
	if err != nil {
		// A stream cut short, or a version that changed: reads at offsets
		// from now on, which check the version on every request.
		s.err = err
		return s.obj.ReadAt(p, off)
	}
	s.remember(p[n : n+m])
	return n + m, nil
}

// remember appends b, just read from the stream, to the kept bytes.
func (s *SequentialReader) remember(b []byte) {
	s.pos += int64(len(b))
	if len(b) >= lookback {
		s.keep = append(s.keep[:0], b[len(b)-lookback:]...)
		return
	}
	if drop := len(s.keep) + len(b) - lookback; drop > 0 {
		s.keep = append(s.keep[:0], s.keep[drop:]...)
	}
	s.keep = append(s.keep, b...)
}

// Close ends the stream, if one was opened.
func (s *SequentialReader) Close() error {
	if s.body != nil {
		return s.body.Close()
	}
	return nil
}
