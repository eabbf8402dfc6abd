package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	oracle "github.com/tallyhq/tally/internal/golden"
)

// The golden files are written by scripts/golden.py, which evaluates SPEC.md's
// Python expressions (the oracle); see the schema in its docstring. These tests
// run them through the whole CLI: flags, upload, chunking, merge and output.

const (
	textDir   = "../../testdata/text"
	goldenDir = "../../testdata/golden"
)

// golden is a golden file and the path of its input for the CLI.
type golden struct {
	oracle.File
	path string // the text file, or a temporary file for a repeat
}

// queryArgs returns the count flags of c.
func queryArgs(c oracle.Count) []string {
	args := []string{"count", "--mode", c.Mode}
	if c.IgnoreCase {
		args = append(args, "-i")
	}
	for _, t := range c.Targets {
		args = append(args, "-e", t)
	}
	return args
}

// tableArgs returns the top flags of g, for all entries.
func tableArgs(g oracle.Top) []string {
	args := []string{"top", "-n", "0"}
	if g.WordsOnly {
		args = append(args, "--words-only")
	}
	if g.Lower {
		args = append(args, "--lower")
	}
	return args
}

// topWant returns the top entries as tally's JSON shows them.
func topWant(g oracle.Top) []topItem {
	out := make([]topItem, len(g.Entries))
	for i, e := range g.Entries {
		out[i] = topItem{Token: jsonReplace(e.Token), Count: e.Count}
	}
	return out
}

// loadGolden reads testdata/golden/name.json and makes its input available
// as a file.
func loadGolden(t testing.TB, name string) *golden {
	t.Helper()
	f, data, err := oracle.Load(filepath.Join(goldenDir, name+".json"), textDir)
	if os.IsNotExist(err) {
		t.Fatalf("no golden file for %s (run scripts/golden.py)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	g := &golden{File: *f, path: filepath.Join(textDir, f.File)}
	if g.Repeat != 1 {
		g.path = writeFile(t, t.TempDir(), g.Input+".txt", data)
	}
	return g
}

// goldenNames lists the golden inputs (not the Unicode tables).
func goldenNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		if name := strings.TrimSuffix(filepath.Base(p), ".json"); name != "unicode" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatal("no golden files (run scripts/golden.py)")
	}
	return names
}

// checkDoc compares one document's output with the oracle's statistics and counts.
func checkDoc(t testing.TB, what string, got docOut, g *golden, c *oracle.Count) {
	t.Helper()
	if got.Bytes != g.Stats.Bytes || got.Lines != g.Stats.Lines || got.Tokens != g.Stats.Tokens {
		t.Errorf("%s: %s: got bytes/lines/tokens %d/%d/%d, want %d/%d/%d", what, g.Input,
			got.Bytes, got.Lines, got.Tokens, g.Stats.Bytes, g.Stats.Lines, g.Stats.Tokens)
	}
	if c == nil {
		return
	}
	for i, target := range c.Targets {
		if n, ok := got.Counts[target]; !ok || n != c.Counts[i] {
			t.Errorf("%s: %s: target %q: got %d (present %v), want %d", what, g.Input, target, n, ok, c.Counts[i])
		}
	}
}

// TestGoldenCounts runs every golden query, once over all golden inputs as the
// documents of one job, and checks each document against the oracle.
func TestGoldenCounts(t *testing.T) {
	t.Parallel()
	var gs []*golden
	for _, name := range goldenNames(t) {
		if g := loadGolden(t, name); g.Repeat == 1 {
			gs = append(gs, g) // zen1000 is zen again; TestZenTimes1000 runs it
		}
	}
	queries := gs[0].Counts
	for _, g := range gs[1:] {
		if fmt.Sprint(countQueries(g.Counts)) != fmt.Sprint(countQueries(queries)) {
			t.Fatalf("golden %s has other queries than %s; these tests assume the same list", g.Input, gs[0].Input)
		}
	}
	for qi, q := range queries {
		// The inputs over 1 MB take turns (5 and the 6 mode/-i variants of a
		// target list are coprime): each is in every fifth job, which keeps
		// the test quick under -race.
		var docs []*golden
		var args []string
		for _, g := range gs {
			if g.Stats.Bytes < 1<<20 || qi%5 == 0 {
				docs, args = append(docs, g), append(args, g.path)
			}
		}
		o := runJSON(t, append(queryArgs(q), args...)...)
		if len(o.Documents) != len(docs) {
			t.Fatalf("%v: got %d documents, want %d", q, len(o.Documents), len(docs))
		}
		for i, g := range docs {
			if o.Documents[i].Name != g.path {
				t.Errorf("%v: document %d: got name %q, want %q", q, i, o.Documents[i].Name, g.path)
			}
			checkDoc(t, q.String(), o.Documents[i], g, &g.Counts[qi])
		}
		checkTotal(t, o)
		if t.Failed() {
			t.FailNow() // the first query that fails says enough
		}
	}
}

func countQueries(cs []oracle.Count) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

// TestGoldenTop checks the full top table, in all four variants, of every golden input.
func TestGoldenTop(t *testing.T) {
	t.Parallel()
	for _, name := range goldenNames(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := loadGolden(t, name)
			for _, top := range g.Top {
				o := runJSON(t, append(tableArgs(top), g.path)...)
				checkDoc(t, strings.Join(tableArgs(top), " "), o.Total, g, nil)
				if len(o.Top) != top.Distinct {
					t.Errorf("%s: got %d entries, want %d", tableArgs(top), len(o.Top), top.Distinct)
				}
				checkTop(t, strings.Join(tableArgs(top), " "), o.Top, topWant(top))
			}
		})
	}
}

// checkTop compares top tables and reports the first difference.
func checkTop(t testing.TB, what string, got, want []topItem) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s: entry %d: got %q×%d, want %q×%d", what, i, got[i].Token, got[i].Count, want[i].Token, want[i].Count)
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: got %d entries, want %d", what, len(got), len(want))
	}
}

// TestGoldenTopFlags checks -n, --words-only and --lower on alice.txt.
func TestGoldenTopFlags(t *testing.T) {
	t.Parallel()
	g := loadGolden(t, "alice")
	for _, top := range g.Top {
		for _, n := range []int{1, 3, 10} {
			args := append(tableArgs(top), g.path)
			args[2] = strconv.Itoa(n)
			o := runJSON(t, args...)
			checkTop(t, strings.Join(args, " "), o.Top, topWant(top)[:n])
		}
	}
	// The default is 10.
	o := runJSON(t, "top", g.path)
	checkTop(t, "top", o.Top, topWant(g.Top[0])[:10])
}

// TestZenTimes1000 is the PyO3 word-count fixture: the Zen of Python 1000 times,
// `tally count -e is`, must equal text.split().count("is").
func TestZenTimes1000(t *testing.T) {
	t.Parallel()
	var want int64
	data, err := os.ReadFile(filepath.Join(textDir, "zen.txt"))
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, t.TempDir(), "zen1000.txt", bytes.Repeat(data, 1000))
	g := loadGolden(t, "zen1000")
	found := false
	for _, c := range g.Counts {
		if i := slices.Index(c.Targets, "is"); i >= 0 && c.Mode == "token" && !c.IgnoreCase {
			want, found = c.Counts[i], true
			break
		}
	}
	if !found {
		t.Fatal(`golden zen1000 has no token count of "is"`)
	}
	for _, args := range [][]string{
		{"count", "-e", "is", path},
		{"count", "-e", "is", "--chunk-size", "4096", path},
		{"count", "-e", "is", "--chunk-size", "100", path},
	} {
		o := runJSON(t, args...)
		if got := o.Total.Counts["is"]; got != want {
			t.Errorf("%s: got %d, want %d", args, got, want)
		}
		if g != nil {
			checkDoc(t, fmt.Sprint(args), o.Documents[0], g, nil)
		}
	}
	// The human table shows the same number.
	out := mustRun(t, "count", "-e", "is", path)
	if !strings.Contains(out, " "+strconv.FormatInt(want, 10)+"\n") {
		t.Errorf("table: got %q, want a row ending in %d", out, want)
	}
}

// TestGoldenZen checks the Zen fixture and Alice under each mode's typical use.
func TestGoldenZenAndAlice(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"zen", "alice"} {
		g := loadGolden(t, name)
		for _, c := range g.Counts {
			if len(c.Targets) > 3 {
				continue // TestGoldenCounts runs them all; here each query is its own job
			}
			o := runJSON(t, append(queryArgs(c), g.path)...)
			checkDoc(t, c.String(), o.Documents[0], g, &c)
			checkDoc(t, c.String()+" total", o.Total, g, &c)
		}
	}
}
