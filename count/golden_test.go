package count

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The golden files are written by scripts/golden.py, which evaluates SPEC.md's
// Python expressions; see the schema in its docstring. They are committed, so
// these tests need only Go.

type goldenFile struct {
	Schema int
	Input  string
	File   string
	Repeat int
	SHA256 string
	Stats  Stats
	Counts []goldenCount
	Top    []goldenTop
}

type goldenCount struct {
	Mode       string
	IgnoreCase bool `json:"ignore_case"`
	Targets    []string
	Counts     []int64
}

type goldenTop struct {
	WordsOnly bool `json:"words_only"`
	Lower     bool
	Distinct  int
	Entries   []goldenEntry
}

// goldenEntry is a top row, [hex of the token's bytes, readable form, count].
type goldenEntry Entry

func (e *goldenEntry) UnmarshalJSON(b []byte) error {
	var row [3]json.RawMessage
	var hexTok string
	if err := json.Unmarshal(b, &row); err != nil {
		return err
	}
	if err := json.Unmarshal(row[0], &hexTok); err != nil {
		return err
	}
	tok, err := hex.DecodeString(hexTok)
	if err != nil {
		return err
	}
	e.Token = string(tok)
	return json.Unmarshal(row[2], &e.Count)
}

func loadGolden(t *testing.T, path string) (goldenFile, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if g.Schema != 1 {
		t.Fatalf("%s: got schema %d, want 1", path, g.Schema)
	}
	data, err := os.ReadFile(filepath.Join("..", "testdata", "text", g.File))
	if err != nil {
		t.Fatal(err)
	}
	text := bytes.Repeat(data, g.Repeat)
	if sum := sha256.Sum256(text); hex.EncodeToString(sum[:]) != g.SHA256 {
		t.Fatalf("%s: input %s changed since the golden file was written; rerun scripts/golden.py", path, g.File)
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
			if got := Measure(text); got != g.Stats {
				t.Errorf("Measure: got %+v, want %+v", got, g.Stats)
			}
			for i, c := range g.Counts {
				mode, err := ParseMode(c.Mode)
				if err != nil {
					t.Fatal(err)
				}
				s := Spec{Count: &Query{Mode: mode, Targets: c.Targets, IgnoreCase: c.IgnoreCase}}
				want := Partial{Stats: g.Stats, Counts: c.Counts}
				if !sampled(i) {
					checkGolden(t, fmt.Sprintf("counts[%d] %s", i, specString(s)), s, text, nil, want)
					continue
				}
				checkGolden(t, fmt.Sprintf("counts[%d] %s", i, specString(s)), s, text, chunkings, want)
			}
			for _, top := range g.Top {
				s := Spec{Top: &TopQuery{WordsOnly: top.WordsOnly, Lower: top.Lower}}
				want := Partial{Stats: g.Stats, Freq: NewFreq()}
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
	rng := rand.New(rand.NewPCG(1, 1))
	for _, chunks := range chunkings {
		if d := diffPartial(runChunked(rng, prog, chunks), want); d != "" {
			t.Errorf("%s: in %d chunks: %s", name, len(chunks), d)
		}
	}
}
