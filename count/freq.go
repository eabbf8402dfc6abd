package count

import (
	"cmp"
	"container/heap"
	"slices"
)

// Freq is a token -> count table. Its zero value is an empty table, ready to
// use. It is not safe for concurrent use: parallel work fills one Freq per
// goroutine and merges them afterwards.
type Freq struct {
	// m maps a token to its index in counts. Keeping the counts out of the
	// map lets Add update a known token with a lookup alone: m[string(b)] on
	// a read does not copy b, but an assignment would.
	m      map[string]int
	counts []int64
}

// Entry is one row of a frequency table.
type Entry struct {
	// Token holds the token's raw bytes, which may be invalid UTF-8.
	Token string
	// Count is how many times the token occurred.
	Count int64
}

// NewFreq returns an empty table.
func NewFreq() *Freq {
	return &Freq{m: make(map[string]int)}
}

// Add adds n to the count of token. The table keeps its own copy of the bytes.
func (f *Freq) Add(token []byte, n int64) {
	if i, ok := f.m[string(token)]; ok {
		f.counts[i] += n
		return
	}
	if f.m == nil {
		f.m = make(map[string]int)
	}
	f.m[string(token)] = len(f.counts)
	f.counts = append(f.counts, n)
}

func (f *Freq) addString(token string, n int64) {
	if i, ok := f.m[token]; ok {
		f.counts[i] += n
		return
	}
	if f.m == nil {
		f.m = make(map[string]int)
	}
	f.m[token] = len(f.counts)
	f.counts = append(f.counts, n)
}

// Merge adds every count of o to f; o may be nil.
func (f *Freq) Merge(o *Freq) {
	if o == nil {
		return
	}
	for k, i := range o.m {
		f.addString(k, o.counts[i])
	}
}

// Len returns the number of distinct tokens.
func (f *Freq) Len() int {
	if f == nil {
		return 0
	}
	return len(f.m)
}

// Each calls fn for every token, in no particular order. The token slice is
// only valid during the call, so fn must copy it to keep it.
func (f *Freq) Each(fn func(token []byte, n int64)) {
	if f == nil {
		return
	}
	var buf []byte
	for k, i := range f.m {
		buf = append(buf[:0], k...)
		fn(buf, f.counts[i])
	}
}

// Top returns the k most frequent tokens, or all when k <= 0, ordered by
// count descending and then by the token's bytes ascending, so that the
// order is total and independent of map iteration.
func (f *Freq) Top(k int) []Entry {
	if f == nil {
		return nil
	}
	if k <= 0 || k >= len(f.m) {
		all := make([]Entry, 0, len(f.m))
		for tok, i := range f.m {
			all = append(all, Entry{Token: tok, Count: f.counts[i]})
		}
		slices.SortFunc(all, compareEntries)
		return all
	}
	// Keep the k best seen so far in a heap rooted at the worst of them, so
	// a large table costs O(n log k) rather than a full sort.
	h := make(worstFirst, 0, k)
	for tok, i := range f.m {
		e := Entry{Token: tok, Count: f.counts[i]}
		switch {
		case len(h) < k:
			heap.Push(&h, e)
		case compareEntries(e, h[0]) < 0:
			h[0] = e
			heap.Fix(&h, 0)
		}
	}
	slices.SortFunc(h, compareEntries)
	return h
}

// worstFirst is a heap of entries whose root sorts last in Top's order.
type worstFirst []Entry

func (h worstFirst) Len() int           { return len(h) }
func (h worstFirst) Less(i, j int) bool { return compareEntries(h[i], h[j]) > 0 }
func (h worstFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *worstFirst) Push(x any)        { *h = append(*h, x.(Entry)) }
func (h *worstFirst) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func compareEntries(a, b Entry) int {
	if c := cmp.Compare(b.Count, a.Count); c != 0 {
		return c
	}
	return cmp.Compare(a.Token, b.Token)
}

// runTop builds the frequency table of a top query. For whitespace tokens it
// also returns the token count, which it gets for free.
func runTop(q TopQuery, text []byte) (f *Freq, tokens int64, counted bool) {
	f = NewFreq()
	var buf []byte
	add := func(tok []byte) {
		if q.Lower {
			buf = appendLower(buf[:0], tok)
			tok = buf
		}
		f.Add(tok, 1)
	}
	if q.WordsOnly {
		for i := skipNonWord(text, 0); i < len(text); i = skipNonWord(text, i) {
			j := skipWord(text, i)
			add(text[i:j])
			i = j
		}
		return f, 0, false
	}
	for i := skipSpace(text, 0); i < len(text); i = skipSpace(text, i) {
		j := skipToken(text, i)
		add(text[i:j])
		tokens++
		i = j
	}
	return f, tokens, true
}
