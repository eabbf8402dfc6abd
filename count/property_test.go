package count

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tallyhq/tally/query"
)

// pieces is the alphabet of random texts: ASCII, whitespace of every kind,
// line ends, punctuation, characters whose case folding is special, combining
// marks, and invalid UTF-8 (lone and truncated sequences, an encoded surrogate,
// an overlong, a real U+FFFD next to them).
var pieces = []string{
	"a", "a", "b", "A", "B", "s", "S", "k", "K", "i", "I", "t", "he", "the", "aa", "ab",
	" ", " ", "  ", "\t", "\n", "\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x1f", "\u0085",
	"\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
	"\u200b", "\u180e", "\ufeff", ".", ",", "-", "--", "'", "_", "1", "42", "é", "e\u0301", "\u0301",
	"\u212a", "\u017f", "\u0130", "\u0131", "ß", "\u1e9e", "σ", "ς", "Σ", "µ", "μ", "\u0345", "ι",
	"\u03f4", "θ", "\u2126", "ω", "ǅ", "€", "日本", "\ufffd", "\u0390", "\u1fd3", "\u03b0", "\u1fe3", "\ufb05", "\ufb06",
	"\xff", "\xc3", "\x80", "\xbf", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf0\x9f\x98", "\xf4\x90\x80\x80",
}

func randText(rng *rand.Rand, maxPieces int) []byte {
	var sb strings.Builder
	for range rng.IntN(maxPieces + 1) {
		sb.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return []byte(sb.String())
}

// randTarget draws a target valid in mode: often a piece of the text itself,
// otherwise a few pieces glued together; "" if it found none.
func randTarget(rng *rand.Rand, mode Mode, text []byte) string {
	for range 20 {
		var t string
		if len(text) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(text))
			t = string(text[i:min(len(text), i+1+rng.IntN(6))])
		} else {
			for range 1 + rng.IntN(3) {
				t += pieces[rng.IntN(len(pieces))]
			}
		}
		if utf8.ValidString(t) && query.ValidateTarget(mode, t) == nil {
			return t
		}
	}
	return ""
}

func randSpec(rng *rand.Rand, text []byte) Spec {
	if rng.IntN(5) == 0 {
		return Spec{Top: &TopQuery{WordsOnly: rng.IntN(2) == 0, Lower: rng.IntN(2) == 0}, Stats: rng.IntN(2) == 0}
	}
	q := &Query{Mode: Mode(1 + rng.IntN(3)), IgnoreCase: rng.IntN(2) == 0}
	n := 1 + rng.IntN(3)
	if rng.IntN(2) == 0 {
		n = 4 + rng.IntN(20) // past maxIndexTargets: one-pass matchers
	}
	for len(q.Targets) < n {
		if t := randTarget(rng, q.Mode, text); t != "" {
			q.Targets = append(q.Targets, t)
		}
	}
	return Spec{Count: q, Stats: rng.IntN(2) == 0}
}

// TestRunMatchesNaive checks every fast path against the reference and
// against line-aligned chunking.
func TestRunMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	trials := 4000
	if testing.Short() {
		trials = 500
	}
	for i := range trials {
		text := randText(rng, 1+i%120)
		s := randSpec(rng, text)
		prog := mustCompile(t, s)
		got, want := prog.Run(text), naiveRun(s, text)
		if d := diffPartial(got, want); d != "" {
			t.Fatalf("trial %d: %s on %q: %s", i, specString(s), text, d)
		}
		chunks := lineChunks(rng, text, 0.5)
		checkChunks(t, text, chunks)
		if d := diffPartial(runChunked(rng, prog, chunks), want); d != "" {
			t.Fatalf("trial %d: %s on %q chunked as %q: %s", i, specString(s), text, chunks, d)
		}
	}
}

// TestManyTargetsMatchOneByOne checks that the one-pass matchers count each
// target as its own pass would.
func TestManyTargetsMatchOneByOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 1000 {
		text := randText(rng, 200)
		s := randSpec(rng, text)
		if s.Count == nil {
			continue
		}
		if i%50 == 0 { // hundreds of targets: large automata, many symbols
			for len(s.Count.Targets) < 300 {
				if tg := randTarget(rng, s.Count.Mode, text); tg != "" {
					s.Count.Targets = append(s.Count.Targets, tg)
				}
			}
		}
		got := mustCompile(t, s).Run(text).Counts
		for j, target := range s.Count.Targets {
			one := Spec{Count: &Query{Mode: s.Count.Mode, IgnoreCase: s.Count.IgnoreCase, Targets: []string{target}}}
			if want := mustCompile(t, one).Run(text).Counts[0]; got[j] != want {
				t.Fatalf("trial %d: %s on %q: target %d: got %d together, want %d alone", i, specString(s), text, j, got[j], want)
			}
		}
	}
}

// TestSplitAfterSpace checks the promise of Query.HasSpace: when no target
// holds whitespace, cutting the text just after any whitespace character
// (as a chunker does with an overlong line) changes no answer.
func TestSplitAfterSpace(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		text := randText(rng, 150)
		s := randSpec(rng, text)
		if s.Count != nil && s.Count.HasSpace() {
			continue
		}
		var chunks [][]byte
		start := 0
		for j := 0; j < len(text); {
			r, n := decodeRune(text[j:])
			j += n
			if isSpace(r) && rng.IntN(3) == 0 {
				chunks = append(chunks, text[start:j])
				start = j
			}
		}
		chunks = append(chunks, text[start:])
		checkChunks(t, text, chunks)
		prog := mustCompile(t, s)
		if d := diffPartial(runChunked(rng, prog, chunks), prog.Run(text)); d != "" {
			t.Fatalf("trial %d: %s on %q cut as %q: %s", i, specString(s), text, chunks, d)
		}
	}
}
