package count

import (
	"slices"
	"strings"
	"testing"
)

// TestRunCounts pins down the semantics with small cases whose answers were
// checked against the Python expressions of SPEC.md.
func TestRunCounts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       Mode
		ignoreCase bool
		targets    []string
		text       string
		want       []int64
	}{
		{"token basic", Token, false, []string{"the"}, "the cat the\tthe.", []int64{2}},
		{"token nbsp splits", Token, false, []string{"the"}, "the\u00a0the\u3000the\u0085the\x1cthe", []int64{5}},
		{"token zero-width space does not split", Token, false, []string{"the"}, "the\u200bthe the\ufeff", []int64{0}},
		{"token invalid byte is a character", Token, false, []string{"the"}, "\xffthe the\xff the", []int64{1}},
		{"token crlf", Token, false, []string{"a"}, "a\r\na\r\n", []int64{2}},
		{"token ignore case", Token, true, []string{"the"}, "The THE tHe thee", []int64{3}},
		{"token kelvin", Token, true, []string{"kelvin"}, "\u212aelvin KELVIN", []int64{2}},
		{"token dotted i", Token, true, []string{"i"}, "\u0130 \u0131 I i", []int64{4}},
		{"token many", Token, false, []string{"a", "b", "c", "d", "a"}, "a b c d a x", []int64{2, 1, 1, 1, 2}},
		{"word boundary", Word, false, []string{"the"}, "the them bathe the. _the the1 (the)", []int64{3}},
		{"word combining mark is no word char", Word, false, []string{"the"}, "the\u0301", []int64{1}},
		{"word accented letter is", Word, false, []string{"the"}, "th\u00e9the the\u00e9", []int64{0}},
		{"word overlap", Word, false, []string{"aa"}, "aaaa aa", []int64{1}},
		{"word failed boundary does not advance", Word, false, []string{"a-a"}, "xa-a-a", []int64{1}},
		{"word punctuation target", Word, false, []string{"--"}, "a--b -- ---", []int64{2}},
		{"word 0345 folds but is no word char", Word, true, []string{"\u03b9"}, "\u0345 a\u0345 \u03b1\u0399", []int64{1}},
		{"word kelvin bytes differ", Word, true, []string{"k"}, "\u212a k\u212a K.", []int64{2}},
		{"word sigma", Word, true, []string{"\u03c3"}, "\u03a3 \u03c2 \u03c3", []int64{3}},
		{"substring overlap", Substring, false, []string{"aa"}, "aaaaa", []int64{2}},
		{"substring ignore case overlap", Substring, true, []string{"aA"}, "AaAaA", []int64{2}},
		{"substring fffd not invalid byte", Substring, false, []string{"\ufffd"}, "\xff\ufffd\xef\xbf", []int64{1}},
		{"substring fffd not invalid byte ignore case", Substring, true, []string{"\ufffd"}, "\xff\ufffd\xef\xbf", []int64{1}},
		{"substring sharp s", Substring, true, []string{"\u00df"}, "\u1e9e ss \u00df", []int64{2}},
		{"substring python pairs", Substring, true, []string{"\ufb05", "\u0390"}, "\ufb06\u1fd3", []int64{1, 1}},
		{"substring many overlapping", Substring, false, []string{"a", "aa", "aaa", "b", "ab"}, "aaaab", []int64{4, 2, 1, 1, 1}},
		{"substring empty text", Substring, false, []string{"a"}, "", []int64{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Spec{Count: &Query{Mode: tc.mode, IgnoreCase: tc.ignoreCase, Targets: tc.targets}}
			got := mustCompile(t, s).Run([]byte(tc.text)).Counts
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want Stats
	}{
		{"empty", "", Stats{}},
		{"no final newline", "a b\nc", Stats{Bytes: 5, Lines: 1, Tokens: 3}},
		{"only space", " \t\n\u3000\n", Stats{Bytes: 7, Lines: 2}},
		{"crlf", "a\r\nb\r\n", Stats{Bytes: 6, Lines: 2, Tokens: 2}},
		{"separators", "a\x1cb\x1dc\x1ed\x1fe", Stats{Bytes: 9, Tokens: 5}},
		{"invalid", "\xff \xe2\x80 \xe2\x80\x80x", Stats{Bytes: 9, Tokens: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Measure([]byte(tc.text)); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTop(t *testing.T) {
	text := []byte("The the THE \u03a3\u039f\u03a3 x\xff_1 don't \u0130")
	for _, tc := range []struct {
		name string
		q    TopQuery
		want []Entry
	}{
		{"tokens", TopQuery{}, []Entry{{Token: "THE", Count: 1}, {Token: "The", Count: 1}, {Token: "don't", Count: 1}, {Token: "the", Count: 1}, {Token: "x\xff_1", Count: 1}, {Token: "\u0130", Count: 1}, {Token: "\u03a3\u039f\u03a3", Count: 1}}},
		{"lower", TopQuery{Lower: true}, []Entry{{Token: "the", Count: 3}, {Token: "don't", Count: 1}, {Token: "i", Count: 1}, {Token: "x\xff_1", Count: 1}, {Token: "\u03c3\u03bf\u03c3", Count: 1}}},
		{"words", TopQuery{WordsOnly: true}, []Entry{{Token: "THE", Count: 1}, {Token: "The", Count: 1}, {Token: "_1", Count: 1}, {Token: "don", Count: 1}, {Token: "t", Count: 1}, {Token: "the", Count: 1}, {Token: "x", Count: 1}, {Token: "\u0130", Count: 1}, {Token: "\u03a3\u039f\u03a3", Count: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustCompile(t, Spec{Top: &tc.q}).Run(text).Freq.Top(0)
			if d := diffEntries(got, tc.want); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestFreq(t *testing.T) {
	f := NewFreq()
	for _, tok := range []string{"b", "a", "c", "b", "a", "b", "\xff"} {
		f.Add([]byte(tok), 1)
	}
	g := NewFreq()
	g.Add([]byte("c"), 5)
	f.Merge(g)
	f.Merge(nil)
	t.Run("top all", func(t *testing.T) {
		want := []Entry{{Token: "c", Count: 6}, {Token: "b", Count: 3}, {Token: "a", Count: 2}, {Token: "\xff", Count: 1}}
		if d := diffEntries(f.Top(0), want); d != "" {
			t.Fatal(d)
		}
	})
	t.Run("top k", func(t *testing.T) {
		if d := diffEntries(f.Top(2), []Entry{{Token: "c", Count: 6}, {Token: "b", Count: 3}}); d != "" {
			t.Fatal(d)
		}
		if got := len(f.Top(10)); got != 4 {
			t.Fatalf("got %d entries, want 4", got)
		}
	})
	t.Run("each", func(t *testing.T) {
		sum, n := int64(0), 0
		f.Each(func(tok []byte, c int64) { sum += c; n++ })
		if sum != 12 || n != f.Len() {
			t.Fatalf("got sum %d over %d tokens, want 12 over %d", sum, n, f.Len())
		}
	})
	t.Run("nil", func(t *testing.T) {
		var nf *Freq
		if nf.Len() != 0 || nf.Top(0) != nil {
			t.Fatal("nil Freq is not empty")
		}
	})
}

func TestPartialMerge(t *testing.T) {
	prog := mustCompile(t, Spec{Top: &TopQuery{}})
	a, b := prog.Run([]byte("x y\n")), prog.Run([]byte("x\n"))
	t.Run("zero values", func(t *testing.T) {
		var p Partial
		p.Merge(Partial{})
		p.Merge(a)
		p.Merge(Partial{})
		p.Merge(b)
		if d := diffPartial(p, prog.Run([]byte("x y\nx\n"))); d != "" {
			t.Fatal(d)
		}
		if a.Freq.Len() != 2 || b.Freq.Len() != 1 {
			t.Fatal("merge changed its argument")
		}
	})
	t.Run("counts", func(t *testing.T) {
		var p Partial
		src := Partial{Counts: []int64{1, 2}}
		p.Merge(src)
		p.Merge(Partial{Counts: []int64{10, 20}})
		if !slices.Equal(p.Counts, []int64{11, 22}) || src.Counts[0] != 1 {
			t.Fatalf("got %v (source %v), want [11 22] (source [1 2])", p.Counts, src.Counts)
		}
	})
	t.Run("mismatch panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		p := Partial{Counts: []int64{1}}
		p.Merge(Partial{Counts: []int64{1, 2}})
	})
}

// TestFreqTopK checks the heap path of Top against a full sort.
func TestFreqTopK(t *testing.T) {
	f := NewFreq()
	for i := range 500 {
		f.Add([]byte{byte('a' + i%26), byte('a' + i%7)}, int64(i%13))
	}
	all := f.Top(0)
	for _, k := range []int{1, 2, 5, 17, 100, len(all) - 1, len(all), len(all) + 3} {
		want := all[:min(k, len(all))]
		if d := diffEntries(f.Top(k), want); d != "" {
			t.Errorf("Top(%d): %s", k, d)
		}
	}
}

// TestRunConcurrent runs one Program from many goroutines at once; with -race
// it checks that Run keeps its scratch state to itself.
func TestRunConcurrent(t *testing.T) {
	text := []byte(strings.Repeat("The cat \u212aelvin sat on the mat; the end.\nthe\u00a0Cat\r\n", 200))
	targets := []string{"the", "cat", "kelvin", "mat", "end"}
	var specs []Spec
	for _, m := range []Mode{Token, Word, Substring} {
		for _, ic := range []bool{false, true} {
			specs = append(specs, Spec{Count: &Query{Mode: m, IgnoreCase: ic, Targets: targets[:1]}})
			specs = append(specs, Spec{Count: &Query{Mode: m, IgnoreCase: ic, Targets: targets}})
		}
	}
	specs = append(specs, Spec{Top: &TopQuery{WordsOnly: true, Lower: true}})
	for _, s := range specs {
		t.Run(specString(s), func(t *testing.T) {
			prog := mustCompile(t, s)
			want := prog.Run(text)
			results := make(chan Partial)
			for range 4 {
				go func() { results <- prog.Run(text) }()
			}
			for range 4 {
				if d := diffPartial(<-results, want); d != "" {
					t.Error(d)
				}
			}
		})
	}
}

func TestFreqZeroValue(t *testing.T) {
	var f Freq
	f.Add([]byte("a"), 2)
	f.Merge(&Freq{})
	if d := diffEntries(f.Top(0), []Entry{{Token: "a", Count: 2}}); d != "" {
		t.Fatal(d)
	}
}
