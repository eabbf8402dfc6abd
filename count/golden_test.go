package count

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/golden"
	"github.com/tallyhq/tally/query"
)

// The golden files are written by scripts/golden.py, which evaluates SPEC.md's
// Python expressions; see the schema in its docstring. They are committed, so
// these tests need only Go.

func loadGolden(t *testing.T, path string) (*golden.File, []byte) {
	t.Helper()
	g, text, err := golden.Load(path, filepath.Join("..", "testdata", "text"))
	if err != nil {
		t.Fatal(err)
	}
	return g, text
}

func TestGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		if name == "unicode" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, text := loadGolden(t, path)
			rng := rand.New(rand.NewPCG(uint64(len(text)), 7))
			// Every line a chunk, and coarser random line-aligned chunks. On
			// large inputs, where -race makes every pass slow, only the coarse
			// chunking is checked, for every fifth count query and the tables;
			// the property and fuzz tests cover chunking at large.
			chunkings := [][][]byte{lineChunks(rng, text, 1), lineChunks(rng, text, 0.05)}
			sampled := func(int) bool { return true }
			if len(text) > 256<<10 {
				chunkings = chunkings[1:]
				sampled = func(i int) bool { return i%5 == 0 }
			}
			if got := Measure(text); got != Stats(g.Stats) {
				t.Errorf("Measure: got %+v, want %+v", got, g.Stats)
			}
			for i, c := range g.Counts {
				mode, err := query.ParseMode(c.Mode)
				if err != nil {
					t.Fatal(err)
				}
				s := Spec{Count: &Query{Mode: mode, Targets: c.Targets, IgnoreCase: c.IgnoreCase}, Stats: true}
				want := Partial{Stats: Stats(g.Stats), Counts: c.Counts}
				if !sampled(i) {
					checkGolden(t, fmt.Sprintf("counts[%d] %s", i, specString(s)), s, text, nil, want)
					continue
				}
				checkGolden(t, fmt.Sprintf("counts[%d] %s", i, specString(s)), s, text, chunkings, want)
			}
			for _, top := range g.Top {
				s := Spec{Top: &TopQuery{WordsOnly: top.WordsOnly, Lower: top.Lower}, Stats: true}
				want := Partial{Stats: Stats(g.Stats), Freq: NewFreq()}
				for _, e := range top.Entries {
					want.Freq.Add([]byte(e.Token), e.Count)
				}
				if want.Freq.Len() != top.Distinct {
					t.Fatalf("%s: golden table has %d entries, want %d", specString(s), want.Freq.Len(), top.Distinct)
				}
				checkGolden(t, specString(s), s, text, chunkings, want)
				if got := mustCompile(t, s).Run(text).Freq.Top(0); len(got) == len(top.Entries) {
					for j, e := range top.Entries {
						if got[j] != Entry(e) {
							t.Fatalf("%s: Top order: entry %d: got %q×%d, want %q×%d", specString(s), j, got[j].Token, got[j].Count, e.Token, e.Count)
						}
					}
				}
			}
		})
	}
}

// checkGolden runs s over the whole text and over each chunking.
func checkGolden(t *testing.T, name string, s Spec, text []byte, chunkings [][][]byte, want Partial) {
	t.Helper()
	prog := mustCompile(t, s)
	if d := diffPartial(prog.Run(text), want); d != "" {
		t.Errorf("%s: %s", name, d)
		return
	}
	// Without statistics the counts are the same and only Bytes is measured.
	bare, bareWant := s, want
	bare.Stats, bareWant.Stats = false, Stats{Bytes: want.Stats.Bytes}
	if d := diffPartial(mustCompile(t, bare).Run(text), bareWant); d != "" {
		t.Errorf("%s without stats: %s", name, d)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, chunks := range chunkings {
		if d := diffPartial(runChunked(rng, prog, chunks), want); d != "" {
			t.Errorf("%s: in %d chunks: %s", name, len(chunks), d)
		}
	}
}
