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
	return count.MergeTop(lists, k)
}
