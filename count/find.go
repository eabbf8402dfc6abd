package count

import "bytes"

// finder yields, in increasing order, every position where a pattern may
// occur in a text, overlapping ones included; the caller checks each
// candidate. With the vector kernel a candidate is a position whose first,
// second and last bytes are the pattern's, found 32 positions at a time, and
// whose neighbours are in the class of ok, when given; without the kernel,
// and in the last few bytes, bytes.Index finds exact occurrences. A finder
// is not safe for concurrent use.
type finder struct {
	text, pat []byte
	ok        []uint32 // a classMap's bits, or nil: no filter on the neighbours
	off1      int      // offset of the second byte checked: 1, or 0 for a 1-byte pattern
	next      int      // first position not yet searched
	tail      bool     // the kernel is done: bytes.Index finds the rest
	buf       [256]int
}

// boundary is a byte class as the vector kernel tests it: b is in the class
// when lo[b&15] & hi[b>>4] != 0, each table repeated in both 128-bit lanes.
type boundary [64]byte

func newBoundary(lo, hi [16]byte) *boundary {
	var b boundary
	copy(b[0:], lo[:])
	copy(b[16:], lo[:])
	copy(b[32:], hi[:])
	copy(b[48:], hi[:])
	return &b
}

func (b *boundary) has(c byte) bool { return b[c&15]&b[32+c>>4] != 0 }

// wordByte is the class of ASCII word characters, which may not touch a
// word-mode match. Bit 1 is 0x30..0x39, bit 2 is 0x41..0x4F and 0x61..0x6F,
// bit 4 is 0x50..0x5A and 0x70..0x7A, bit 8 is 0x5F.
var wordByte = newBoundary(
	[16]byte{5, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 2, 2, 2, 2, 0xA},
	[16]byte{0, 0, 0, 1, 2, 4 | 8, 2, 4})

func (f *finder) reset(text, pat []byte, ok []uint32) {
	f.text, f.pat, f.ok, f.next, f.tail = text, pat, ok, 0, false
	f.off1 = min(1, len(pat)-1)
}

// exactCandidates reports whether every candidate is an occurrence: the
// kernel checks three bytes.
func (f *finder) exactCandidates() bool { return len(f.pat) <= 3 }

// candidates returns the next batch of candidate positions, or nil at the end.
func (f *finder) candidates() []int {
	for !f.tail {
		offl := len(f.pat) - 1
		stop := len(f.text) - offl
		if !useSIMD || stop-f.next < 32 {
			f.tail = true
			break
		}
		n, next := findSIMD(f.text, stop, f.next, f.pat, f.off1, offl, f.ok, f.buf[:])
		f.next = next
		if n > 0 {
			return f.buf[:n]
		}
	}
	return f.exact()
}

// exact returns the exact occurrences from f.next on, a batch at a time.
func (f *finder) exact() []int {
	n := 0
	for n < len(f.buf) && f.next <= len(f.text)-len(f.pat) {
		j := bytes.Index(f.text[f.next:], f.pat)
		if j < 0 {
			f.next = len(f.text)
			break
		}
		f.buf[n] = f.next + j
		n++
		f.next += j + 1
	}
	if n == 0 {
		return nil
	}
	return f.buf[:n]
}
