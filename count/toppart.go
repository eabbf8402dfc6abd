package count

import (
	"math/bits"
	"strings"
)

// TopPart is Top(k) of one part of f's tokens, part of parts (a power of
// two): the tokens whose hash's top bits are part. The parts of a table are
// disjoint and together hold all of its tokens, so MergeTop of every
// part's TopPart(k) is Top(k). Parts only read f: a caller may sort them
// at once, on several cores, while nothing changes f.
func (f *Freq) TopPart(k, part, parts int) []Entry {
	if f == nil {
		return nil
	}
	if parts <= 1 {
		return f.Top(k)
	}
	if parts&(parts-1) != 0 || part < 0 || part >= parts {
		panic("count: TopPart of a part out of range, or of parts not a power of two")
	}
	// Room for a share of the entries, with some to spare: hashes spread
	// tokens evenly, and growing by appends costs copies.
	v := topView{f: f, ids: makePopulated[int32](0, f.Len()/parts+f.Len()/(8*parts)+64)}
	f.eachShortIn(part, parts, func(i int) { v.ids = append(v.ids, int32(i)) })
	shift := 64 - bits.TrailingZeros(uint(parts))
	v = v.withLong(func(e freqEntry) bool { return int(e.hash>>shift) == part })
	return v.top(k)
}

// eachShortIn calls fn with the slot of every short entry whose hash's top
// bits are part of parts (a power of two): those whose home slot is in the
// part's share of the table, as home takes the hash's top bits. They lie
// from that share's first slot up to the first empty slot after its last,
// since a probe never passes an empty slot, perhaps wrapping around the end.
func (f *Freq) eachShortIn(part, parts int, fn func(slot int)) {
	m := len(f.short)
	if m < parts { // shares of less than a slot: look at every one
		shift := 64 - bits.TrailingZeros(uint(parts))
		for i, s := range f.short {
			if s.meta != 0 && int(hashWords(s.lo, s.hi, int(s.meta>>56))>>shift) == part {
				fn(i)
			}
		}
		return
	}
	lo, hi := part*(m/parts), (part+1)*(m/parts)
	for i := lo; ; i++ {
		p := i & (m - 1)
		s := f.short[p]
		if s.meta == 0 {
			if i >= hi {
				return
			}
			continue
		}
		// Entries of the share before this one's may have been pushed into
		// it, as this one's may be pushed past it.
		if h := home(hashWords(s.lo, s.hi, int(s.meta>>56)), m); lo <= h && h < hi {
			fn(p)
		}
	}
}

// MergeTop merges lists, each in Top's order, into one in that order and
// returns its first k entries, or all when k <= 0.
func MergeTop(lists [][]Entry, k int) []Entry {
	for len(lists) > 1 {
		var next [][]Entry
		for i := 0; i < len(lists); i += 2 {
			if i+1 == len(lists) {
				next = append(next, lists[i])
				continue
			}
			next = append(next, mergeTwo(lists[i], lists[i+1], k))
		}
		lists = next
	}
	if len(lists) == 0 {
		return nil
	}
	if k > 0 && len(lists[0]) > k {
		return lists[0][:k]
	}
	return lists[0]
}

// MergeTopRange writes entries lo to hi of the merge of a and b, each in
// Top's order and sharing no token (parts of one table), to out[lo:hi].
// Ranges that tile out make the whole merge, and a caller may write them
// at once, on several cores: a full table's merge is otherwise a serial
// pass over all of its entries at the end of a job.
func MergeTopRange(out, a, b []Entry, lo, hi int) {
	i := corank(lo, a, b)
	j := lo - i
	for n := lo; n < hi; n++ {
		if j == len(b) || i < len(a) && entryBefore(a[i], b[j]) {
			out[n] = a[i]
			i++
		} else {
			out[n] = b[j]
			j++
		}
	}
}

// corank returns how many of the first n entries of the merge of a and b
// come from a: the fewest i for which b's last entry among them, b[n-i-1],
// comes before a[i], which holds for every i above it too.
func corank(n int, a, b []Entry) int {
	lo, hi := max(0, n-len(b)), min(n, len(a))
	for lo < hi {
		i := int(uint(lo+hi) / 2) // lo <= i < hi: a[i] and b[n-i-1] exist
		if entryBefore(b[n-i-1], a[i]) {
			hi = i
		} else {
			lo = i + 1
		}
	}
	return lo
}

// mergeTwo merges a and b, in Top's order, up to k entries (all if k <= 0).
func mergeTwo(a, b []Entry, k int) []Entry {
	n := len(a) + len(b)
	if k > 0 {
		n = min(n, k)
	}
	out := make([]Entry, 0, n)
	for len(out) < n {
		switch {
		case len(b) == 0 || len(a) > 0 && entryBefore(a[0], b[0]):
			out = append(out, a[0])
			a = a[1:]
		default:
			out = append(out, b[0])
			b = b[1:]
		}
	}
	return out
}

// entryBefore reports whether a comes before b in Top's order: count
// descending, then the token's bytes ascending.
func entryBefore(a, b Entry) bool {
	if a.Count != b.Count {
		return a.Count > b.Count
	}
	return strings.Compare(a.Token, b.Token) < 0
}
