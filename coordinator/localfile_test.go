package coordinator

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"tally/client"
	"tally/count"
)

// localDocs writes ds to files under dir (every third one gzip-compressed)
// and returns them as client documents: uploaded and named by local path in
// turn, so a job mixes both in document order.
func localDocs(tb testing.TB, dir string, ds []doc) []client.Document {
	tb.Helper()
	out := clientDocs(ds)
	for i, d := range ds {
		if i%2 == 1 {
			continue // uploaded
		}
		data := d.data
		if i%3 == 0 {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(d.data)
			zw.Close()
			data = b.Bytes()
		}
		path := filepath.Join(dir, fmt.Sprintf("%02d.txt", i))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			tb.Fatal(err)
		}
		out[i].Path = path
		out[i].Open = nil // it must be read by path, never opened here
	}
	return out
}

// TestLocalFiles runs jobs whose documents the coordinator reads itself by
// local path, mixed with uploaded ones, several at once, with small chunks
// and a small window so that chunk buffers are recycled all the time: every
// answer must equal one pass over each document.
func TestLocalFiles(t *testing.T) {
	c := MustEmbedded(t, 2, 2, func(cfg *Config) {
		cfg.LocalFiles = true
		cfg.ChunkSize = 4096
		cfg.Window = 4
		cfg.Logger = nil
	})
	cl, err := client.Dial(c.Addr(), client.WithLocalFiles())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ds := largeDocs(t)
	docs := localDocs(t, t.TempDir(), ds)
	var wg sync.WaitGroup
	for qname, q := range exactQueries() {
		for run := range 2 {
			wg.Go(func() {
				res, err := cl.Run(testCtx(t, time.Minute), client.Job{Query: q, Documents: docs}, nil)
				if err != nil {
					t.Errorf("%s run %d: %v", qname, run, err)
					return
				}
				if d := diffResult(res, reference(t, q, ds)); d != "" {
					t.Errorf("%s run %d differs from one pass over each document:\n%s", qname, run, d)
				}
			})
		}
	}
	wg.Wait()
	if c.buffers.Len() == 0 {
		t.Error("no chunk buffer came back to the pool")
	}
}

// TestLocalFilesRefused: a coordinator that does not share the client's
// files refuses documents named by local path, and a missing file fails the
// job naming it; both as invalid input.
func TestLocalFilesRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.txt")
	os.WriteFile(path, []byte("the cat\n"), 0o644)
	q := countQ(count.Token, false, "the")
	for _, tc := range []struct {
		name       string
		localFiles bool
		path, want string
	}{
		{"not embedded", false, path, "does not read its clients' local paths"},
		{"missing file", true, path + ".missing", "cannot read missing.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := MustEmbedded(t, 1, 1, func(cfg *Config) { cfg.LocalFiles = tc.localFiles })
			cl, err := client.Dial(c.Addr(), client.WithLocalFiles())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			docs := []client.Document{{Name: "missing.txt", Path: tc.path}}
			_, err = cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, Documents: docs}, nil)
			wantCode(t, err, codes.InvalidArgument)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestLocalBlocks: plain local files are read by the workers in blocks, the
// rest (compressed, empty, not regular) as a stream; a line longer than
// MaxLine in a block fails the job at once as invalid input.
func TestLocalBlocks(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("the cat\n"))
	zw.Close()
	for _, tc := range []struct {
		path   string
		blocks bool
	}{
		{write("plain.txt", []byte("the cat\n")), true},
		{write("plain.gz", gz.Bytes()), false},
		{write("empty.txt", nil), false},
		{dir, false},
	} {
		f, err := os.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if _, blocks := plainFile(f); blocks != tc.blocks {
			t.Errorf("%s: read in blocks %t, want %t", tc.path, blocks, tc.blocks)
		}
		f.Close()
	}

	long := write("long.txt", []byte("short line\n"+strings.Repeat("x", 5000)+"\nthe end\n"))
	c := MustEmbedded(t, 1, 2, func(cfg *Config) {
		cfg.LocalFiles = true
		cfg.ChunkSize, cfg.MaxLine = 1024, 2048
	})
	cl, err := client.Dial(c.Addr(), client.WithLocalFiles())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	q := countQ(count.Substring, false, "x ") // a space: no cut at whitespace
	_, err = cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, Documents: []client.Document{{Name: "long.txt", Path: long}}}, nil)
	wantCode(t, err, codes.InvalidArgument)
	if err == nil || !strings.Contains(err.Error(), "long.txt") || !strings.Contains(err.Error(), "longer than 2048 bytes") {
		t.Errorf("got error %v, want one naming long.txt and its too long line", err)
	}
}
