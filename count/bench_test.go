package count

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchText is alice.txt repeated to about 8 MB, the size of a chunk.
func benchText(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "text", "alice.txt"))
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Repeat(data, (8<<20)/len(data)+1)
}

var benchTargets = strings.Fields("the Alice said Queen rabbit and she was little Hatter")

func BenchmarkRun(b *testing.B) {
	text := benchText(b)
	type bench struct {
		name string
		spec Spec
	}
	var benches []bench
	for _, m := range []Mode{Token, Word, Substring} {
		for _, n := range []int{1, 10} {
			for _, ic := range []bool{false, true} {
				name := m.String() + "/" + map[int]string{1: "1", 10: "10"}[n]
				if ic {
					name += "/i"
				}
				benches = append(benches, bench{name, Spec{Count: &Query{Mode: m, Targets: benchTargets[:n], IgnoreCase: ic}}})
			}
		}
	}
	for _, t := range []TopQuery{{}, {WordsOnly: true, Lower: true}} {
		name := "top"
		if t.WordsOnly {
			name += "/words/lower"
		}
		benches = append(benches, bench{name, Spec{Top: &t}})
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			prog := mustCompile(b, bc.spec)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				prog.Run(text)
			}
		})
	}
	b.Run("measure", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			Measure(text)
		}
	})
}

// benchFile returns the text of the file named by TALLY_BENCH_FILE (the
// corpora concatenated), and skips the benchmark without that variable.
func benchFile(b *testing.B) []byte {
	path := os.Getenv("TALLY_BENCH_FILE")
	if path == "" {
		b.Skip("TALLY_BENCH_FILE not set")
	}
	text, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return text
}

// benchChunks cuts text as the worker gets it: line-aligned pieces of about
// 1 MiB, the coordinator's default, which stay in the CPU's caches between
// the passes a job makes.
func benchChunks(text []byte) [][]byte {
	var chunks [][]byte
	for rest := text; len(rest) > 0; {
		n := len(rest)
		if n > 1<<20 {
			n = bytes.LastIndexByte(rest[:1<<20], '\n') + 1
			if n == 0 {
				n = 1 << 20
			}
		}
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	return chunks
}

// BenchmarkCorpus runs the jobs of scripts/bench.sh over the file named by
// TALLY_BENCH_FILE (the corpora concatenated), in RAM and on one goroutine.
// It is skipped without that variable. memscan is the ceiling every pass is
// judged against: bytes.IndexByte of a byte that is absent.
func BenchmarkCorpus(b *testing.B) {
	text := benchFile(b)
	count := func(m Mode, ts ...string) Spec { return Spec{Count: &Query{Mode: m, Targets: ts}} }
	jobs := []struct {
		name string
		spec Spec
	}{
		{"stats", Spec{Count: &Query{Mode: Substring, Targets: []string{"\x00"}}, Stats: true}}, // a target that never occurs: the stats pass alone
		{"seed", count(Token, "Holmes", "sand", "Rochester")},
		{"the-token", count(Token, "the")},
		{"the-word", count(Word, "the")},
		{"the-substring", count(Substring, "the")},
		{"ten-word", count(Word, strings.Fields("the and of to a in that he was it")...)},
		{"top-lower", Spec{Top: &TopQuery{Lower: true}}},
	}
	b.Run("memscan", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			if bytes.IndexByte(text, 0) >= 0 {
				b.Fatal("the input holds a NUL byte")
			}
		}
	})
	chunks := benchChunks(text)
	for _, j := range jobs {
		b.Run(j.name, func(b *testing.B) {
			prog := mustCompile(b, j.spec)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				for _, c := range chunks {
					prog.Run(c)
				}
			}
		})
	}
}

// BenchmarkMatchers compares, per mode and number of common English words
// as targets, the per-target vector passes with the one-pass matchers
// (automaton, token lookup), over 8 MB of TALLY_BENCH_FILE in 1 MiB pieces:
// the measurement behind maxIndexTokens and maxIndexTargets.
func BenchmarkMatchers(b *testing.B) {
	text := benchFile(b)
	text = text[:min(len(text), 8<<20)]
	words := strings.Fields("the and of to a in that he was it his i with is for as had you not be " +
		"her on at by which have or from this but him she they were all my are me one their so an said " +
		"them we who would been will no when there if more out up into do any your what has man could")
	for _, n := range []int{3, 10, 20, 40, 60} {
		for _, mode := range []Mode{Token, Word, Substring} {
			pats := words[:n]
			for _, kind := range []string{"vector", "onepass"} {
				var m matcher
				switch {
				case kind == "vector" && mode == Token:
					m = newIndexToken(pats)
				case kind == "vector":
					m = newIndexWord(pats, mode == Word)
				case mode == Token:
					m = newTokenSet(pats, false)
				default:
					m = newByteAC(pats, mode == Word)
				}
				b.Run(fmt.Sprintf("%s/%d/%s", mode, n, kind), func(b *testing.B) {
					b.SetBytes(int64(len(text)))
					counts := make([]int64, n)
					for b.Loop() {
						for i := 0; i < len(text); i += 1 << 20 {
							piece := text[i:min(len(text), i+1<<20)]
							if !m.measures() {
								measure(piece)
							}
							m.match(piece, counts)
						}
					}
				})
			}
		}
	}
}

// BenchmarkFold folds the top --lower tables of TALLY_BENCH_FILE's 1 MiB
// chunks into one, as a coordinator folds a job's: the serial part of a
// top job besides its sort.
func BenchmarkFold(b *testing.B) {
	text := benchFile(b)
	var tables []*Freq
	for _, c := range benchChunks(text) {
		f, _, _ := runTop(TopQuery{Lower: true}, c, 0)
		tables = append(tables, f)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		var job Freq
		for _, f := range tables {
			job.Merge(f)
		}
	}
}
