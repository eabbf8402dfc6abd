package count

import (
	"bytes"
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
