package count

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// mustCompile compiles s or fails the test.
func mustCompile(tb testing.TB, s Spec) *Program {
	tb.Helper()
	p, err := Compile(s)
	if err != nil {
		tb.Fatalf("Compile(%s): %v", specString(s), err)
	}
	return p
}

func specString(s Spec) string {
	switch {
	case s.Count != nil:
		return fmt.Sprintf("count mode=%s ignoreCase=%t targets=%q", s.Count.Mode, s.Count.IgnoreCase, s.Count.Targets)
	case s.Top != nil:
		return fmt.Sprintf("top wordsOnly=%t lower=%t", s.Top.WordsOnly, s.Top.Lower)
	}
	return "empty spec"
}

// diffPartial describes how got differs from want, or returns "".
func diffPartial(got, want Partial) string {
	if got.Stats != want.Stats {
		return fmt.Sprintf("stats: got %+v, want %+v", got.Stats, want.Stats)
	}
	if !slices.Equal(got.Counts, want.Counts) {
		return fmt.Sprintf("counts: got %v, want %v", got.Counts, want.Counts)
	}
	if (got.Freq == nil) != (want.Freq == nil) {
		return fmt.Sprintf("freq: got %v, want %v", got.Freq != nil, want.Freq != nil)
	}
	return diffEntries(got.Freq.Top(0), want.Freq.Top(0))
}

func diffEntries(got, want []Entry) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("top entry %d: got %q×%d, want %q×%d", i, got[i].Token, got[i].Count, want[i].Token, want[i].Count)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("top: got %d entries, want %d", len(got), len(want))
	}
	return ""
}

// lineChunks cuts text into line-aligned chunks, each ending just after a
// newline (except possibly the last), at random newlines; p is the chance
// that any given newline ends a chunk.
func lineChunks(rng *rand.Rand, text []byte, p float64) [][]byte {
	var chunks [][]byte
	start := 0
	for i, b := range text {
		if b == '\n' && rng.Float64() < p {
			chunks = append(chunks, text[start:i+1])
			start = i + 1
		}
	}
	if start < len(text) || len(chunks) == 0 {
		chunks = append(chunks, text[start:])
	}
	return chunks
}

// runChunked runs prog over each chunk and merges the partials in a random
// order, as the coordinator may receive them.
func runChunked(rng *rand.Rand, prog *Program, chunks [][]byte) Partial {
	parts := make([]Partial, len(chunks))
	for i, c := range chunks {
		parts[i] = prog.Run(c)
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	var total Partial
	for _, p := range parts {
		total.Merge(p)
	}
	return total
}

// checkChunks is a sanity check of lineChunks itself.
func checkChunks(tb testing.TB, text []byte, chunks [][]byte) {
	tb.Helper()
	if !bytes.Equal(bytes.Join(chunks, nil), text) {
		tb.Fatalf("chunks do not re-join to the text")
	}
}
