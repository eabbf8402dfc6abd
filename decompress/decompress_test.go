package decompress

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var text = []byte(strings.Repeat("the quick brown fox\r\njumps over\u00a0the lazy dog \xff\n", 5000))

func gzipped(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func zstded(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func readAll(tb testing.TB, data []byte) ([]byte, Format, error) {
	tb.Helper()
	r, f, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, f, err
	}
	defer r.Close()
	out, err := io.ReadAll(r)
	return out, f, err
}

func TestNewReader(t *testing.T) {
	twoMembers := append(gzipped(t, text[:100]), gzipped(t, text[100:])...)
	tests := []struct {
		name string
		data []byte
		want Format
	}{
		{"plain", text, None},
		{"empty", nil, None},
		{"one byte", []byte{0x1f}, None},
		{"gzip", gzipped(t, text), Gzip},
		{"gzip of nothing", gzipped(t, nil), Gzip},
		{"gzip, two members", twoMembers, Gzip},
		{"zstd", zstded(t, text), Zstd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f, err := readAll(t, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if f != tt.want {
				t.Errorf("got format %q, want %q", f, tt.want)
			}
			want := tt.data
			if tt.want != None {
				want = text
				if tt.name == "gzip of nothing" {
					want = nil
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func TestCorruptArchivesFail(t *testing.T) {
	gz, zs := gzipped(t, text), zstded(t, text)
	flip := func(b []byte, at int) []byte {
		c := append([]byte(nil), b...)
		c[at] ^= 0xff
		return c
	}
	tests := map[string][]byte{
		"gzip truncated":   gz[:len(gz)/2],
		"gzip bad body":    flip(gz, len(gz)/2),
		"gzip bad trailer": flip(gz, len(gz)-3),
		"zstd truncated":   zs[:len(zs)/2],
		"zstd bad body":    flip(zs, len(zs)/2),
		"gzip header only": gz[:10],
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			got, _, err := readAll(t, data)
			if err == nil {
				t.Fatalf("got %d bytes and no error, want an error", len(got))
			}
			if errors.Is(err, io.EOF) {
				t.Errorf("got bare EOF %v, want an error that names the corruption", err)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

// failingReader returns some bytes, then its error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestSourceErrorsPassThrough: an error reading the compressed data (a
// store that failed) is returned as it is, not as a corrupt archive.
func TestSourceErrorsPassThrough(t *testing.T) {
	gz, zs := gzipped(t, text), zstded(t, text)
	broken := errors.New("connection reset")
	for name, data := range map[string][]byte{"gzip": gz[:len(gz)/2], "zstd": zs[:len(zs)/2], "gzip header": gz[:5]} {
		t.Run(name, func(t *testing.T) {
			var err error
			r, _, err := NewReader(&failingReader{data: data, err: broken})
			if err == nil {
				_, err = io.ReadAll(r)
			}
			if !errors.Is(err, broken) || errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want the source's error and not ErrCorrupt", err)
			}
		})
	}
}

// closeCounter is a stream that counts its Close calls.
type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// TestOpenClosesTheStream: the text Open returns closes the stream under
// it, and a stream whose text cannot be opened is closed at once.
func TestOpenClosesTheStream(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("a b a\n"))
	w.Close()
	r := &closeCounter{Reader: bytes.NewReader(gz.Bytes())}
	text, err := Open(r)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(text); err != nil || string(b) != "a b a\n" {
		t.Fatalf("got %q, %v; want the text", b, err)
	}
	text.Close()
	if r.closed != 1 {
		t.Errorf("closing the text closed the stream %d times, want 1", r.closed)
	}
	bad := &closeCounter{Reader: bytes.NewReader([]byte{0x1f, 0x8b, 0x08, 0xff})}
	if _, err := Open(bad); err == nil || bad.closed != 1 {
		t.Errorf("a corrupt header: got %v and %d closes, want an error and 1", err, bad.closed)
	}
}
