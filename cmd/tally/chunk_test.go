package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chunkSizes are the --chunk-size values every answer must be independent of;
// "" is the coordinator's default.
var chunkSizes = []string{"1", "7", "64", "4096", ""}

// adversarialText is small (chunk size 1 stays fast) but has what chunking
// must survive: CRLF, multi-byte and invalid UTF-8, lines longer than the
// chunks, Unicode whitespace that is not a newline, and no final newline.
func adversarialText() string {
	var b strings.Builder
	b.WriteString("the cat\r\nThe Cat THE\r\n\r\n")
	b.WriteString("caf\u00e9 cafe\u0301 \u65e5\u672c\u65e5\u672c the\u00a0end the\u3000end a\u0085b a\u2028b\n")
	b.WriteString("\xff\xfethe \xc3the\xe2\x82 \xe2\x82\xac \u212a k K \u017f s S \u0130 i \u0131 I \u03c3 \u03c2 \u03a3\n")
	b.WriteString("-- --- ---- a--b the--the _the the_ x1 1x the. (the) 'the'\n")
	b.WriteString("   \t  \n\n\x1c\x1d\x1e\x1f\n")
	for i := range 300 { // one line of ~5 KB: longer than the 4096-byte chunks
		fmt.Fprintf(&b, "the a%d aa ", i%7)
	}
	b.WriteString("\n")
	b.WriteString(strings.Repeat("ab", 2100) + "\n") // 4200 bytes without whitespace
	b.WriteString("aaaa aaa aa a the end the")
	return b.String()
}

// chunkQueries are command lines (without paths) that must give the same
// answer at every chunk size.
var chunkQueries = [][]string{
	{"count", "-e", "the", "-e", "The", "-e", "a", "-e", "aa", "-e", "--", "-e", "\u212a", "-e", "\u00e9", "-e", "\u20ac"},
	{"count", "-i", "-e", "the", "-e", "k", "-e", "s", "-e", "\u03c3", "-e", "i"},
	{"count", "--mode", "word", "-e", "the", "-e", "the end", "-e", "a", "-e", "aa", "-e", "--", "-e", "ab", "-e", "\u65e5\u672c"},
	{"count", "--mode", "word", "-i", "-e", "the", "-e", "THE CAT", "-e", "\u212a", "-e", "\u03a3", "-e", "\u0130"},
	{"count", "--mode", "substring", "-e", "the", "-e", "aa", "-e", "abab", "-e", "a the", "-e", "\r", "-e", "\u00a0", "-e", "--"},
	{"count", "--mode", "substring", "-i", "-e", "the", "-e", "a", "-e", "ss", "-e", "\u00df", "-e", "the cat"},
	{"top", "-n", "0"},
	{"top", "-n", "0", "--lower"},
	{"top", "-n", "0", "--words-only"},
	{"top", "-n", "0", "--words-only", "--lower"},
}

// TestChunkSizeInvariance runs each query at every chunk size through the
// whole stack (upload, chunker, worker, merge, output).
func TestChunkSizeInvariance(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := []string{
		writeFile(t, dir, "adversarial.txt", []byte(adversarialText())),
		writeFile(t, dir, "empty.txt", nil),
		writeFile(t, dir, "newline.txt", []byte("\n")),
		writeFile(t, dir, "one.txt", []byte("the")),
		writeFile(t, dir, "crlf.txt", []byte("the\r\n\r\nthe\r")),
	}
	for _, q := range chunkQueries {
		t.Run(strings.Join(q, " "), func(t *testing.T) {
			t.Parallel()
			var want answer
			for i, size := range chunkSizes {
				args := append(cloneArgs(q), paths...)
				if size != "" {
					args = append(args, "--chunk-size", size)
				}
				got := runJSON(t, args...).answer()
				if i == 0 {
					want = got
					checkTotalAnswer(t, got)
					continue
				}
				if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
					t.Errorf("--chunk-size %q: got %s, want (as --chunk-size 1) %s", size, clip(g), clip(w))
				}
			}
		})
	}
}

func cloneArgs(q []string) []string { return append([]string(nil), q...) }

func checkTotalAnswer(t testing.TB, a answer) {
	t.Helper()
	checkTotal(t, countOut{Documents: a.Documents, Total: a.Total})
}

// TestGoldenChunked checks the oracle's answers on the small generated inputs
// with the smallest chunks, for the golden queries with many targets.
func TestGoldenChunked(t *testing.T) {
	t.Parallel()
	var gs []*golden
	var paths []string
	for _, name := range goldenNames(t) {
		if !strings.HasPrefix(name, "gen-") && name != "zen" {
			continue
		}
		if info, err := os.Stat(filepath.Join(textDir, name+".txt")); err != nil || info.Size() > 64<<10 {
			continue
		}
		g := loadGolden(t, name)
		gs, paths = append(gs, g), append(paths, g.path)
	}
	if len(gs) == 0 {
		t.Skip("no small golden inputs")
	}
	// Size 1 cuts after every line (or every whitespace byte); it is slow
	// under -race, so the queries take turns with sizes 1, 7, 64 and 1000.
	sizes := []string{"1", "7", "64", "1000"}
	n := 0
	for qi, q := range gs[0].Counts {
		if len(q.Targets) < 15 {
			continue
		}
		size := sizes[n%len(sizes)]
		n++
		args := append(append(queryArgs(q), "--chunk-size", size), paths...)
		o := runJSON(t, args...)
		for i, g := range gs {
			checkDoc(t, fmt.Sprintf("%v --chunk-size %s", q, size), o.Documents[i], g, &g.Counts[qi])
		}
	}
	for ti, top := range gs[0].Top {
		for i, g := range gs {
			if g.Top[ti].WordsOnly != top.WordsOnly || g.Top[ti].Lower != top.Lower {
				t.Fatalf("golden %s: top tables in another order", g.Input)
			}
			o := runJSON(t, append(tableArgs(top), "--chunk-size", "1", paths[i])...)
			checkTop(t, g.Input+" "+strings.Join(tableArgs(top), " ")+" --chunk-size 1", o.Top, topWant(g.Top[ti]))
		}
	}
}
