package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// Blocks cut a document of known size that can be read at any offset (a
// local file) into pieces that whoever counts them reads for themselves, in
// parallel, instead of one reader cutting them in turn. Block k is about
// the document's bytes from k*Size to (k+1)*Size, moved to cut points:
// it starts right after the first cut point at or after byte k*Size-1 (the
// document's start for block 0) and ends right after the first cut point at
// or after byte (k+1)*Size-1 (or at the document's end). A cut point is a
// '\n', or with SplitAtSpace any byte a Reader may cut after. Each block's
// end is where the next one starts, so the blocks partition the document,
// and no block splits a line (or, with SplitAtSpace, a token): every answer
// is the same as over the whole document. A block inside a long line is
// empty: the line belongs to the block where it starts.
//
// Unlike a Reader's chunks, a block is found without reading the ones
// before it, and reading one costs about Size bytes plus the rest of its
// last line: a block with no cut point in its nominal bytes is empty, known
// without looking further. As a Reader keeps lines of up to MaxLine bytes
// whole, a block fails with ErrLineTooLong only when its end would be more
// than MaxLine bytes past its nominal end, which takes a line that long.

// BlockCount is the number of blocks of a document of size bytes.
func BlockCount(size int64, cfg Config) int64 {
	return (size + int64(cfg.Size) - 1) / int64(cfg.Size)
}

// blockSlack is how much ReadBlock reads past a block's nominal end at
// first: enough for the rest of a line nearly always, so that one read
// serves a block. Tests make it small, to read on in small steps.
var blockSlack int64 = 16 << 10

// ReadBlock reads block k of the document of size bytes in src and returns
// its bytes, its offset in the document and the buffer it read into: buf
// when it was large enough (Size plus a few pages), so that a caller that
// passes the last one back allocates nothing. Read errors are returned
// wrapped with the offset; a document shorter than size fails with
// ErrShrunk.
func ReadBlock(src io.ReaderAt, size, k int64, cfg Config, buf []byte) (data []byte, offset int64, used []byte, err error) {
	b := int64(cfg.Size)
	if k < 0 || b < 1 || k*b >= size {
		return nil, 0, buf, fmt.Errorf("block %d of a %d-byte document does not exist", k, size)
	}
	return ReadRange(src, size, k*b, min((k+1)*b, size), cfg, buf)
}

// ReadRange reads the piece of the document whose nominal bytes are [lo,
// hi), moved to cut points by the block rule: it starts right after the
// first cut point at or after byte lo-1 (the document's start when lo is 0)
// and ends right after the first cut point at or after byte hi-1 (or at the
// document's end). Block k is the range [k*Size, (k+1)*Size); any ranges
// that tile the document partition it the same way, so a worker may read a
// large split as a run of smaller ranges, one buffer at a time, and count
// exactly what one read of the split would. cfg.Size only bounds how far a
// long last line is read per step. Returns as ReadBlock.
func ReadRange(src io.ReaderAt, size, lo, hi int64, cfg Config, buf []byte) (data []byte, offset int64, used []byte, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, 0, buf, err
	}
	if lo < 0 || lo >= hi || hi > size {
		return nil, 0, buf, fmt.Errorf("range [%d, %d) of a %d-byte document does not exist", lo, hi, size)
	}
	r := blockReader{src: src, cfg: cfg, size: size, store: buf}
	// The read starts one byte early: the first cut point at or after lo-1.
	// It reads a little past hi, enough to finish the last line nearly
	// always, but not much more than a small range itself.
	r.base = max(lo-1, 0)
	r.buf = pageAligned(buf, r.base)[:0]
	if err := r.fill(hi - r.base + min(blockSlack, max(hi-lo, 256))); err != nil {
		return nil, 0, r.store, err
	}
	data, offset, err = r.cut(lo, hi)
	return data, offset, r.store, err
}

// SliceRange returns the piece of doc, a whole document of size bytes held
// in memory (a mapped file), that ReadRange would read for the nominal
// range [lo, hi), without copying it. A doc shorter than size fails with
// ErrShrunk.
func SliceRange(doc []byte, size, lo, hi int64, cfg Config) (data []byte, offset int64, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, 0, err
	}
	if lo < 0 || lo >= hi || hi > size {
		return nil, 0, fmt.Errorf("range [%d, %d) of a %d-byte document does not exist", lo, hi, size)
	}
	if int64(len(doc)) < size {
		return nil, 0, fmt.Errorf("map document at byte offset %d: %w", len(doc), ErrShrunk)
	}
	r := blockReader{cfg: cfg, size: size, buf: doc[:size]} // read whole: fill has nothing to do
	return r.cut(lo, hi)
}

// cut finds the piece of the nominal range [lo, hi) in the bytes read so
// far, reading on as needed: it starts right after the first cut point at
// or after byte lo-1 and ends right after the first at or after hi-1.
func (r *blockReader) cut(lo, hi int64) ([]byte, int64, error) {
	start := int64(0) // the first range starts at the document's start
	if lo > 0 {
		// The first cut point at or after lo-1 ends the range before. If it
		// is not before hi-1, it is this range's end too: the range is empty.
		i := r.indexCut(r.buf[lo-1-r.base : hi-1-r.base])
		if i < 0 {
			return r.buf[lo-r.base : lo-r.base], lo, nil // inside a line that began in an earlier range
		}
		start = lo + int64(i)
	}
	end := r.size
	if hi < r.size {
		i, err := r.findCut(hi-1-r.base, hi)
		if err != nil {
			return nil, 0, err
		}
		end = i + 1
	}
	return r.buf[start-r.base : end-r.base], start, nil
}

// pageSize is the page size that page-cache copies are aligned to.
const pageSize = 4096

// pageAligned returns buf re-sliced (at most pageSize-1 bytes in) so that
// its first byte's address is congruent to off modulo pageSize: a read of
// the document at off then copies from the page cache page to page. On
// AMD Zen 4 a copy whose destination is 1-15 bytes off the source modulo
// the page size runs at a fifth of the speed (NOTES.md), and a read that
// starts one byte early, as ReadRange's do, is exactly that.
func pageAligned(buf []byte, off int64) []byte {
	if cap(buf) == 0 {
		return buf
	}
	addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
	pad := int((uint64(off) - addr) % pageSize)
	if pad > cap(buf) {
		return buf[:0]
	}
	return buf[pad:pad:cap(buf)]
}

// ErrShrunk reports a document that ended before the size it was cut for:
// it changed while it was being read.
var ErrShrunk = errors.New("the document is shorter than when it was measured: it changed while it was being read")

// blockReader holds the document's bytes from base on, as far as read.
type blockReader struct {
	src   io.ReaderAt
	cfg   Config
	size  int64
	base  int64  // document offset of buf[0]
	buf   []byte // read so far, page-aligned to base inside store
	store []byte // the whole buffer buf lies in, handed back for reuse
}

// fill reads until buf holds n bytes or reaches the document's end.
func (r *blockReader) fill(n int64) error {
	n = min(n, r.size-r.base)
	if int64(len(r.buf)) >= n {
		return nil
	}
	if int64(cap(r.buf)) < n {
		r.store = make([]byte, n+pageSize)
		grown := pageAligned(r.store, r.base)[:len(r.buf)]
		copy(grown, r.buf)
		r.buf = grown
	}
	at := r.base + int64(len(r.buf))
	got, err := r.src.ReadAt(r.buf[len(r.buf):n], at)
	r.buf = r.buf[:len(r.buf)+got]
	switch {
	case int64(len(r.buf)) == n:
		return nil // io.EOF may come with the last bytes
	case err == nil || errors.Is(err, io.EOF):
		return fmt.Errorf("read document at byte offset %d: %w", at+int64(got), ErrShrunk)
	default:
		return fmt.Errorf("read document at byte offset %d: %w", at+int64(got), err)
	}
}

// findCut returns the document offset of the first cut point at or after
// buf[from], reading on as needed, or size-1 if there is none: the
// document's end ends the block. nominal is the block boundary looked for:
// a cut point more than MaxLine bytes past it fails with ErrLineTooLong.
func (r *blockReader) findCut(from, nominal int64) (int64, error) {
	limit := nominal + int64(r.cfg.MaxLine) // the last offset a cut may have
	for {
		// A cut past limit is refused whatever it is, so the search stops
		// there: in a whole mapped document, the rest may be long.
		upto := min(int64(len(r.buf)), limit+1-r.base)
		if i := r.indexCut(r.buf[from:upto]); i >= 0 {
			return r.checkCut(r.base+from+int64(i), nominal, limit)
		}
		if int64(len(r.buf)) >= r.size-r.base {
			return r.checkCut(r.size-1, nominal, limit)
		}
		if r.base+int64(len(r.buf)) > limit {
			return r.checkCut(limit+1, nominal, limit)
		}
		from = upto
		if err := r.fill(int64(len(r.buf)) + max(int64(r.cfg.Size), blockSlack)); err != nil {
			return 0, err
		}
	}
}

func (r *blockReader) checkCut(cut, nominal, limit int64) (int64, error) {
	if cut > limit {
		return 0, fmt.Errorf("line at byte offset %d is longer than %d bytes (the chunk MaxLine): %w",
			nominal, r.cfg.MaxLine, ErrLineTooLong)
	}
	return cut, nil
}

func (r *blockReader) indexCut(b []byte) int {
	if r.cfg.SplitAtSpace {
		return bytes.IndexAny(b, cutSpace)
	}
	return bytes.IndexByte(b, '\n')
}
