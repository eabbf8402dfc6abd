package worker

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/internal/leaktest"
	"github.com/tallyhq/tally/query"
)

// TestMain fails the package if a test leaves a goroutine behind. Every
// server, connection and Worker a test starts is closed in t.Cleanup.
func TestMain(m *testing.M) { leaktest.Main(m) }

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up after %v waiting for %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// MustReadTexts returns the shared test texts by file name.
func MustReadTexts(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob("../testdata/text/*.txt")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("glob test texts: got %d files, err %v; want some", len(paths), err)
	}
	texts := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatalf("read %s: %v", p, err)
		}
		texts[filepath.Base(p)] = b
	}
	return texts
}

// testQueries are count and top queries over every mode and option.
func testQueries() map[string]query.Job {
	c := func(m query.Mode, ic bool, targets ...string) query.Job {
		return query.Job{Spec: query.Spec{Count: &query.Count{Mode: m, Targets: targets, IgnoreCase: ic}}}
	}
	t := func(wordsOnly, lower bool, limit int) query.Job {
		return query.Job{Spec: query.Spec{Top: &query.Top{WordsOnly: wordsOnly, Lower: lower}}, TopLimit: limit}
	}
	return map[string]query.Job{
		"token":            c(query.Token, false, "the", "a", "Alice"),
		"token many -i":    c(query.Token, true, "the", "a", "alice", "i", "and", "is"),
		"word -i":          c(query.Word, true, "the", "σ", "ß", "k"),
		"substring":        c(query.Substring, false, "th", "the ", "aa"),
		"substring many":   c(query.Substring, false, "e", "he", "the", "a", "an", "and"),
		"top":              t(false, false, 0),
		"top words lower":  t(true, true, 10),
		"top words":        t(true, false, 5),
		"top lower all":    t(false, true, 0),
		"word many exact":  c(query.Word, false, "the", "a", "of", "to", "in"),
		"token dup target": c(query.Token, false, "the", "the"),
	}
}

// MustRun is the single-pass reference answer: count.Compile(spec).Run(data).
func MustRun(tb testing.TB, s query.Spec, data []byte) count.Partial {
	tb.Helper()
	p, err := count.Compile(s)
	if err != nil {
		tb.Fatalf("compile %+v: %v", s, err)
	}
	return p.Run(data)
}

// diffPartial describes how got differs from want, or returns "".
func diffPartial(got, want count.Partial) string {
	var d []string
	if got.Stats != want.Stats {
		d = append(d, fmt.Sprintf("stats: got %+v, want %+v", got.Stats, want.Stats))
	}
	if !slices.Equal(got.Counts, want.Counts) {
		d = append(d, fmt.Sprintf("counts: got %v, want %v", got.Counts, want.Counts))
	}
	if (got.Freq == nil) != (want.Freq == nil) {
		d = append(d, fmt.Sprintf("freq: got nil=%t, want nil=%t", got.Freq == nil, want.Freq == nil))
	} else if g, w := got.Freq.Top(0), want.Freq.Top(0); !slices.Equal(g, w) {
		d = append(d, fmt.Sprintf("freq: got %d entries %.200v, want %d entries %.200v", len(g), g, len(w), w))
	}
	return strings.Join(d, "; ")
}
