package coordinator

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/internal/specialtest"
	"github.com/tallyhq/tally/query"
)

// oddText is the text of the file whose name is not valid UTF-8.
var oddText = []byte("the cat the\nThe end")

// mustSpecialDataDir is mustDataDir with a named pipe, a unix socket and a
// file whose name is not valid UTF-8 in books/.
func mustSpecialDataDir(tb testing.TB) (dir string, docs []doc, fifo string) {
	tb.Helper()
	dir, docs = mustDataDir(tb)
	fifo = specialtest.MustFIFO(tb, filepath.Join(dir, "books", "fifo"))
	specialtest.MustSocket(tb, filepath.Join(dir, "books", "sock"))
	if err := os.WriteFile(filepath.Join(dir, "books", "b\xff.txt"), oddText, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir, docs, fifo
}

// TestServerPathsSpecial: a named pipe or socket named as a server path is
// refused at once, named with its kind; in a directory they are skipped and
// the other files count, one whose name is not valid UTF-8 included, shown
// quoted.
func TestServerPathsSpecial(t *testing.T) {
	dir, docs, fifo := mustSpecialDataDir(t)
	c := MustEmbedded(t, 1, 2, func(c *Config) { c.DataDir = dir })
	cl := MustClient(t, c)
	q := countQ(query.Token, false, "the", "The")
	run := func(paths ...string) (*client.Result, error) {
		type result struct {
			res *client.Result
			err error
		}
		r := specialtest.Within(t, 10*time.Second, []string{fifo}, func() result {
			res, err := cl.Run(testCtx(t, 8*time.Second), client.Job{Query: q, ChunkSize: 4, ServerPaths: paths}, nil)
			return result{res, err}
		})
		return r.res, r.err
	}
	for _, tc := range []struct{ path, kind string }{{"books/fifo", "named pipe"}, {"books/sock", "socket"}} {
		_, err := run(tc.path)
		wantCode(t, err, codes.InvalidArgument)
		if want := "server path " + tc.path + ": not a regular file (" + tc.kind + ")"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
	odd := doc{strconv.Quote("books/b\xff.txt"), oddText}
	res, err := run("books")
	if err != nil {
		t.Fatal(err)
	}
	checkExact(t, res, q, []doc{docs[0], docs[1], odd})
}

// TestUploadNotUTF8: a local file whose name is not valid UTF-8, uploaded
// by the client, counts exactly under its quoted name.
func TestUploadNotUTF8(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.txt", "b\xff.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), oddText, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	specialtest.MustFIFO(t, filepath.Join(dir, "fifo"))
	c := MustEmbedded(t, 1, 2, nil)
	cl := MustClient(t, c)
	q := countQ(query.Token, false, "the", "The")
	docs, err := client.FileDocuments([]string{dir}, nil, client.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, ChunkSize: 4, Documents: docs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkExact(t, res, q, []doc{{filepath.Join(dir, "a.txt"), oddText}, {strconv.Quote(filepath.Join(dir, "b\xff.txt")), oddText}})
}

// TestSharedVolumeNotUTF8: workers that share the data directory read a
// file whose name is not valid UTF-8 by its file:// URL, in splits.
func TestSharedVolumeNotUTF8(t *testing.T) {
	dir, docs, _ := mustSpecialDataDir(t)
	c := MustReading(t, MustVolume(t, dir), 1, []bool{true, true}, func(cfg *Config) { cfg.DataDir, cfg.MinBlock = dir, 1 })
	q := countQ(query.Token, false, "the", "The")
	in, err := c.ServerInputs([]string{"books"}, false)
	if err != nil {
		t.Fatal(err)
	}
	res := MustSubmit(t, c, Request{Query: q, BlockSize: 5, Inputs: List(in, nil)})
	checkExact(t, res, q, []doc{docs[0], docs[1], {strconv.Quote("books/b\xff.txt"), oddText}})
	if got := streamed(c); got != 0 {
		t.Errorf("the coordinator streamed %v bytes, want 0: the workers read the volume", got)
	}
}
