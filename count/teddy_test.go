package count

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tallyhq/tally/query"
)

// withProbe runs fn with teddy's probe set to probe bytes and its limits
// to work units per KiB. Like withSIMD, it switches package variables.
func withProbe(probe, work int, fn func()) {
	saved1, saved2, saved3 := teddyProbe, teddyWork, teddyFoldWork
	defer func() { teddyProbe, teddyWork, teddyFoldWork = saved1, saved2, saved3 }()
	teddyProbe, teddyWork, teddyFoldWork = probe, work, work
	fn()
}

// withKernels runs fn with each of teddy's vector kernels that the CPU
// has, then as withSIMD does without them. Like withSIMD, it switches
// package variables.
func withKernels(t *testing.T, fn func(t *testing.T)) {
	saved := useAVX512
	defer func() { useAVX512 = saved }()
	if saved {
		t.Run("avx512", func(t *testing.T) { withSIMD(t, fn) })
	}
	useAVX512 = false
	withSIMD(t, fn)
}

// withDense runs fn with every count job sent to the dense matchers.
func withDense(fn func()) {
	saved := useTeddy
	defer func() { useTeddy = saved }()
	useTeddy = false
	fn()
}

// teddyProgram compiles s with teddy as its matcher, or returns nil if
// teddy cannot take its targets.
func teddyProgram(s Spec) *Program {
	p := &Program{spec: cloneSpec(s)}
	q := p.spec.Count
	pats := p.distinct(q)
	m := newTeddy(q.Mode, q.IgnoreCase, pats, newDenseMatcher(q.Mode, q.IgnoreCase, pats))
	if m == nil {
		return nil
	}
	p.m = m
	return p
}

// probes are the settings under which the teddy tests run: the default,
// which never hands over on texts this short; a hand-over to the dense
// matcher after the first line past 8 bytes whenever there was any work;
// and one that hands over only on texts dense in candidates.
var probes = []struct {
	name        string
	probe, work int
}{{"default", teddyProbe, teddyWork}, {"hand-over", 8, 0}, {"dense-hand-over", 8, 400}}

// teddyFamilies are target sets that fill buckets in ways the random ones
// rarely do: many targets sharing a prefix, targets that are prefixes of
// others, one- and two-byte targets beside long ones, more targets than
// buckets, and case variants.
var teddyFamilies = [][]string{
	{"Holmes", "sand", "Rochester"},
	{"s", "sa", "san", "sand", "sandy", "sands", "sandal", "sandwich"},
	{"a", "b", "ab", "ba", "aba", "bab", "abab", "aaa"},
	{"the", "and", "of", "to", "a", "in", "that", "he", "was", "it", "his", "i", "with", "is", "for", "as"},
	{"x", "xy", "xyz", "xyzzy", "Holmes", "HOLMES", "holmes", "--", "-", "é", "éa", "日本", "\ufffd"},
	{"Rochester", "Rochesters", "Roch", "Ro", "R", "rochester", "ROCHESTER"},
	{"kelvin", "sand", "\u017fand", "\u212aelvin", "\u017f", "\ufb05x", "\u03c3\u03c2", "\u0130i", "\u0390", "ss", "k"},
}

// teddyText builds a text of pieces and the family's targets, long enough
// for the kernel's blocks, with every kind of boundary around them.
func teddyText(rng *rand.Rand, targets []string, size int) []byte {
	var b []byte
	for len(b) < size {
		switch rng.IntN(4) {
		case 0:
			t := targets[rng.IntN(len(targets))]
			switch rng.IntN(3) {
			case 0:
				t = strings.ToUpper(t)
			case 1: // any spelling under ignore-case
				var sb strings.Builder
				for _, r := range t {
					class := foldClass(r)
					sb.WriteRune(class[rng.IntN(len(class))])
				}
				t = sb.String()
			}
			b = append(b, t...)
		default:
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
	}
	return b
}

// TestTeddyMatchesNaive runs teddy, with the kernel and with the portable
// scan, under every probe setting, on random texts and targets and on the
// families, against the reference and against chunking.
func TestTeddyMatchesNaive(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		for _, pr := range probes {
			t.Run(pr.name, func(t *testing.T) {
				withProbe(pr.probe, pr.work, func() { checkTeddy(t, 1000) })
			})
		}
	})
}

func checkTeddy(t *testing.T, trials int) {
	rng := rand.New(rand.NewPCG(21, 22))
	used := 0
	for i := range trials {
		mode := Mode(1 + i%3)
		q := &Query{Mode: mode, IgnoreCase: rng.IntN(3) == 0}
		var text []byte
		if i%2 == 0 {
			for _, tg := range teddyFamilies[rng.IntN(len(teddyFamilies))] {
				if query.ValidateTarget(mode, tg) == nil {
					q.Targets = append(q.Targets, tg)
				}
			}
			text = teddyText(rng, q.Targets, rng.IntN(400))
		} else {
			text = randText(rng, 1+rng.IntN(300))
			for n := 1 + rng.IntN(maxTeddyTargets+4); len(q.Targets) < n; {
				if tg := randTarget(rng, mode, text); tg != "" {
					q.Targets = append(q.Targets, tg)
				}
			}
		}
		s := Spec{Count: q}
		prog := mustCompile(t, s)
		if _, ok := prog.m.(*teddy); ok {
			used++
		}
		want := naiveRun(s, text)
		if d := diffPartial(prog.Run(text), want); d != "" {
			t.Fatalf("trial %d: %s on %q: %s", i, specString(s), text, d)
		}
		if tp := teddyProgram(s); tp != nil { // also where newMatcher prefers the dense matcher
			if d := diffPartial(tp.Run(text), want); d != "" {
				t.Fatalf("trial %d, teddy: %s on %q: %s", i, specString(s), text, d)
			}
		}
		chunks := lineChunks(rng, text, 0.3)
		if d := diffPartial(runChunked(rng, prog, chunks), want); d != "" {
			t.Fatalf("trial %d: %s on %q chunked as %q: %s", i, specString(s), text, chunks, d)
		}
	}
	if used < trials/5 {
		t.Fatalf("teddy served %d of %d jobs, want at least a fifth", used, trials)
	}
}

// TestTeddyAtEveryOffset puts the families' targets at every offset of
// fillers, in texts of every length up to a few blocks, so that they fall
// at the kernel's block edges, in the portable head and tail, and at the
// text's edges.
func TestTeddyAtEveryOffset(t *testing.T) {
	fillers := []string{"ab cd ", "        ", "x\u00a0y ", "sandsand ", "\xff\xfe-_"}
	withKernels(t, func(t *testing.T) {
		for fi, targets := range teddyFamilies {
			for _, mode := range []Mode{Token, Word, Substring} {
				for _, ic := range []bool{false, true} {
					q := &Query{Mode: mode, IgnoreCase: ic}
					for _, tg := range targets {
						if query.ValidateTarget(mode, tg) == nil {
							q.Targets = append(q.Targets, tg)
						}
					}
					s := Spec{Count: q}
					prog := mustCompile(t, s)
					for _, f := range fillers {
						base := strings.Repeat(f, 100/len(f)+1)[:100]
						for size := 0; size <= len(base); size += 9 {
							for at := 0; at <= size; at++ {
								tg := q.Targets[(at+fi)%len(q.Targets)]
								text := []byte(base[:at] + tg + base[at:size])
								if d := diffPartial(prog.Run(text), naiveRun(s, text)); d != "" {
									t.Fatalf("%s on %q: %s", specString(s), text, d)
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestTeddyOverlaps checks runs of overlapping occurrences, long enough
// for the kernel: substring and word mode count them left to right without
// overlap, per target.
func TestTeddyOverlaps(t *testing.T) {
	for _, tc := range []struct {
		mode    Mode
		targets []string
		text    string
		want    []int64
	}{
		{Substring, []string{"aa", "aaa", "a"}, strings.Repeat("a", 101), []int64{50, 33, 101}},
		{Substring, []string{"abab", "bab"}, strings.Repeat("ab", 60), []int64{30, 30}},
		{Word, []string{"a-a", "a"}, strings.Repeat("a-", 50) + "a", []int64{25, 51}},
		{Token, []string{"aa", "a"}, strings.Repeat("aa ", 40) + "a", []int64{40, 1}},
	} {
		t.Run(fmt.Sprintf("%s/%q", tc.mode, tc.targets), func(t *testing.T) {
			withSIMD(t, func(t *testing.T) {
				s := Spec{Count: &Query{Mode: tc.mode, Targets: tc.targets}}
				prog := mustCompile(t, s)
				if _, ok := prog.m.(*teddy); !ok && useSIMD {
					t.Fatalf("matcher %T, want teddy", prog.m)
				}
				got := prog.Run([]byte(tc.text)).Counts
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("got %v, want %v", got, tc.want)
					}
				}
			})
		})
	}
}

// TestTeddyTakes checks which jobs teddy serves: several targets, or one
// under ignore-case, up to maxTeddyTargets.
func TestTeddyTakes(t *testing.T) {
	for _, tc := range []struct {
		mode       Mode
		ignoreCase bool
		targets    []string
		want       bool
	}{
		{Token, false, []string{"Holmes", "sand", "Rochester"}, useSIMD}, // else bytes.Index per target
		{Word, true, []string{"Holmes", "sand", "Rochester"}, true},
		{Token, true, []string{"kelvin"}, true},
		{Substring, false, []string{"the"}, false}, // one target: the dense pass
		{Substring, true, []string{"the"}, true},
		{Substring, true, []string{"\u03c3\u03c3", "\u0130x"}, true},
	} {
		prog := mustCompile(t, Spec{Count: &Query{Mode: tc.mode, IgnoreCase: tc.ignoreCase, Targets: tc.targets}})
		if _, got := prog.m.(*teddy); got != tc.want {
			t.Errorf("%s ignoreCase=%t %q: teddy %t, want %t", tc.mode, tc.ignoreCase, tc.targets, got, tc.want)
		}
	}
	var many []string
	for i := range maxTeddyTargets + 1 {
		many = append(many, fmt.Sprint("t", i))
	}
	for _, n := range []int{maxTeddyTargets, maxTeddyTargets + 1} {
		prog := mustCompile(t, Spec{Count: &Query{Mode: Word, Targets: many[:n]}})
		if _, got := prog.m.(*teddy); got != (n <= maxTeddyTargets && useSIMD) {
			t.Errorf("%d targets: teddy %t, want %t", n, got, !got)
		}
	}
}

// TestTokenRejectClass checks the token-mode boundary class for every byte.
func TestTokenRejectClass(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		if got, want := tokenReject.has(b), b < 0x80 && !isSpace(rune(b)); got != want {
			t.Errorf("tokenReject.has(%#x): got %t, want %t", b, got, want)
		}
	}
}

// TestTeddyPortableScan checks that the kernel and the portable scan give
// the same candidates, position by position, on random texts.
func TestTeddyPortableScan(t *testing.T) {
	if !useSIMD {
		t.Skip("no vector kernels")
	}
	withKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(23, 24))
		for i := range 300 {
			targets := teddyFamilies[i%len(teddyFamilies)]
			m := newTeddy(Mode(1+i%3), i%2 == 0, targets, nil)
			text := teddyText(rng, targets, 40+rng.IntN(2000))
			var simd, portable []uint64
			var buf [256]uint64
			for next := 0; next < len(text); {
				var n int
				n, next = m.candidates(text, next, buf[:])
				simd = append(simd, buf[:n]...)
			}
			for next := 0; next < len(text); {
				var n int
				n, next = m.scan(text, next, len(text), buf[:])
				portable = append(portable, buf[:n]...)
			}
			if fmt.Sprint(simd) != fmt.Sprint(portable) {
				t.Fatalf("trial %d on %q: kernel %x, portable %x", i, text, simd, portable)
			}
		}
	})
}
