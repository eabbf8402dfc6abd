package count

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// withSIMD runs fn with the vector kernels on and, where there are any, off,
// so that both paths face the same inputs. Tests that call it must not run in
// parallel with others: it switches a package variable.
func withSIMD(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	saved := useSIMD
	defer func() { useSIMD = saved }()
	for _, on := range []bool{true, false} {
		if on && !saved {
			continue // no kernels on this machine or build
		}
		useSIMD = on
		name := "portable"
		if on {
			name = "simd"
		}
		t.Run(name, fn)
	}
}

// wideChars are every multi-byte whitespace character, characters that
// share their lead bytes without being whitespace, and truncated sequences.
var wideChars = []string{
	"\u0085", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2005", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
	"\u0084", "\u0086", "\u009f", "\u00a1", "\u00bf", "\u1681", "\u169a", "\u1680"[:2], "\u200b", "\u2027", "\u202a", "\u202e",
	"\u2030", "\u2019", "\u201c", "\u2014", "\u205e", "\u2060", "\u207f", "\u3001", "\u3040", "\u2f00", "\u180e", "\ufeff",
	"\xe2", "\xe2\x80", "\xe2\x81", "\xc2", "\xe3\x80", "\xe1\x9a", "\x80", "\xa0", "\x85", "\xc2\xc2\xa0", "\xe2\xe2\x80\x80",
	"é", "日本", "\U0001F600",
}

// TestMeasureAtEveryOffset puts each wide character at every offset around
// the vector blocks' edges, in several fillers, and checks Measure against
// the reference.
func TestMeasureAtEveryOffset(t *testing.T) {
	fillers := []string{"abcdefgh", "a b\nc d ", "        ", "\u00e9\u00e9 x", "\t\n\r\x1c\x1f\v\f "}
	withSIMD(t, func(t *testing.T) {
		for _, c := range wideChars {
			for _, f := range fillers {
				base := bytes.Repeat([]byte(f), 100/len(f)+1)[:100]
				for at := range 70 {
					for _, tail := range []int{0, 1, 2, 3, 40} {
						text := append(append(append([]byte{}, base[:at]...), c...), base[:tail]...)
						if got, want := Measure(text), naiveStats(text); got != want {
							t.Fatalf("Measure(%q): got %+v, want %+v", text, got, want)
						}
						text = append(append(append([]byte{}, base[:at]...), c+c...), " x"...)
						if got, want := Measure(text), naiveStats(text); got != want {
							t.Fatalf("Measure(%q): got %+v, want %+v", text, got, want)
						}
					}
				}
			}
		}
	})
}

// TestMeasureRandom checks Measure on random texts of every length up to a
// few vector blocks, built from the property tests' pieces and wideChars.
func TestMeasureRandom(t *testing.T) {
	alphabet := append(append([]string{}, pieces...), wideChars...)
	withSIMD(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for i := range 20000 {
			var b []byte
			for len(b) < i%300 {
				b = append(b, alphabet[rng.IntN(len(alphabet))]...)
			}
			if got, want := Measure(b), naiveStats(b); got != want {
				t.Fatalf("Measure(%q): got %+v, want %+v", b, got, want)
			}
		}
	})
}

// TestMostlyASCII runs random jobs over texts of ASCII runs long enough for
// the kernels' 64-byte steps, broken now and then by a wide character, so
// that the steps and the 32-byte path that handles wide bytes hand over to
// each other at every offset, with and without the class maps stored.
func TestMostlyASCII(t *testing.T) {
	var ascii []string
	for _, p := range pieces {
		if p[0] < 0x80 {
			ascii = append(ascii, p)
		}
	}
	withSIMD(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		for i := range 3000 {
			var b []byte
			for size := rng.IntN(600); len(b) < size; {
				if rng.IntN(40) == 0 {
					b = append(b, wideChars[rng.IntN(len(wideChars))]...)
				} else {
					b = append(b, ascii[rng.IntN(len(ascii))]...)
				}
			}
			if got, want := Measure(b), naiveStats(b); got != want {
				t.Fatalf("Measure(%q): got %+v, want %+v", b, got, want)
			}
			s := randSpec(rng, b)
			if d := diffPartial(mustCompile(t, s).Run(b), naiveRun(s, b)); d != "" {
				t.Fatalf("trial %d: %s on %q: %s", i, specString(s), b, d)
			}
		}
	})
}

// TestTargetsAtEveryOffset puts several targets (two to five, some
// overlapping others) at every offset of texts of every length up to a few
// vector blocks, so that occurrences fall in the finder's blocks, at their
// edges and in the tail that its exact search takes over, in every mode.
func TestTargetsAtEveryOffset(t *testing.T) {
	groups := [][]string{
		{"Holmes", "sand"},
		{"sand", "sandy", "Rochester"},
		{"abab", "bab", "ab", "Rochester"},
		{"sand", "and", "sandy", "y x", "Holmes"},
	}
	fillers := []string{"ab cd ", "        ", "x\u00a0y ", "sandsand "}
	withSIMD(t, func(t *testing.T) {
		for _, targets := range groups {
			for _, mode := range []Mode{Token, Word, Substring} {
				q := &Query{Mode: mode}
				for _, tg := range targets {
					if mode != Token || !strings.Contains(tg, " ") {
						q.Targets = append(q.Targets, tg)
					}
				}
				s := Spec{Count: q, Stats: true}
				prog := mustCompile(t, s)
				for _, f := range fillers {
					base := strings.Repeat(f, 150/len(f)+1)[:150]
					for size := 0; size <= len(base); size += 7 {
						for at := 0; at <= size; at++ {
							tg := q.Targets[at%len(q.Targets)]
							text := []byte(base[:at] + tg + " " + base[at:size])
							if d := diffPartial(prog.Run(text), naiveRun(s, text)); d != "" {
								t.Fatalf("%s on %q: %s", specString(s), text, d)
							}
						}
					}
				}
			}
		}
	})
}

// withOnePass runs fn with every count job sent to the one-pass matchers
// (automaton, token lookup), however few its targets. Like withSIMD, it
// switches package variables.
func withOnePass(fn func()) {
	saved1, saved2 := maxIndexTokens, maxIndexTargets
	defer func() { maxIndexTokens, maxIndexTargets = saved1, saved2 }()
	maxIndexTokens, maxIndexTargets = 0, 0
	fn()
}

// withSparse runs fn with automata built of at most entries dense entries
// (at least the root's row).
func withSparse(entries int, fn func()) {
	saved := maxDenseEntries
	defer func() { maxDenseEntries = saved }()
	maxDenseEntries = entries
	fn()
}

// TestRunSIMDAndPortable runs the property test's random jobs with the
// kernels on and off, and with the one-pass matchers.
func TestRunSIMDAndPortable(t *testing.T) {
	withSIMD(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for i := range 1500 {
			text := randText(rng, 1+i%200)
			s := randSpec(rng, text)
			if d := diffPartial(mustCompile(t, s).Run(text), naiveRun(s, text)); d != "" {
				t.Fatalf("trial %d: %s on %q: %s", i, specString(s), text, d)
			}
			var prog *Program
			withOnePass(func() { prog = mustCompile(t, s) })
			if d := diffPartial(prog.Run(text), naiveRun(s, text)); d != "" {
				t.Fatalf("trial %d, one-pass matchers: %s on %q: %s", i, specString(s), text, d)
			}
			// Automata with few dense states (only the root for 0), so
			// that scans step through sparse states.
			for _, dense := range []int{0, 40} {
				withSparse(dense, func() { withOnePass(func() { prog = mustCompile(t, s) }) })
				if d := diffPartial(prog.Run(text), naiveRun(s, text)); d != "" {
					t.Fatalf("trial %d, automaton of %d dense entries: %s on %q: %s", i, dense, specString(s), text, d)
				}
			}
		}
	})
}

func FuzzMeasure(f *testing.F) {
	f.Add([]byte("a\u00a0b\u2028c\u3000d\u1680e\u205ff\u0085g \xe2\x80\n"))
	f.Add(bytes.Repeat([]byte("ab\u2009c\xc2"), 20))
	f.Fuzz(func(t *testing.T, text []byte) {
		want := naiveStats(text)
		if got := Measure(text); got != want {
			t.Fatalf("Measure(%q): got %+v, want %+v", text, got, want)
		}
		if useSIMD {
			useSIMD = false
			got := Measure(text)
			useSIMD = true
			if got != want {
				t.Fatalf("portable Measure(%q): got %+v, want %+v", text, got, want)
			}
		}
	})
}

// TestBoundaryClasses checks the kernel's byte classes against their
// definitions for every byte.
func TestBoundaryClasses(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		if got, want := wordByte.has(b), b < 0x80 && isWord(rune(b)); got != want {
			t.Errorf("wordByte.has(%#x): got %t, want %t", b, got, want)
		}
	}
}

// TestLongTexts checks the vectorised matchers on texts long enough to fill
// the finder's candidate buffer many times over: few distinct characters,
// short targets taken from the text, every mode.
func TestLongTexts(t *testing.T) {
	alphabet := []string{"a", "a", "b", "ab", " ", "\n", "\u00a0", "é", "_", "-", "\u2003", "\xff"}
	withSIMD(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for i := range 60 {
			var b []byte
			for size := 2000 + rng.IntN(20000); len(b) < size; {
				b = append(b, alphabet[rng.IntN(len(alphabet))]...)
			}
			mode := Mode(1 + i%3)
			q := &Query{Mode: mode}
			for len(q.Targets) < 1+rng.IntN(12) {
				if tg := randTarget(rng, mode, b); tg != "" {
					q.Targets = append(q.Targets, tg)
				}
			}
			s := Spec{Count: q, Stats: true}
			if d := diffPartial(mustCompile(t, s).Run(b), naiveRun(s, b)); d != "" {
				t.Fatalf("trial %d: %s on %d bytes: %s", i, specString(s), len(b), d)
			}
		}
	})
}
