// Package chunk cuts a document into pieces that can be counted independently.
//
// The coordinator spreads one document over many workers, and every answer must
// equal that of one pass over the whole document (SPEC: "Chunking must never
// change an answer"). That holds when no match can span a cut: tally's targets
// never contain a newline, so cutting right after a '\n' is always safe. A line
// longer than the chunk size is not cut inside (the chunk grows instead) unless
// Config.SplitAtSpace allows a cut after ASCII whitespace.
//
// The Reader streams: it holds at most about Config.MaxLine + Config.Size bytes,
// however long the document is. It is pure: no goroutines and no logging.
package chunk

import (
	"errors"
	"fmt"
)

// Chunk is one piece of a document.
//
// Data is owned by the caller: chunks are held until their result is merged,
// so the Reader never reuses a buffer it has returned. With a Pool, the
// caller gives the buffer back by Release once nothing reads Data any more.
type Chunk struct {
	// Seq numbers the chunks of one Reader from 0.
	Seq int
	// Offset is the byte offset of Data[0] in the document.
	Offset int64
	// Data is the chunk's bytes; it is never empty.
	Data []byte

	pool *Pool  // where buf came from, or nil
	buf  []byte // the whole array Data lies in
}

// Release gives the chunk's buffer back to the Reader's Pool, for a later
// chunk to be read into: call it once, when nothing reads Data any more.
// Without a Pool it does nothing.
func (c Chunk) Release() {
	if c.pool != nil {
		c.pool.put(c.buf)
	}
}

// ErrLineTooLong reports that no cut point was found within Config.MaxLine bytes.
// Next returns it wrapped with the offset of the uncuttable text; test with errors.Is.
var ErrLineTooLong = errors.New("line too long")

// Default sizes used by DefaultConfig.
const (
	DefaultSize    = 1 << 20  // 1 MiB
	DefaultMaxLine = 64 << 20 // 64 MiB
)

// Config says where a Reader may cut.
type Config struct {
	// Size is the target chunk size in bytes. A chunk ends right after the last
	// '\n' within its first Size bytes; 1 is valid.
	Size int
	// MaxLine is the hard limit on a chunk that cannot be cut within Size bytes
	// (a long line). It must be at least Size. Next fails with ErrLineTooLong
	// when there is no cut point within MaxLine bytes.
	MaxLine int
	// SplitAtSpace lets a chunk that has no '\n' within Size bytes end right after
	// an ASCII whitespace byte: '\t' '\n' '\v' '\f' '\r' ' ' or 0x1C..0x1F. Only enable it for answers that
	// cannot span whitespace, such as the token mode and top: a substring or word
	// target may contain a space, and a cut there would split its match.
	SplitAtSpace bool
	// Pool, if not nil, supplies the chunks' buffers and takes them back
	// through Chunk.Release. It must be a Pool for chunks of Size bytes.
	Pool *Pool
}

// DefaultConfig returns 1 MiB chunks, 64 MiB lines and cuts at newlines only.
func DefaultConfig() Config {
	return Config{Size: DefaultSize, MaxLine: DefaultMaxLine}
}

// Validate reports whether c can be used by NewReader.
func (c Config) Validate() error {
	if c.Size < 1 {
		return fmt.Errorf("chunk size %d: must be at least 1 byte", c.Size)
	}
	if c.MaxLine < c.Size {
		return fmt.Errorf("max line %d: must be at least the chunk size %d", c.MaxLine, c.Size)
	}
	if err := c.Pool.check(c); err != nil {
		return err
	}
	return nil
}

// cutSpace is the set of bytes that SplitAtSpace may cut after: the ASCII bytes
// that Python's str.split() splits on. They are whole characters in UTF-8 (and
// in the surrogateescape reading of invalid bytes), so a cut after one never
// splits a character or a token.
const cutSpace = "\t\n\v\f\r \x1c\x1d\x1e\x1f"
