package count

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestTopParts: the parts of a table, sorted apart and merged, are Top(k)
// for every k and number of parts, on tables of short and long tokens, of
// fewer slots than parts, of full probe runs that wrap around the end, and
// after merges; every token is in exactly one part.
func TestTopParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	alphabet := []byte{0, 'a', 'b', 0xff}
	for trial := range 60 {
		f := NewFreq()
		for range 1 + rng.IntN(4) {
			o := NewFreq()
			for range rng.IntN([]int{3, 40, 3000}[trial%3]) {
				b := make([]byte, 1+rng.IntN(maxShort+4))
				for i := range b {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				}
				o.Add(b, int64(1+rng.IntN(3)))
			}
			f.Merge(o)
		}
		if trial%5 == 0 {
			// A crowded table: few slots, long probe runs past the end.
			crowded := &Freq{short: make([]shortSlot, 1<<bitsFor(f.nshort))}
			crowded.Merge(f)
			f = crowded
		}
		want := f.Top(0)
		for _, parts := range []int{1, 2, 4, 8, 2048} {
			for _, k := range []int{0, 1, 5, len(want) / 2, len(want) + 1} {
				lists := make([][]Entry, parts)
				n := 0
				for p := range parts {
					lists[p] = f.TopPart(k, p, parts)
					n += len(lists[p])
				}
				if k <= 0 && n != len(want) {
					t.Fatalf("trial %d, %d parts: %d entries in all, want %d", trial, parts, n, len(want))
				}
				wantK := want
				if k > 0 && k < len(want) {
					wantK = want[:k]
				}
				if d := diffEntries(MergeTop(lists, k), wantK); d != "" {
					t.Fatalf("trial %d, %d parts, k %d: %s", trial, parts, k, d)
				}
			}
		}
	}
}

// bitsFor is the bits of the smallest power of two above 2n, at least 1.
func bitsFor(n int) int {
	b := 1
	for 1<<b <= 2*n {
		b++
	}
	return b
}

// TestTopPartsAtOnce sorts the parts of one table on goroutines at once,
// as the coordinator does: under -race, any write to the shared table
// fails it (its long tokens' arena has spare room a sort could append to).
func TestTopPartsAtOnce(t *testing.T) {
	f := NewFreq()
	for i := range 5000 {
		f.Add(fmt.Appendf(nil, "token-%d", i%1500), 1)
		f.Add(fmt.Appendf(nil, "a-token-long-enough-for-the-arena-%d", i%700), 1)
	}
	want := f.Top(0)
	lists := make([][]Entry, 4)
	var wg sync.WaitGroup
	for p := range lists {
		wg.Go(func() { lists[p] = f.TopPart(0, p, len(lists)) })
	}
	wg.Wait()
	if d := diffEntries(MergeTop(lists, 0), want); d != "" {
		t.Fatal(d)
	}
}

// TestMergeTopRange: two parts' lists merged in ranges that tile the
// output, of every size from one entry to all, are MergeTop of the lists,
// including when one list is empty or every entry of one comes first.
func TestMergeTopRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for trial := range 40 {
		f := NewFreq()
		for range []int{0, 1, 7, 300, 2000}[trial%5] {
			f.Add(fmt.Appendf(nil, "t%d", rng.IntN(5000)), int64(1+rng.IntN(4)))
		}
		a, b := f.TopPart(0, 0, 2), f.TopPart(0, 1, 2)
		if trial%7 == 6 { // all of a before all of b
			a, b = f.Top(0)[:f.Len()/2], f.Top(0)[f.Len()/2:]
		}
		want := MergeTop([][]Entry{a, b}, 0)
		for _, pieces := range []int{1, 2, 3, 8, len(want)} {
			for _, lists := range [][2][]Entry{{a, b}, {b, a}} {
				out := make([]Entry, len(want))
				for p := range pieces {
					MergeTopRange(out, lists[0], lists[1], p*len(out)/max(pieces, 1), (p+1)*len(out)/max(pieces, 1))
				}
				if d := diffEntries(out, want); d != "" {
					t.Fatalf("trial %d, %d pieces: %s", trial, pieces, d)
				}
			}
		}
	}
}
