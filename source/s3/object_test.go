package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/s3test"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// text is n bytes that differ at every offset a read could confuse.
func text(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i/251)
	}
	return b
}

type readCase struct {
	off, n int64
}

// readCases are reads of an object of size: single bytes, reads inside,
// reads that cross the end, at the end and after it.
func readCases(size int64) []readCase {
	var cs []readCase
	for _, off := range []int64{0, 1, 2, size / 3, size / 2, size - 2, size - 1, size, size + 5} {
		for _, n := range []int64{0, 1, 2, 7, 100, size - 1, size, size + 10} {
			if off >= 0 && n >= 0 {
				cs = append(cs, readCase{off, n})
			}
		}
	}
	return cs
}

// checkReads reads every case of readCases at once, as a worker's readers
// do, and compares each with data.
func checkReads(t *testing.T, obj source.Object, data []byte) {
	t.Helper()
	size := int64(len(data))
	cases := readCases(size)
	type result struct {
		got []byte
		err error
	}
	results := make([]result, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			p := make([]byte, c.n)
			n, err := obj.ReadAt(p, c.off)
			results[i] = result{p[:n], err}
		})
	}
	wg.Wait()
	for i, c := range cases {
		end := min(c.off+c.n, size)
		var want []byte
		if c.off < size {
			want = data[c.off:end]
		}
		var wantErr error
		if c.off >= size || c.off+c.n > size {
			wantErr = io.EOF
		}
		got := results[i]
		if !bytes.Equal(got.got, want) || got.err != wantErr {
			t.Errorf("ReadAt(%d bytes, %d) of %d: got %d bytes %v, want %d bytes %v (equal: %v)",
				c.n, c.off, size, len(got.got), got.err, len(want), wantErr, bytes.Equal(got.got, want))
		}
	}
}

func TestReadAt(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	s := mustNew(t, config(srv))
	put, file := text(1000, 1), text(777, 2)
	srv.MustPut(t, "docs", "put.txt", put)
	srv.MustWriteFile(t, "docs", "dir/file.txt", file)
	srv.MustPut(t, "docs", "empty", nil)
	srv.MustWriteFile(t, "docs", "empty-file", nil)

	sum := md5.Sum(put)
	for _, tc := range []struct {
		key         string
		data        []byte
		wantVersion string // a prefix of it
	}{
		{"put.txt", put, hex.EncodeToString(sum[:])},
		{"dir/file.txt", file, "lm:"},
		{"empty", nil, "d41d8cd98f00b204e9800998ecf8427e"},
		{"empty-file", nil, "lm:"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			info := mustInfo(t, s, "s3://docs/"+tc.key)
			if !strings.HasPrefix(info.Version, tc.wantVersion) || info.Size != int64(len(tc.data)) {
				t.Fatalf("got version %q size %d, want %q… size %d", info.Version, info.Size, tc.wantVersion, len(tc.data))
			}
			obj := mustOpen(t, s, info.Ref())
			if obj.Size() != info.Size {
				t.Fatalf("got Size %d, want %d", obj.Size(), info.Size)
			}
			checkReads(t, obj, tc.data)
		})
		t.Run(tc.key+"/unversioned", func(t *testing.T) {
			// A ref with no version or size is pinned to the object at Open.
			obj := mustOpen(t, s, task.Ref{URL: "s3://docs/" + tc.key})
			if obj.Size() != int64(len(tc.data)) {
				t.Fatalf("got Size %d, want %d", obj.Size(), len(tc.data))
			}
			checkReads(t, obj, tc.data)
		})
	}
}

// wantChanged checks that a read of obj at off fails as a changed
// document, for reason.
func wantChanged(t *testing.T, obj source.Object, off int64, url, reason string) {
	t.Helper()
	n, err := obj.ReadAt(make([]byte, 10), off)
	if !errors.Is(err, source.ErrChanged) || !errors.Is(err, task.ErrInput) {
		t.Fatalf("got %d, %v, want an error that wraps ErrChanged and ErrInput", n, err)
	}
	if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), reason) {
		t.Fatalf("got error %q, want one that names %s and says %q", err, url, reason)
	}
}

func TestChanged(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	s := mustNew(t, config(srv))
	put := func(t *testing.T, key string, data []byte) { srv.MustPut(t, "docs", key, data) }
	write := func(t *testing.T, key string, data []byte) { srv.MustWriteFile(t, "docs", key, data) }

	for _, tc := range []struct {
		name   string
		create func(t *testing.T, key string, data []byte)
		change func(t *testing.T, key string)
		off    int64  // of the reads
		reason string // in the error
	}{
		{"etag/same size", put, func(t *testing.T, key string) {
			put(t, key, text(100, 9))
		}, 0, "ETag"},
		{"etag/rewritten behind its back", put, func(t *testing.T, key string) {
			write(t, key, text(100, 9))
		}, 50, "ETag"},
		{"lm/other size", write, func(t *testing.T, key string) {
			write(t, key, text(120, 1))
		}, 0, "size is 120, planned 100"},
		{"lm/shorter than the read", write, func(t *testing.T, key string) {
			write(t, key, text(10, 1))
		}, 50, "shorter"},
		{"lm/same size, later", write, func(t *testing.T, key string) {
			write(t, key, text(100, 9))
			// Last-Modified has whole seconds: a rewrite within the same
			// second is not seen.
			later := time.Now().Add(3 * time.Second)
			if err := os.Chtimes(srv.Path("docs", key), later, later); err != nil {
				t.Fatal(err)
			}
		}, 0, "modified at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.NewReplacer(" ", "-", ",", "").Replace(tc.name) + ".txt"
			url := "s3://docs/" + key
			tc.create(t, key, text(100, 1))
			obj := mustOpen(t, s, mustInfo(t, s, url).Ref())
			if _, err := obj.ReadAt(make([]byte, 10), tc.off); err != nil {
				t.Fatalf("read before the change: %v", err)
			}
			tc.change(t, key)
			wantChanged(t, obj, tc.off, url, tc.reason)
		})
	}
}

// TestStream reads objects whole in one request, with and without an
// ETag, and fails a stream of an object that changed since it was planned.
func TestStream(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "bkt")
	s := mustNew(t, config(srv))
	data := bytes.Repeat([]byte("the cat sat\n"), 10000)
	srv.MustPut(t, "bkt", "tagged.txt", data)
	srv.MustWriteFile(t, "bkt", "plain.txt", data)
	srv.MustPut(t, "bkt", "empty.txt", nil)
	for _, key := range []string{"tagged.txt", "plain.txt", "empty.txt"} {
		info := mustInfo(t, s, "s3://bkt/"+key)
		if info.Exact != (key != "plain.txt") {
			t.Errorf("%s: got Exact %t, want it for an ETag only", key, info.Exact)
		}
		obj := mustOpen(t, s, info.Ref())
		body, err := source.Stream(obj, 4096)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		body.Close()
		if want := data; key == "empty.txt" {
			want = nil
			if err != nil || len(got) != 0 {
				t.Errorf("%s: got %d bytes, %v; want none", key, len(got), err)
			}
		} else if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %d bytes, %v; want %d", key, len(got), err, len(want))
		}
	}
	info := mustInfo(t, s, "s3://bkt/tagged.txt")
	srv.MustPut(t, "bkt", "tagged.txt", bytes.ToUpper(data))
	if _, err := source.Stream(mustOpen(t, s, info.Ref()), 4096); !errors.Is(err, source.ErrChanged) {
		t.Errorf("a stream of an object put again: got %v, want ErrChanged", err)
	}
}
