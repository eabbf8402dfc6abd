package client

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func mustWrite(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func compress(tb testing.TB, data []byte, zst bool) []byte {
	tb.Helper()
	var b bytes.Buffer
	var w io.WriteCloser = gzip.NewWriter(&b)
	if zst {
		zw, err := zstd.NewWriter(&b)
		if err != nil {
			tb.Fatal(err)
		}
		w = zw
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func readDoc(tb testing.TB, d Document) ([]byte, error) {
	tb.Helper()
	r, err := d.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func TestFileDocuments(t *testing.T) {
	dir := t.TempDir()
	text := []byte("the cat\nand the hat\n")
	mustWrite(t, filepath.Join(dir, "b.txt"), text)
	mustWrite(t, filepath.Join(dir, "a.txt.gz"), compress(t, text, false))
	mustWrite(t, filepath.Join(dir, "c.zst"), compress(t, text, true))
	mustWrite(t, filepath.Join(dir, "no-extension"), compress(t, text, false))
	mustWrite(t, filepath.Join(dir, "sub", "d.txt"), text)
	mustWrite(t, filepath.Join(dir, ".hidden", "e.txt"), text)
	mustWrite(t, filepath.Join(dir, ".f.txt"), text)

	names := func(docs []Document) string {
		var out []string
		for _, d := range docs {
			out = append(out, strings.TrimPrefix(filepath.ToSlash(d.Name), filepath.ToSlash(dir)+"/"))
		}
		return strings.Join(out, " ")
	}
	t.Run("directory in lexical order, hidden skipped", func(t *testing.T) {
		docs, err := FileDocuments([]string{dir}, nil, FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(docs), "a.txt.gz b.txt c.zst no-extension sub/d.txt"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		for _, d := range docs {
			got, err := readDoc(t, d)
			if err != nil || !bytes.Equal(got, text) {
				t.Errorf("%s: got %q, %v; want the plain text", d.Name, got, err)
			}
		}
	})
	t.Run("hidden when asked", func(t *testing.T) {
		docs, err := FileDocuments([]string{dir}, nil, FileOptions{Hidden: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(docs), ".f.txt .hidden/e.txt a.txt.gz b.txt c.zst no-extension sub/d.txt"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("glob the shell did not expand", func(t *testing.T) {
		docs, err := FileDocuments([]string{filepath.Join(dir, "*.txt*")}, nil, FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(docs), "a.txt.gz b.txt"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("same file twice is two documents", func(t *testing.T) {
		p := filepath.Join(dir, "b.txt")
		docs, err := FileDocuments([]string{p, p}, nil, FileOptions{})
		if err != nil || len(docs) != 2 {
			t.Errorf("got %d documents, %v; want 2", len(docs), err)
		}
	})
	t.Run("compressed stdin", func(t *testing.T) {
		docs, err := FileDocuments([]string{"-"}, bytes.NewReader(compress(t, text, true)), FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readDoc(t, docs[0]); err != nil || !bytes.Equal(got, text) {
			t.Errorf("got %q, %v; want the plain text", got, err)
		}
	})
	t.Run("compressed size is unknown", func(t *testing.T) {
		docs, _ := FileDocuments([]string{filepath.Join(dir, "a.txt.gz"), filepath.Join(dir, "b.txt")}, nil, FileOptions{})
		if docs[0].Size != 0 || docs[1].Size != int64(len(text)) {
			t.Errorf("got sizes %d and %d, want 0 and %d", docs[0].Size, docs[1].Size, len(text))
		}
	})
	for name, path := range map[string]string{"missing": "none.txt", "glob with no match": "*.none"} {
		t.Run(name, func(t *testing.T) {
			_, err := FileDocuments([]string{filepath.Join(dir, path)}, nil, FileOptions{})
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want an error naming %s", err, path)
			}
		})
	}
	t.Run("corrupt gzip names the file", func(t *testing.T) {
		gz := compress(t, bytes.Repeat(text, 1000), false)
		p := filepath.Join(t.TempDir(), "bad.gz")
		mustWrite(t, p, gz[:len(gz)/2])
		docs, err := FileDocuments([]string{p}, nil, FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readDoc(t, docs[0]); err == nil || !strings.Contains(err.Error(), "gzip") {
			t.Errorf("got %v, want a gzip error", err)
		}
	})
}
