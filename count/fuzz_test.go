package count

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tallyhq/tally/query"
)

// fuzzTargets turns the fuzzer's string into targets: '|' separates them,
// and invalid ones are dropped (the CLI rejects those before any work).
func fuzzTargets(m Mode, s string) []string {
	var ts []string
	for _, t := range strings.Split(s, "|") {
		if query.ValidateTarget(m, t) == nil && len(ts) < 40 {
			ts = append(ts, t)
		}
	}
	return ts
}

// checkFuzz compares Run with the reference and with line-aligned chunking,
// with and without statistics.
func checkFuzz(t *testing.T, s Spec, text []byte) {
	for _, stats := range []bool{true, false} {
		s.Stats = stats
		checkFuzzSpec(t, s, text)
	}
}

func checkFuzzSpec(t *testing.T, s Spec, text []byte) {
	prog := mustCompile(t, s)
	got := prog.Run(text)
	if d := diffPartial(got, naiveRun(s, text)); d != "" {
		t.Fatalf("%s on %q: %s", specString(s), text, d)
	}
	rng := rand.New(rand.NewPCG(uint64(len(text)), 0))
	for _, p := range []float64{1, 0.3} {
		chunks := lineChunks(rng, text, p)
		if d := diffPartial(runChunked(rng, prog, chunks), got); d != "" {
			t.Fatalf("%s on %q in chunks %q: %s", specString(s), text, chunks, d)
		}
	}
}

func FuzzRun(f *testing.F) {
	for _, seed := range []struct {
		text, targets string
		mode          uint8
		ignoreCase    bool
	}{
		{"the cat the\nthe", "the", 0, false},
		{"aaaa aa\na", "aa|a|aaa|b|ab|ba", 1, false},
		{"aaaa aa\na", "aa", 2, true},
		{"\u212a k\u212a K.\n\u0345 a\u0345", "k|\u03b9|K|s|\u017f", 1, true},
		{"\xffthe\xe2\x80 the\u00a0the\r\n\u0130\u0131", "the|i|\u0131|\ufffd", 0, true},
		{"Stra\u00dfe STRASSE\n\u1e9e\u00df\u03a3\u03c2\u03c3", "\u00df|\u03c3|ss", 2, true},
		{"a-a-a xa-a-a --", "a-a|--|-", 1, false},
		{"\ufb05\ufb06\u0390\u1fd3", "\ufb05|\u1fd3", 2, true},
	} {
		f.Add([]byte(seed.text), seed.targets, seed.mode, seed.ignoreCase)
	}
	f.Fuzz(func(t *testing.T, text []byte, targets string, mode uint8, ignoreCase bool) {
		m := Mode(mode%3 + 1)
		ts := fuzzTargets(m, targets)
		if len(ts) == 0 {
			return
		}
		s := Spec{Count: &Query{Mode: m, IgnoreCase: ignoreCase, Targets: ts}}
		checkFuzz(t, s, text)
		withOnePass(func() { checkFuzz(t, s, text) })
		withProbe(8, 0, func() { checkFuzz(t, s, text) }) // teddy hands over after the first line
	})
}

func FuzzTop(f *testing.F) {
	f.Add([]byte("The the THE \u03a3\u039f\u03a3 x\xff_1 don't \u0130\n\u3000a"), false, true)
	f.Add([]byte("a\u0345b c\xe2\x80 \u2028d\r\ne"), true, false)
	f.Fuzz(func(t *testing.T, text []byte, wordsOnly, lower bool) {
		checkFuzz(t, Spec{Top: &TopQuery{WordsOnly: wordsOnly, Lower: lower}}, text)
	})
}
