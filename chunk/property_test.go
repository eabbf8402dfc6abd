package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// naiveResult is what naiveChunks cuts: the chunks, and the offset of the
// uncuttable text that ends them early, or -1.
type naiveResult struct {
	chunks []string
	errOff int64
}

// naiveChunks applies the cutting rule to a whole document in memory, one byte
// at a time: the reference the streaming Reader must match exactly.
func naiveChunks(doc []byte, cfg Config) naiveResult {
	canEnd := func(b byte) bool { return b == '\n' || cfg.SplitAtSpace && isCutSpace(b) }
	res := naiveResult{errOff: -1}
	for off := 0; off < len(doc); {
		rest := doc[off:]
		n := -1
		if len(rest) <= cfg.Size {
			n = len(rest)
		}
		for i := cfg.Size - 1; n < 0 && i >= 0; i-- { // last newline in the window
			if rest[i] == '\n' {
				n = i + 1
			}
		}
		for i := cfg.Size - 1; n < 0 && i >= 0; i-- { // else last space, if allowed
			if canEnd(rest[i]) {
				n = i + 1
			}
		}
		for i := cfg.Size; n < 0 && i < len(rest) && i < cfg.MaxLine; i++ { // else first cut after
			if canEnd(rest[i]) {
				n = i + 1
			}
		}
		if n < 0 && len(rest) <= cfg.MaxLine {
			n = len(rest)
		}
		if n < 0 {
			res.errOff = int64(off)
			return res
		}
		res.chunks = append(res.chunks, string(rest[:n]))
		off += n
	}
	return res
}

// isCutSpace reports whether b is in cutSpace, spelled out independently.
func isCutSpace(b byte) bool {
	switch b {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x1c, 0x1d, 0x1e, 0x1f:
		return true
	}
	return false
}

// checkChunks checks the invariants every cut must keep. complete says the
// chunks are all of doc, not a prefix ended by an error.
func checkChunks(tb testing.TB, doc []byte, cfg Config, chunks []Chunk, complete bool) {
	tb.Helper()
	var joined []byte
	for i, c := range chunks {
		if c.Seq != i {
			tb.Errorf("chunk %d: Seq got %d, want %d", i, c.Seq, i)
		}
		if c.Offset != int64(len(joined)) {
			tb.Errorf("chunk %d: Offset got %d, want %d", i, c.Offset, len(joined))
		}
		if len(c.Data) == 0 || len(c.Data) > cfg.MaxLine {
			tb.Errorf("chunk %d: length got %d, want 1..%d", i, len(c.Data), cfg.MaxLine)
		}
		if len(c.Data) > cfg.Size && hasCut(c.Data[:cfg.Size], cfg) {
			tb.Errorf("chunk %d: got %d bytes though its first %d bytes hold a cut point", i, len(c.Data), cfg.Size)
		}
		last := i == len(chunks)-1 && complete
		if end := c.Data[len(c.Data)-1]; !last && end != '\n' && !(cfg.SplitAtSpace && isCutSpace(end)) {
			tb.Errorf("chunk %d: ends with %q, want a newline or (SplitAtSpace) ASCII space", i, end)
		}
		joined = append(joined, c.Data...)
	}
	if complete && !bytes.Equal(joined, doc) || !complete && !bytes.HasPrefix(doc, joined) {
		i := 0
		for i < len(joined) && i < len(doc) && joined[i] == doc[i] {
			i++
		}
		tb.Errorf("chunks re-joined: got %d bytes, want %s %d bytes; they differ from byte %d",
			len(joined), map[bool]string{true: "all", false: "a prefix of"}[complete], len(doc), i)
	}
}

func hasCut(b []byte, cfg Config) bool {
	if cfg.SplitAtSpace {
		return bytes.ContainsAny(b, cutSpace)
	}
	return bytes.IndexByte(b, '\n') >= 0
}

// checkAgainstNaive cuts doc with cfg through the given reader kind and checks
// the result against naiveChunks and the invariants.
func checkAgainstNaive(tb testing.TB, doc []byte, cfg Config, kind int) {
	tb.Helper()
	r, err := NewReader(readerKinds[kind].wrap(bytes.NewReader(doc)), cfg)
	if err != nil {
		tb.Fatalf("NewReader(%+v): %v", cfg, err)
	}
	chunks, err := readAll(tb, r)
	want := naiveChunks(doc, cfg)
	shown := doc
	if len(shown) > 200 {
		shown = shown[:200] // enough to recognise the document in a failure
	}
	if got := datas(chunks); !equalStrings(got, want.chunks) {
		tb.Fatalf("%+v via %s on %q: chunks got %q, want %q", cfg, readerKinds[kind].name, shown, short(got), short(want.chunks))
	}
	switch {
	case want.errOff < 0 && err != nil:
		tb.Fatalf("%+v on %q: got error %v, want none", cfg, shown, err)
	case want.errOff >= 0 && !errors.Is(err, ErrLineTooLong):
		tb.Fatalf("%+v on %q: error got %v, want ErrLineTooLong", cfg, shown, err)
	case want.errOff >= 0 && !strings.Contains(err.Error(), fmt.Sprintf("byte offset %d ", want.errOff)):
		tb.Fatalf("%+v on %q: error got %q, want offset %d", cfg, shown, err, want.errOff)
	}
	checkChunks(tb, doc, cfg, chunks, err == nil)
}

// short keeps a failure message readable when there are many chunks.
func short(chunks []string) []string {
	if len(chunks) > 20 {
		return append(chunks[:20:20], fmt.Sprintf("... %d more", len(chunks)-20))
	}
	return chunks
}

// pieces are what random documents are made of: words, every kind of cut
// point, CRLF, Unicode spaces (never cut points), multi-byte and invalid UTF-8.
var pieces = []string{
	"a", "bc", "word", "é", "世界", "\xff", "\xe4\xb8", "\n", "\n", "\r\n", " ", " ", "\t",
	"\v", "\f", "\r", "\x1c", "\x1f", "\u00a0", "\u2003", "\u0085",
}

func randomDoc(rng *rand.Rand) []byte {
	var b []byte
	for range rng.IntN(60) {
		p := pieces[rng.IntN(len(pieces))]
		if rng.IntN(8) == 0 { // now and then a long run
			p = strings.Repeat(p, 1+rng.IntN(40))
		}
		b = append(b, p...)
	}
	return b
}

func randomConfig(rng *rand.Rand) Config {
	size := 1 + rng.IntN(24)
	maxLine := size + rng.IntN(48)
	if rng.IntN(4) == 0 {
		maxLine = 1 << 20 // never too long
	}
	return Config{Size: size, MaxLine: maxLine, SplitAtSpace: rng.IntN(2) == 0}
}

// TestReaderProperties checks random documents, sizes and source behaviours
// against the naive reference: the chunks re-join to the input, Offsets add up,
// and every chunk but the last ends at a cut point.
func TestReaderProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 5000 {
		doc := randomDoc(rng)
		checkAgainstNaive(t, doc, randomConfig(rng), rng.IntN(len(readerKinds)))
		if t.Failed() {
			return
		}
	}
}

// TestReaderTextFiles cuts the shared test texts (long lines, CRLF, invalid
// UTF-8, no final newline, ...) at several sizes and checks them like the rest.
func TestReaderTextFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "text", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Skipf("no test texts: %v", err)
	}
	for _, file := range files {
		doc, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{3, 64, 4096, DefaultSize} {
			for _, split := range []bool{false, true} {
				name := fmt.Sprintf("%s/size=%d,split=%v", filepath.Base(file), size, split)
				t.Run(name, func(t *testing.T) {
					checkAgainstNaive(t, doc, Config{Size: size, MaxLine: DefaultMaxLine, SplitAtSpace: split}, 0)
				})
			}
		}
	}
}

// FuzzReader checks the same properties on inputs the fuzzer finds. flags bit 0
// turns on SplitAtSpace; bits 1-2 pick how the source splits its reads.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"", "\n", "abc\n", "ab\ncd", "ab\r\ncd\r\n", "héllo wörld\n世界\n", "a\x1cb\x1fc",
		"abcdefgh\nij\n", "\xff\xfe\n\xc3\n", "a\u00a0b\u2003c", strings.Repeat("x", 300) + "\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), uint8(i*7), uint8(i))
	}
	f.Fuzz(func(t *testing.T, doc []byte, size, extra, flags uint8) {
		cfg := Config{
			Size:         1 + int(size)%64,
			SplitAtSpace: flags&1 == 1,
		}
		cfg.MaxLine = cfg.Size + int(extra)
		checkAgainstNaive(t, doc, cfg, int(flags>>1)%len(readerKinds))
	})
}
