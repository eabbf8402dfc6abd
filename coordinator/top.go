package coordinator

import (
	"runtime"
	"sync"

	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/query"
)

// minPartedTop is the fewest distinct tokens whose table is sorted in
// parts: below some thousands, starting goroutines costs more than it saves.
const minPartedTop = 1 << 14

// topOf returns f.Top(k), sorted in parts on all cores at once: a job's
// full table is hundreds of thousands of tokens, whose sort is the serial
// tail of a top job.
func topOf(f *count.Freq, k int) []query.Entry {
	parts := 1
	for parts*2 <= runtime.GOMAXPROCS(0) && f.Len() >= minPartedTop {
		parts *= 2
	}
	if parts == 1 {
		return f.Top(k)
	}
	lists := make([][]query.Entry, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() { lists[p] = f.TopPart(k, p, parts) })
	}
	wg.Wait()
	for len(lists) > 1 {
		next := make([][]query.Entry, len(lists)/2)
		for i := range next {
			next[i] = mergeOf(lists[2*i], lists[2*i+1], k, parts)
		}
		lists = next
	}
	return lists[0]
}

// mergeOf merges a and b, parts of one table in Top's order, up to k
// entries (all if k <= 0): a long merge in parts ranges at once, since
// it is a pass over the whole table after the sorts.
func mergeOf(a, b []query.Entry, k, parts int) []query.Entry {
	n := len(a) + len(b)
	if k > 0 {
		n = min(n, k)
	}
	if n < minPartedTop {
		return count.MergeTop([][]query.Entry{a, b}, k)
	}
	out := make([]query.Entry, n)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() { count.MergeTopRange(out, a, b, p*n/parts, (p+1)*n/parts) })
	}
	wg.Wait()
	return out
}
