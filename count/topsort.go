package count

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
)

// sortKey is an entry as the full sort orders it: by rank, ascending,
// which is count descending; then by the token's first twelve bytes, read
// big-endian so that integer order is byte order (a shorter token is
// padded with zeros, which keeps that order wherever two tokens differ
// within those bytes). Only keys equal in all of that compare their whole
// tokens. Sorting these small values, rather than entries through their
// indexes, keeps the sort in cache.
type sortKey struct {
	rank   uint64 // rankOf(count)
	prefix uint64 // bytes 0-7
	i      int32  // the entry's index in the view
	next   uint32 // bytes 8-11, in what would be padding
}

// rankOf maps a count to a rank that sorts ascending as counts sort
// descending. Its top byte is the count up to 255, and the rest is the
// excess: most counts of a text are small, so the radix sort's first
// split sorts nearly all keys by count, rather than a split for each byte
// of the largest count.
func rankOf(count int64) uint64 {
	c := uint64(count)
	if c < 255 {
		return ^(c << 56)
	}
	return ^(255<<56 | (c - 255)) // c - 255 < 2^56, as counts are
}

// sorted returns every entry in Top's order.
func (v topView) sorted() []Entry {
	keys := v.sortKeys()
	if len(keys) < radixTableMin {
		v.sortByComparison(keys)
	} else {
		v.radixSort(keys, makePopulated[sortKey](len(keys), len(keys)), false, 0)
	}
	idx := make([]int32, len(keys))
	for j, k := range keys {
		idx[j] = k.i
	}
	return v.entries(idx)
}

func (v topView) sortKeys() []sortKey {
	keys := makePopulated[sortKey](len(v.ids), len(v.ids))
	for j, id := range v.ids {
		k := sortKey{rank: rankOf(v.count(id)), i: id}
		if int(id) < len(v.f.short) {
			// A short token's words hold its bytes little-endian, zero
			// above them: reversed, they are its first bytes big-endian.
			s := v.f.short[id]
			k.prefix, k.next = bits.ReverseBytes64(s.lo), bits.ReverseBytes32(uint32(s.hi))
		} else {
			var b [12]byte
			copy(b[:], v.f.key(v.f.ents[int(id)-len(v.f.short)]))
			k.prefix, k.next = binary.BigEndian.Uint64(b[:]), binary.BigEndian.Uint32(b[8:])
		}
		keys[j] = k
	}
	return keys
}

const (
	// keyDigits is how many bytes of a sortKey the radix sort looks at.
	keyDigits = 8 + 8 + 4
	// radixTableMin is the fewest entries that the full sort radix sorts:
	// below a few hundred, the splits' fixed costs outweigh their gain.
	radixTableMin = 256
	// radixMin is the fewest keys that the radix sort splits: fewer sort
	// faster by insertion.
	radixMin = 32
)

// radixSort sorts src, whose keys agree on their digits before d, into
// src or, if toBuf, into buf, which is as long. It is an MSD radix sort:
// it splits the keys into buckets by the first digit on which they differ
// and sorts each bucket likewise. Only the first splits scatter keys over
// the whole table, where an LSD sort would scatter them all for every
// digit; the buckets below soon fit in cache, and most end small, which
// sort by insertion. Each split scatters into the other slice, and its
// buckets sort back, so only the leaves copy.
func (v topView) radixSort(src, buf []sortKey, toBuf bool, d int) {
	var ends [256]int
	if len(src) >= radixMin {
		d = countDigits(&ends, src, d)
	}
	if len(src) < radixMin || d == keyDigits {
		v.sortByComparison(src)
		if toBuf {
			copy(buf, src)
		}
		return
	}
	sum := 0
	for b, n := range &ends {
		ends[b] = sum // for now, where bucket b starts
		sum += n
	}
	for _, k := range src {
		b := k.digit(d)
		buf[ends[b]] = k
		ends[b]++
	}
	start := 0
	for _, end := range &ends {
		if end > start {
			v.radixSort(buf[start:end], src[start:end], !toBuf, d+1)
		}
		start = end
	}
}

// countDigits counts keys by their digit d into n and returns d; if they
// all share that digit, it does so for the first digit on which they
// differ instead, or returns keyDigits if there is none.
func countDigits(n *[256]int, keys []sortKey, d int) int {
	if d < keyDigits {
		countDigit(n, keys, d)
		if n[keys[0].digit(d)] < len(keys) {
			return d
		}
		*n = [256]int{}
	}
	if d = firstVarying(keys); d < keyDigits {
		countDigit(n, keys, d)
	}
	return d
}

func countDigit(n *[256]int, keys []sortKey, d int) {
	for i := range keys {
		n[keys[i].digit(d)]++
	}
}

// firstVarying returns the first digit on which keys differ, or keyDigits.
// One pass finds it where counting digit after digit would take a pass
// each: the rank's low bytes are the same for all counts below 255.
func firstVarying(keys []sortKey) int {
	var rank, prefix uint64
	var next uint32
	for _, k := range keys {
		rank |= k.rank ^ keys[0].rank
		prefix |= k.prefix ^ keys[0].prefix
		next |= k.next ^ keys[0].next
	}
	switch {
	case rank != 0:
		return bits.LeadingZeros64(rank) / 8
	case prefix != 0:
		return 8 + bits.LeadingZeros64(prefix)/8
	case next != 0:
		return 16 + bits.LeadingZeros32(next)/8
	}
	return keyDigits
}

// digit is k's byte d, most significant first.
func (k *sortKey) digit(d int) byte {
	switch {
	case d < 8:
		return byte(k.rank >> (8 * (7 - d)))
	case d < 16:
		return byte(k.prefix >> (8 * (15 - d)))
	}
	return byte(k.next >> (8 * (19 - d)))
}

// sortByComparison sorts keys by comparing them: a small table's, and
// the radix sort's leaves, which nearly all have few keys and sort by
// insertion; a large leaf is keys that agree on every byte the radix sort
// looks at, which only their whole tokens tell apart.
func (v topView) sortByComparison(keys []sortKey) {
	compare := func(a, b sortKey) int {
		switch {
		case a.rank != b.rank:
			return cmp.Compare(a.rank, b.rank)
		case a.prefix != b.prefix:
			return cmp.Compare(a.prefix, b.prefix)
		case a.next != b.next:
			return cmp.Compare(a.next, b.next)
		}
		return v.compare(a.i, b.i) // the same count and first bytes: the whole tokens decide
	}
	if len(keys) >= radixMin {
		slices.SortFunc(keys, compare)
		return
	}
	for i := 1; i < len(keys); i++ {
		k, j := keys[i], i
		for ; j > 0 && compare(k, keys[j-1]) < 0; j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
	}
}
