package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll drains r and returns the chunks and the error that ended them (nil
// for io.EOF).
func readAll(tb testing.TB, r *Reader) ([]Chunk, error) {
	tb.Helper()
	var chunks []Chunk
	for {
		c, err := r.Next()
		if err == io.EOF {
			return chunks, nil
		}
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, c)
	}
}

// mustChunks cuts doc with cfg, read through src, and fails the test on error.
func mustChunks(tb testing.TB, src io.Reader, cfg Config) []Chunk {
	tb.Helper()
	r, err := NewReader(src, cfg)
	if err != nil {
		tb.Fatalf("NewReader: %v", err)
	}
	chunks, err := readAll(tb, r)
	if err != nil {
		tb.Fatalf("Next: got error %v, want none", err)
	}
	return chunks
}

func datas(chunks []Chunk) []string {
	out := make([]string, len(chunks))
	for i, c := range chunks {
		out[i] = string(c.Data)
	}
	return out
}

func TestReaderCuts(t *testing.T) {
	cfg := func(size, maxLine int, split bool) Config {
		return Config{Size: size, MaxLine: maxLine, SplitAtSpace: split}
	}
	tests := []struct {
		name string
		cfg  Config
		doc  string
		want []string
	}{
		{"empty input", cfg(4, 8, false), "", nil},
		{"empty input split", cfg(1, 1, true), "", nil},
		{"one line fits", cfg(10, 10, false), "abc\n", []string{"abc\n"}},
		{"rest fits at EOF", cfg(10, 10, false), "ab\ncd", []string{"ab\ncd"}},
		{"last line without newline", cfg(3, 8, false), "ab\ncd", []string{"ab\n", "cd"}},
		{"exactly size then more", cfg(3, 8, false), "ab\ncd\n", []string{"ab\n", "cd\n"}},
		{"exactly size at EOF", cfg(3, 3, false), "abc", []string{"abc"}},
		{"cut after last newline in window", cfg(5, 8, false), "a\nb\nccc\n", []string{"a\nb\n", "ccc\n"}},
		{"line longer than size", cfg(3, 16, false), "abcdefgh\nij\n", []string{"abcdefgh\n", "ij\n"}},
		{"long last line without newline", cfg(3, 16, false), "ab\ncdefgh", []string{"ab\n", "cdefgh"}},
		{"only newlines", cfg(1, 1, false), "\n\n\n", []string{"\n", "\n", "\n"}},
		{"CRLF", cfg(4, 8, false), "ab\r\ncd\r\n", []string{"ab\r\n", "cd\r\n"}},
		{"CRLF window ends at CR", cfg(3, 8, false), "ab\r\ncd\r\n", []string{"ab\r\n", "cd\r\n"}},
		{"CRLF split after CR", cfg(3, 8, true), "ab\r\ncd\r\n", []string{"ab\r", "\n", "cd\r", "\n"}},
		{"size 1", cfg(1, 8, false), "a\nbc\n", []string{"a\n", "bc\n"}},
		{"size 1 split", cfg(1, 8, true), "a b\n", []string{"a ", "b\n"}},
		{"multi-byte long line", cfg(4, 32, false), "héllo wörld\n世界\n", []string{"héllo wörld\n", "世界\n"}},
		{"multi-byte split", cfg(4, 32, true), "héllo wörld\n世界\n", []string{"héllo ", "wörld\n", "世界\n"}},
		{"invalid UTF-8", cfg(2, 8, false), "\xff\xfe\n\xc3\n", []string{"\xff\xfe\n", "\xc3\n"}},
		{"split extends to first space", cfg(3, 16, true), "abcdef ghi", []string{"abcdef ", "ghi"}},
		{"split at 0x1C..0x1F", cfg(2, 8, true), "a\x1cb\x1fc", []string{"a\x1c", "b\x1f", "c"}},
		{"split at VT and FF", cfg(2, 8, true), "a\vb\fc", []string{"a\v", "b\f", "c"}},
		{"split prefers newline", cfg(4, 8, true), "a\nb c", []string{"a\n", "b c"}},
		{"split ignores Unicode spaces", cfg(2, 16, true), "a\u00a0b\u2003c", []string{"a\u00a0b\u2003c"}},
		{"no split without the option", cfg(2, 16, false), "ab cd ef\n", []string{"ab cd ef\n"}},
		{"line exactly MaxLine", cfg(2, 4, false), "abc\nd", []string{"abc\n", "d"}},
		{"last line exactly MaxLine", cfg(2, 4, false), "abcd", []string{"abcd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := mustChunks(t, strings.NewReader(tt.doc), tt.cfg)
			if got := datas(chunks); !equalStrings(got, tt.want) {
				t.Errorf("chunks: got %q, want %q", got, tt.want)
			}
			checkChunks(t, []byte(tt.doc), tt.cfg, chunks, true)
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReaderLineTooLong(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		doc     string
		want    []string // chunks before the error
		wantMsg string
	}{
		{"first line", Config{Size: 2, MaxLine: 4}, "abcdefgh\n", nil, "byte offset 0 "},
		{"later line", Config{Size: 3, MaxLine: 4}, "ab\ncdefgh\n", []string{"ab\n"}, "byte offset 3 "},
		{"newline one past MaxLine", Config{Size: 2, MaxLine: 4}, "abcd\n", nil, "byte offset 0 "},
		{"last line without newline", Config{Size: 2, MaxLine: 4}, "a\nbcdef", []string{"a\n"}, "byte offset 2 "},
		{"Size equals MaxLine", Config{Size: 3, MaxLine: 3}, "abc\n", nil, "byte offset 0 "},
		{"split without space", Config{Size: 2, MaxLine: 5, SplitAtSpace: true}, "ab cdefghi j", []string{"ab "}, "byte offset 3 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.doc), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := readAll(t, r)
			if !errors.Is(err, ErrLineTooLong) {
				t.Fatalf("error: got %v, want ErrLineTooLong", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.wantMsg)
			}
			if got := datas(chunks); !equalStrings(got, tt.want) {
				t.Errorf("chunks before the error: got %q, want %q", got, tt.want)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after error: got %v, want the same error %v", again, err)
			}
		})
	}
}

// readerKinds wraps a source the ways testing/iotest can: short reads, and
// data returned together with io.EOF. None may move a cut.
var readerKinds = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"plain", func(r io.Reader) io.Reader { return r }},
	{"OneByteReader", iotest.OneByteReader},
	{"HalfReader", iotest.HalfReader},
	{"DataErrReader", iotest.DataErrReader},
}

func TestReaderShortReads(t *testing.T) {
	doc := []byte("the quick\r\nbrown fox\n\njumps over the lazy dog; très bien 世界\nno newline at the end")
	configs := []Config{
		{Size: 1, MaxLine: 1 << 10},
		{Size: 5, MaxLine: 64},
		{Size: 5, MaxLine: 64, SplitAtSpace: true},
		{Size: 16, MaxLine: 64},
		{Size: 1 << 10, MaxLine: 1 << 10},
	}
	for _, kind := range readerKinds {
		for _, cfg := range configs {
			name := fmt.Sprintf("%s/size=%d,max=%d,split=%v", kind.name, cfg.Size, cfg.MaxLine, cfg.SplitAtSpace)
			t.Run(name, func(t *testing.T) {
				chunks := mustChunks(t, kind.wrap(bytes.NewReader(doc)), cfg)
				want := naiveChunks(doc, cfg)
				if got := datas(chunks); !equalStrings(got, want.chunks) {
					t.Errorf("chunks: got %q, want %q", got, want.chunks)
				}
				checkChunks(t, doc, cfg, chunks, true)
			})
		}
	}
}

// failAfter returns its data, then err instead of io.EOF.
type failAfter struct {
	r   io.Reader
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

// stalled never returns data or an error.
type stalled struct{}

func (stalled) Read([]byte) (int, error) { return 0, nil }

func TestReaderReadErrors(t *testing.T) {
	errDisk := errors.New("disk on fire")
	long := strings.Repeat("line of text\n", 100)
	tests := []struct {
		name    string
		src     io.Reader
		want    error
		wantMsg string
		chunks  int
	}{
		{"ErrReader", iotest.ErrReader(errDisk), errDisk, "read document at byte offset 0: ", 0},
		{"TimeoutReader", iotest.TimeoutReader(iotest.HalfReader(strings.NewReader(long))), iotest.ErrTimeout, "read document at byte offset", 0},
		{"error after data", &failAfter{strings.NewReader("a\nb\nc"), errDisk}, errDisk, "byte offset 5: ", 2},
		{"truncated stream", &failAfter{strings.NewReader("a\nb\nc"), io.ErrUnexpectedEOF}, io.ErrUnexpectedEOF, "byte offset 5: ", 2},
		{"no progress", stalled{}, io.ErrNoProgress, "byte offset 0: ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(tt.src, Config{Size: 2, MaxLine: 1 << 10})
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := readAll(t, r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error: got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.wantMsg)
			}
			if len(chunks) != tt.chunks {
				t.Errorf("chunks before the error: got %d, want %d", len(chunks), tt.chunks)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after error: got %v, want the same error", again)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", DefaultConfig(), true},
		{"size 1", Config{Size: 1, MaxLine: 1}, true},
		{"zero size", Config{Size: 0, MaxLine: 10}, false},
		{"negative size", Config{Size: -1, MaxLine: 10}, false},
		{"MaxLine below size", Config{Size: 10, MaxLine: 9}, false},
		{"zero value", Config{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate: got %v, want ok=%v", err, tt.ok)
			}
			_, err = NewReader(strings.NewReader("x"), tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("NewReader: got %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if _, err := NewReader(nil, DefaultConfig()); err == nil {
		t.Error("NewReader(nil): got no error, want one")
	}
}

// TestReaderOwnership checks that a caller may write to and append to a chunk
// without disturbing the chunks that follow.
func TestReaderOwnership(t *testing.T) {
	doc := "aa\nbb\ncc\ndd\n"
	r, err := NewReader(strings.NewReader(doc), Config{Size: 4, MaxLine: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(c.Data))
		for i := range c.Data {
			c.Data[i] = 'X'
		}
		_ = append(c.Data, "YYYY"...)
	}
	if want := []string{"aa\n", "bb\n", "cc\n", "dd\n"}; !equalStrings(got, want) {
		t.Errorf("chunks: got %q, want %q", got, want)
	}
}

// endless produces text forever: lines of random length, some far longer than
// the chunk size.
type endless struct{ rng *rand.Rand }

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		switch e.rng.IntN(3000) {
		case 0:
			p[i] = '\n'
		default:
			p[i] = 'a' + byte(e.rng.IntN(26))
		}
	}
	return len(p), nil
}

// TestReaderMemoryBound reads far more than MaxLine and checks that the Reader
// never holds more than a chunk can need.
func TestReaderMemoryBound(t *testing.T) {
	cfg := Config{Size: 1 << 10, MaxLine: 1 << 16}
	r, err := NewReader(io.LimitReader(endless{rand.New(rand.NewPCG(1, 2))}, 4<<20), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for {
		c, err := r.Next()
		if err == io.EOF || errors.Is(err, ErrLineTooLong) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		total += int64(len(c.Data))
		if got, limit := cap(r.pend), cfg.MaxLine+1; got > limit {
			t.Fatalf("after %d bytes: buffer capacity got %d, want <= %d", total, got, limit)
		}
	}
	if total < 1<<20 {
		t.Fatalf("read %d bytes, want a long run", total)
	}
}

// BenchmarkReader cuts 64 MB of text into 1 MiB chunks.
func BenchmarkReader(b *testing.B) {
	doc := benchDoc(64 << 20)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(doc), DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := readAll(b, r); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDoc returns n bytes of word-like lines of 1 to 200 bytes.
func benchDoc(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	doc := make([]byte, 0, n)
	for len(doc) < n {
		line := rng.IntN(200)
		for range line {
			if rng.IntN(6) == 0 {
				doc = append(doc, ' ')
			} else {
				doc = append(doc, 'a'+byte(rng.IntN(26)))
			}
		}
		doc = append(doc, '\n')
	}
	return doc[:n]
}
