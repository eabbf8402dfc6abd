package count

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/tallyhq/tally/query"
)

// refTop is Top's order stated as plainly as possible: every entry, by count
// descending, then by the token's bytes ascending.
func refTop(counts map[string]int64) []Entry {
	out := make([]Entry, 0, len(counts))
	for tok, n := range counts {
		out = append(out, Entry{Token: tok, Count: n})
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.Token), []byte(b.Token))
	})
	return out
}

// sharedPrefixes start tokens that often agree on the first eight or
// twelve bytes, or more, which the full sort's keys hold, so that only the
// bytes past them tell the tokens apart; those with NUL bytes tie with
// their shorter selves on the zero-padded keys.
var sharedPrefixes = []string{
	"", "a", "ab", "ab\x00", "ab\x00\x00\x00\x00\x00\x00", "abcdefgh", "abcdefghijklmnop",
	"internationaliz", "\x00\x00\x00\x00\x00\x00\x00\x00", "\xff\xff\xff\xff\xff\xff\xff", "caf\xc3\xa9s\x80",
}

// randTopToken returns a token of 1 to 40 bytes: often a shared prefix and a
// short tail from a small alphabet (ties on the prefix), else any bytes.
func randTopToken(rng *rand.Rand) []byte {
	var tok []byte
	if rng.IntN(4) != 0 {
		tok = append(tok, sharedPrefixes[rng.IntN(len(sharedPrefixes))]...)
		alphabet := "ab\x00\x80\xff"
		for range rng.IntN(4) {
			tok = append(tok, alphabet[rng.IntN(len(alphabet))])
		}
	} else {
		for range 1 + rng.IntN(40) {
			tok = append(tok, byte(rng.UintN(256)))
		}
	}
	if len(tok) == 0 {
		tok = append(tok, 'z')
	}
	return tok[:min(len(tok), 40)]
}

// randTopCount is skewed like a text's counts: mostly 1, some small, a few
// huge up to query.MaxCount, now and then 0.
func randTopCount(rng *rand.Rand) int64 {
	switch r := rng.IntN(100); {
	case r < 50:
		return 1
	case r < 70:
		return 2 + rng.Int64N(4)
	case r < 75:
		return 250 + rng.Int64N(10) // around 255, where the sort's rank changes form
	case r < 95:
		return rng.Int64N(1 << (1 + rng.IntN(30)))
	case r < 98:
		return query.MaxCount - rng.Int64N(3)
	default:
		return rng.Int64N(query.MaxCount)
	}
}

// randTopTable fills a Freq and a map with the same size distinct tokens.
func randTopTable(rng *rand.Rand, size int) (*Freq, map[string]int64) {
	f, counts := NewFreq(), make(map[string]int64, size)
	for len(counts) < size {
		tok, n := randTopToken(rng), randTopCount(rng)
		if old, ok := counts[string(tok)]; ok {
			if old > query.MaxCount-n {
				continue // Add would panic: the count would not fit
			}
			n += old
			f.Add(tok, n-old)
		} else {
			f.Add(tok, n)
		}
		counts[string(tok)] = n
	}
	return f, counts
}

// TestTopAllMatchesReference checks the full sort, on both sides of the
// sizes at which it changes method, and the heap path of Top(k), against a
// plain sort of the entries.
func TestTopAllMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	sizes := []int{0, 1, 2, 3, 10, radixMin - 1, radixMin, radixTableMin - 1, radixTableMin, 100_000}
	for range 30 {
		sizes = append(sizes, 2+rng.IntN(300), radixTableMin+rng.IntN(5000))
	}
	for trial, size := range sizes {
		f, counts := randTopTable(rng, size)
		want := refTop(counts)
		if d := diffEntries(f.Top(0), want); d != "" {
			t.Fatalf("trial %d, %d tokens: Top(0): %s", trial, size, d)
		}
		for _, k := range []int{1, 3, size / 2, size - 1} {
			if k <= 0 || (size > 10_000 && k > 100) {
				continue // a heap of half of 100k tokens is slow under -race, and adds nothing
			}
			if d := diffEntries(f.Top(k), want[:min(k, size)]); d != "" {
				t.Fatalf("trial %d, %d tokens: Top(%d): %s", trial, size, k, d)
			}
		}
	}
}

// TestTopAllTies: tokens that agree on count and on the first twelve
// bytes the radix sort looks at, in runs short and long, or that differ
// only in trailing NUL bytes, still come out in byte order.
func TestTopAllTies(t *testing.T) {
	counts := make(map[string]int64)
	f := NewFreq()
	add := func(tok string, n int64) {
		counts[tok] += n
		f.Add([]byte(tok), n)
	}
	const n = 20 * radixMin
	for i := range n {
		c := int64(1 + i%3)
		add(fmt.Sprintf("abcdefghijk%c%d", 'a'+i%26, n-i), c) // runs of about eight
		add(fmt.Sprintf("abcdefghijklmn%06d", n-i), c+300)    // one long run per count
		add(fmt.Sprintf("%d", i), c)
		add(fmt.Sprintf("%d\x00", i), c)
		add(fmt.Sprintf("%d\x00\x00", i), c)
	}
	if d := diffEntries(f.Top(0), refTop(counts)); d != "" {
		t.Fatal(d)
	}
}

var (
	benchTopOnce sync.Once
	benchTopFreq *Freq
)

// benchTopTable is a table of a text's tokens: those of TALLY_BENCH_FILE,
// lower-cased, if set, else 300k made-up tokens with Zipf-like counts.
func benchTopTable(b *testing.B) *Freq {
	benchTopOnce.Do(func() {
		f := NewFreq()
		if path := os.Getenv("TALLY_BENCH_FILE"); path != "" {
			text, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			for tok := range bytes.FieldsSeq(text) {
				f.Add(bytes.ToLower(tok), 1)
			}
		} else {
			rng := rand.New(rand.NewPCG(1, 2))
			seen := make(map[string]bool)
			for rank := 1; len(seen) < 300_000; {
				tok := make([]byte, 1+rng.IntN(12))
				for i := range tok {
					tok[i] = byte('a' + rng.IntN(26))
				}
				if seen[string(tok)] {
					continue
				}
				seen[string(tok)] = true
				// About half of the tokens come once, as in English text.
				f.Add(tok, max(1, int64(3e6/math.Pow(float64(rank), 1.25))))
				rank++
			}
		}
		benchTopFreq = f
	})
	return benchTopFreq
}

func BenchmarkTopAll(b *testing.B) {
	f := benchTopTable(b)
	for b.Loop() {
		f.Top(0)
	}
	b.ReportMetric(float64(f.Len()), "tokens")
}
