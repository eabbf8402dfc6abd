package chunk

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// naiveBlock is the block definition applied byte by byte to the whole
// document: the reference ReadBlock must match.
func naiveBlock(doc []byte, k int64, cfg Config) (start, end int64) {
	canEnd := func(b byte) bool { return b == '\n' || cfg.SplitAtSpace && isCutSpace(b) }
	n := int64(len(doc))
	firstCut := func(from int64) int64 { // offset just after the first cut at or after from
		for i := max(from, 0); i < n; i++ {
			if canEnd(doc[i]) {
				return i + 1
			}
		}
		return n
	}
	b := int64(cfg.Size)
	if k > 0 {
		start = firstCut(k*b - 1)
	}
	end = n
	if (k+1)*b < n {
		end = firstCut((k+1)*b - 1)
	}
	return min(start, end), end
}

// naiveBlockFails applies the MaxLine rule: a block that is not empty fails
// when the cut point that ends it lies more than MaxLine bytes past its
// nominal end (the document's last byte standing in for a missing one).
func naiveBlockFails(doc []byte, k int64, cfg Config) bool {
	canEnd := func(b byte) bool { return b == '\n' || cfg.SplitAtSpace && isCutSpace(b) }
	n := int64(len(doc))
	tooFar := func(nominal int64) bool {
		c := n - 1
		for i := nominal - 1; i < n; i++ {
			if canEnd(doc[i]) {
				c = i
				break
			}
		}
		return c-nominal > int64(cfg.MaxLine)
	}
	b := int64(cfg.Size)
	if start, end := naiveBlock(doc, k, cfg); start == end && k > 0 {
		return false
	}
	return (k+1)*b < n && tooFar((k+1)*b)
}

// TestBlocksMatchNaive reads every block of random documents, with and
// without a reusable buffer, reading on in steps small and large, and
// checks them against the definition: the bytes, the offsets, which blocks
// fail for a long line, and that the blocks re-join to the document.
func TestBlocksMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	saved := blockSlack
	defer func() { blockSlack = saved }()
	for trial := range 6000 {
		doc := randomDoc(rng)
		cfg := randomConfig(rng)
		blockSlack = saved
		if trial%3 > 0 {
			blockSlack = 1 + rng.Int64N(8) // read on in small steps
		}
		var joined []byte
		failed := false
		buf := make([]byte, 0, int64(cfg.Size)+blockSlack+64)
		for k := range BlockCount(int64(len(doc)), cfg) {
			if trial%2 == 0 {
				buf = nil
			}
			data, off, used, err := ReadBlock(bytes.NewReader(doc), int64(len(doc)), k, cfg, buf)
			buf = used
			if want := naiveBlockFails(doc, k, cfg); (err != nil) != want || err != nil && !errors.Is(err, ErrLineTooLong) {
				t.Fatalf("%+v on %q, block %d: got error %v, want ErrLineTooLong: %t", cfg, doc, k, err, want)
			}
			if err != nil {
				failed = true
				continue
			}
			start, end := naiveBlock(doc, k, cfg)
			if start < end && off != start || string(data) != string(doc[start:end]) {
				t.Fatalf("%+v on %q, block %d: got %q at %d, want %q at %d", cfg, doc, k, data, off, doc[start:end], start)
			}
			joined = append(joined, data...)
		}
		if !failed && !bytes.Equal(joined, doc) {
			t.Fatalf("%+v on %q: blocks re-join to %q", cfg, doc, joined)
		}
	}
}

// TestBlockShrunk: a document shorter than the size it was cut for fails
// the blocks that reach past its end with ErrShrunk, never a panic.
func TestBlockShrunk(t *testing.T) {
	doc := bytes.Repeat([]byte("abc def\n"), 100)
	cfg := Config{Size: 64, MaxLine: 1 << 20}
	size := int64(len(doc)) + 100
	shrunk := 0
	for k := range BlockCount(size, cfg) {
		_, _, _, err := ReadBlock(bytes.NewReader(doc), size, k, cfg, nil)
		if err != nil && !errors.Is(err, ErrShrunk) {
			t.Fatalf("block %d: %v", k, err)
		}
		if err != nil {
			shrunk++
		}
	}
	if shrunk == 0 {
		t.Fatal("no block noticed that the document shrank")
	}
	if _, _, _, err := ReadBlock(bytes.NewReader(doc), int64(len(doc)), BlockCount(int64(len(doc)), cfg), cfg, nil); err == nil {
		t.Fatal("a block past the last was read")
	}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// TestBlocksReadLinearly: reading every block of a document made of one
// long line costs about one read of the document, not one per block.
func TestBlocksReadLinearly(t *testing.T) {
	saved := blockSlack
	defer func() { blockSlack = saved }()
	blockSlack = 64
	doc := append(bytes.Repeat([]byte("x"), 1<<20), "\nend\n"...)
	cfg := Config{Size: 1 << 10, MaxLine: 4 << 20}
	src := &countingReaderAt{r: bytes.NewReader(doc)}
	var joined []byte
	for k := range BlockCount(int64(len(doc)), cfg) {
		data, _, _, err := ReadBlock(src, int64(len(doc)), k, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, data...)
	}
	if !bytes.Equal(joined, doc) {
		t.Fatal("blocks do not re-join to the document")
	}
	if src.n > 4*int64(len(doc)) {
		t.Fatalf("read %d bytes for a %d-byte document", src.n, len(doc))
	}
}

// TestRangesTileLikeBlocks: a document cut at random nominal points reads,
// range by range, as the same bytes as its blocks, whatever the tiling: a
// split read as smaller ranges counts exactly what one read of it would.
func TestRangesTileLikeBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 4000 {
		doc := randomDoc(rng)
		if len(doc) == 0 {
			continue
		}
		cfg := randomConfig(rng)
		cfg.MaxLine = max(cfg.MaxLine, len(doc)+1) // no failures: the tiling alone is tested
		size := int64(len(doc))
		for k := range BlockCount(size, cfg) {
			lo, hi := k*int64(cfg.Size), min((k+1)*int64(cfg.Size), size)
			want, wantOff, _, err := ReadBlock(bytes.NewReader(doc), size, k, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Tile [lo, hi) at random points and read each piece.
			var got []byte
			gotOff := int64(-1)
			for a := lo; a < hi; {
				b := min(hi, a+1+rng.Int64N(int64(cfg.Size)))
				data, off, _, err := ReadRange(bytes.NewReader(doc), size, a, b, cfg, nil)
				if err != nil {
					t.Fatalf("range [%d, %d) of %q: %v", a, b, doc, err)
				}
				if len(data) > 0 {
					if gotOff < 0 {
						gotOff = off
					}
					if off != gotOff+int64(len(got)) {
						t.Fatalf("range [%d, %d) of %q at %d, want %d", a, b, doc, off, gotOff+int64(len(got)))
					}
				}
				got = append(got, data...)
				a = b
			}
			if !bytes.Equal(got, want) || len(want) > 0 && gotOff != wantOff {
				t.Fatalf("%+v on %q, block %d: ranges give %q at %d, the block %q at %d", cfg, doc, k, got, gotOff, want, wantOff)
			}
		}
	}
}

// TestRangeBounds: ranges outside the document are errors, not panics.
func TestRangeBounds(t *testing.T) {
	doc := []byte("a b\nc d\n")
	cfg := Config{Size: 4, MaxLine: 16}
	for _, r := range [][2]int64{{-1, 2}, {3, 3}, {5, 2}, {0, 9}} {
		if _, _, _, err := ReadRange(bytes.NewReader(doc), int64(len(doc)), r[0], r[1], cfg, nil); err == nil {
			t.Errorf("range %v of an %d-byte document: no error", r, len(doc))
		}
	}
}

// TestReadRangePageAligned: every range is read into memory whose address
// is congruent to its document offset modulo the page size, whatever the
// buffer passed in, and a buffer handed back is reused as it is.
func TestReadRangePageAligned(t *testing.T) {
	doc := bytes.Repeat([]byte("one two three\nfour five\n"), 20000)
	cfg := DefaultConfig()
	cfg.Size = 64 << 10
	var buf []byte
	for _, lo := range []int64{0, 1, 4095, 4096, 4097, 100000, 65535, 300001} {
		for _, shift := range []int{0, 1, 7, 4095} {
			in := buf
			if len(in) > shift {
				in = in[shift:] // a buffer that starts anywhere
			}
			data, off, used, err := ReadRange(bytes.NewReader(doc), int64(len(doc)), lo, min(lo+int64(cfg.Size), int64(len(doc))), cfg, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > 0 {
				addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(data))))
				if (addr-uint64(off))%pageSize != 0 {
					t.Errorf("range at %d (buffer shifted %d): data at address %#x for offset %d, want congruent modulo %d", lo, shift, addr, off, pageSize)
				}
			}
			if !bytes.Equal(data, doc[off:off+int64(len(data))]) {
				t.Fatalf("range at %d: got other bytes than the document's at %d", lo, off)
			}
			buf = used
		}
	}
	before := cap(buf)
	_, _, used, err := ReadRange(bytes.NewReader(doc), int64(len(doc)), 8192, 8192+int64(cfg.Size), cfg, buf)
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.SliceData(used) != unsafe.SliceData(buf) || cap(used) != before {
		t.Errorf("a large enough buffer was not reused: cap %d -> %d", before, cap(used))
	}
}

// TestSliceRangeMatchesReadRange: a document held whole in memory gives,
// for any range, what ReadRange reads from it: the same bytes at the same
// offset, or the same error (a line too long); held shorter than planned,
// every range fails with ErrShrunk.
func TestSliceRangeMatchesReadRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 6000 {
		doc := randomDoc(rng)
		if len(doc) == 0 {
			continue
		}
		cfg := randomConfig(rng)
		size := int64(len(doc))
		held := doc
		if trial%10 == 0 {
			held = doc[:rng.IntN(len(doc))] // shrank since it was measured
		}
		for range 8 {
			lo := rng.Int64N(size)
			hi := lo + 1 + rng.Int64N(size-lo)
			got, gotOff, err := SliceRange(held, size, lo, hi, cfg)
			if len(held) < len(doc) {
				if !errors.Is(err, ErrShrunk) {
					t.Fatalf("range [%d, %d) of a %d-byte document held as %d bytes: got error %v, want ErrShrunk", lo, hi, size, len(held), err)
				}
				continue
			}
			want, wantOff, _, wantErr := ReadRange(bytes.NewReader(doc), size, lo, hi, cfg, nil)
			if (err != nil) != (wantErr != nil) || errors.Is(err, ErrLineTooLong) != errors.Is(wantErr, ErrLineTooLong) {
				t.Fatalf("%+v, range [%d, %d) of %q: got error %v, ReadRange's %v", cfg, lo, hi, doc, err, wantErr)
			}
			if err == nil && (string(got) != string(want) || len(want) > 0 && gotOff != wantOff) {
				t.Fatalf("%+v, range [%d, %d) of %q: got %q at %d, ReadRange's %q at %d", cfg, lo, hi, doc, got, gotOff, want, wantOff)
			}
		}
	}
}

// TestSliceRangeLongLineBounded: in a large document with no cut point, a
// range's end is looked for only MaxLine bytes on, not to the document's
// end, and fails as a line too long.
func TestSliceRangeLongLineBounded(t *testing.T) {
	doc := bytes.Repeat([]byte("x"), 1<<20)
	cfg := Config{Size: 64, MaxLine: 128}
	_, _, err := SliceRange(doc, int64(len(doc)), 0, 64, cfg)
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("got %v, want ErrLineTooLong", err)
	}
}
