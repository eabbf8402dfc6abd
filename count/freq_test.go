package count

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestFreqMatchesMap fills Freqs with random tokens of every length around
// the short table's limit (zero bytes included, which a zero-padded word
// must not confuse with a shorter token), merges them, and checks every
// count and the order against a map.
func TestFreqMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	alphabet := []byte{0, 'a', 'b', 0xff}
	token := func() []byte {
		b := make([]byte, 1+rng.IntN(maxShort+4))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return b
	}
	for trial := range 50 {
		want := map[string]int64{}
		var total Freq
		for range 1 + rng.IntN(4) {
			f := NewFreq()
			for range rng.IntN(3000) {
				tok, n := token(), int64(1+rng.IntN(3))
				f.Add(tok, n)
				want[string(tok)] += n
			}
			total.Merge(f)
		}
		if total.Len() != len(want) {
			t.Fatalf("trial %d: got %d tokens, want %d", trial, total.Len(), len(want))
		}
		got := map[string]int64{}
		total.Each(func(tok []byte, n int64) { got[string(tok)] = n })
		for tok, n := range want {
			if got[tok] != n {
				t.Fatalf("trial %d: token %q: got %d, want %d", trial, tok, got[tok], n)
			}
		}
		var all []Entry
		for tok, n := range want {
			all = append(all, Entry{Token: tok, Count: n})
		}
		slices.SortFunc(all, func(a, b Entry) int {
			if a.Count != b.Count {
				return int(b.Count - a.Count)
			}
			return strings.Compare(a.Token, b.Token)
		})
		if d := diffEntries(total.Top(0), all); d != "" {
			t.Fatalf("trial %d: Top(0): %s", trial, d)
		}
		if k := 1 + rng.IntN(20); k < len(all) {
			if d := diffEntries(total.Top(k), all[:k]); d != "" {
				t.Fatalf("trial %d: Top(%d): %s", trial, k, d)
			}
		}
	}
}

func TestFreqCountRange(t *testing.T) {
	mustPanic := func(name string, fn func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: got no panic, want one", name)
			}
		}()
		fn()
	}
	long := []byte(strings.Repeat("x", maxShort+1))
	mustPanic("negative", func() { NewFreq().Add([]byte("a"), -1) })
	mustPanic("negative, long token", func() { NewFreq().Add(long, -1) })
	mustPanic("overflow, long token", func() {
		f := NewFreq()
		f.Add(long, 1<<56-1)
		f.Add(long, 1)
	})
	mustPanic("too large", func() { NewFreq().Add([]byte("a"), 1<<56) })
	mustPanic("overflow", func() {
		f := NewFreq()
		f.Add([]byte("a"), 1<<56-1)
		f.Add([]byte("a"), 1)
	})
	f := NewFreq()
	f.Add([]byte("a"), 1<<56-1)
	if got := f.Top(1)[0].Count; got != 1<<56-1 {
		t.Errorf("largest count: got %d, want %d", got, int64(1<<56-1))
	}
}

// TestReleasedTables: top runs that reuse released tables, big and small,
// with short and long tokens, start from empty tables, and a table merged
// into another can be released without changing the merged one.
func TestReleasedTables(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	total, want := NewFreq(), NewFreq()
	for i := range 300 {
		text := randText(rng, 1+i%300)
		if i%7 == 0 {
			text = append(text, strings.Repeat("averyveryverylongtoken ", 50)...)
		}
		s := Spec{Top: &TopQuery{WordsOnly: i%2 == 0, Lower: i%3 == 0}}
		if i%50 == 0 {
			s = Spec{Top: &TopQuery{}} // the same query every time: totals below
		}
		got := mustCompile(t, s).Run(text)
		if d := diffPartial(got, naiveRun(s, text)); d != "" {
			t.Fatalf("trial %d: %s on %q: %s", i, specString(s), text, d)
		}
		if i%50 == 0 {
			total.Merge(got.Freq)
			want.Merge(naiveRun(s, text).Freq)
		}
		got.Freq.Release()
	}
	if !slices.Equal(total.Top(0), want.Top(0)) {
		t.Fatal("a table merged before its parts were released changed")
	}
}

// TestMergeBytesBoundsMerge: MergeBytes, asked before a merge, is at least
// the memory the table holds after it.
func TestMergeBytesBoundsMerge(t *testing.T) {
	f := NewFreq()
	for i := range 40 {
		o := NewFreq()
		for j := range 1000 * (i%5 + 1) {
			o.Add([]byte(fmt.Sprintf("token-%d-%d", i, j)), 1)
			o.Add([]byte(fmt.Sprintf("a-token-longer-than-sixteen-bytes-%d-%d", i, j)), 1)
		}
		want := f.MergeBytes(o)
		f.Merge(o)
		if got := f.Bytes(); got > want {
			t.Fatalf("merge %d: table holds %d bytes, MergeBytes said at most %d", i, got, want)
		}
	}
}

// TestHashSeedDefeatsCraftedTokens crafts, knowing the seeds, tokens that
// all start their probe at the same slot of a 1024-slot table (as anyone
// could for the fixed constants that seeded the hash before), and checks
// that under the process's own random seeds they spread out.
func TestHashSeedDefeatsCraftedTokens(t *testing.T) {
	random := [3]uint64{seedLo, seedHi, seedMix}
	known := [3]uint64{0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0xa0761d6478bd642f ^ 0xe7037ed1a0b428db}
	setSeeds := func(s [3]uint64) { seedLo, seedHi, seedMix = s[0], s[1], s[2] }
	defer setSeeds(random)
	for _, long := range []bool{false, true} {
		hash := func(tok []byte) uint64 {
			if long {
				return hashToken(tok)
			}
			lo, hi := loadWords(tok)
			return hashWords(lo, hi, len(tok))
		}
		setSeeds(known)
		var crafted [][]byte
		for i := 0; len(crafted) < 300; i++ {
			tok := []byte(strconv.Itoa(i))
			if long {
				tok = []byte(fmt.Sprintf("a-long-token-of-more-than-16-bytes-%d", i))
			}
			if home(hash(tok), 1024) == 0 {
				crafted = append(crafted, tok)
			}
		}
		setSeeds(random)
		slots := map[int]int{}
		worst := 0
		for _, tok := range crafted {
			i := home(hash(tok), 1024)
			slots[i]++
			worst = max(worst, slots[i])
		}
		if worst > 20 {
			t.Errorf("long %t: %d of %d crafted tokens share a slot under the random seeds, want them spread", long, worst, len(crafted))
		}
	}
	a1, b1, c1 := newSeeds()
	a2, b2, c2 := newSeeds()
	if a1 == a2 || b1 == b2 || c1 == c2 {
		t.Errorf("two draws of seeds are equal: %x %x %x", a1, b1, c1)
	}
}

// TestRunLimitedTable: a chunk's table stops growing at its limit and says
// so; within the limit it is Run's table.
func TestRunLimitedTable(t *testing.T) {
	var b bytes.Buffer
	for i := range 100_000 {
		fmt.Fprintf(&b, "tok%d and a-token-longer-than-sixteen-bytes-%d\n", i, i)
	}
	prog := mustCompile(t, Spec{Top: &TopQuery{}})
	const limit = 1 << 20
	p := prog.RunLimited(b.Bytes(), limit)
	if !p.Freq.Over() || p.Freq.Bytes() > limit {
		t.Errorf("limited to %d: got over %t and %d bytes, want over within the limit", limit, p.Freq.Over(), p.Freq.Bytes())
	}
	p.Freq.Release()
	got, want := prog.RunLimited(b.Bytes(), 1<<30), prog.Run(b.Bytes())
	if got.Freq.Over() || got.Freq.Len() != want.Freq.Len() || got.Freq.Len() != 200_001 {
		t.Errorf("within the limit: got over %t and %d tokens, want %d tokens", got.Freq.Over(), got.Freq.Len(), want.Freq.Len())
	}
}

// TestReserveKeepsCounts: a table reserved for more entries, or fewer,
// than it ends with merges to the same counts, and ReserveBytes bounds
// what Reserve leaves it holding.
func TestReserveKeepsCounts(t *testing.T) {
	parts := make([]*Freq, 6)
	for i := range parts {
		parts[i] = NewFreq()
		for j := range 3000 {
			parts[i].Add([]byte(fmt.Sprintf("t%d", (i*1000+j)%7000)), int64(1+j%3))
			parts[i].Add([]byte(fmt.Sprintf("a-token-longer-than-sixteen-bytes-%d", j%500)), 1)
		}
	}
	var want Freq
	for _, p := range parts {
		want.Merge(p)
	}
	for _, n := range []int{0, 1, 100, 7000, 20_000, 1 << 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var f Freq
			bound := f.ReserveBytes(n)
			f.Reserve(n)
			if got := f.Bytes(); got > bound {
				t.Fatalf("reserved table holds %d bytes, ReserveBytes said at most %d", got, bound)
			}
			for i, p := range parts {
				f.Merge(p)
				if i == 2 {
					f.Reserve(n) // again, on a table in use
				}
			}
			if d := diffEntries(f.Top(0), want.Top(0)); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestExpectDistinct(t *testing.T) {
	for _, c := range []struct {
		name            string
		distinct        int
		seen, total     int64
		atLeast, atMost int
	}{
		{"nothing seen", 100, 0, 1000, 100, 100},
		{"no tokens", 0, 1000, 1 << 30, 0, 0},
		{"all seen", 500, 1000, 1000, 500, 500},
		{"total unknown", 500, 1000, 0, 500, 500},
		{"a MiB of 52", 17_469, 1 << 20, 52 << 20, 250_000, 300_000},
		{"linear bound", 10, 1, 4, 10, 40},
		{"huge total", 1 << 20, 1, 1 << 62, 1 << 20, 1 << 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ExpectDistinct(c.distinct, c.seen, c.total)
			if got < c.atLeast || got > c.atMost {
				t.Fatalf("got %d, want %d to %d", got, c.atLeast, c.atMost)
			}
		})
	}
}
