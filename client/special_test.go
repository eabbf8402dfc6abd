package client

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/specialtest"
)

// fileDocs runs FileDocuments, bounded: a named pipe must be refused, not
// waited on.
func fileDocs(t *testing.T, paths []string, fifos ...string) ([]Document, error) {
	t.Helper()
	type result struct {
		docs []Document
		err  error
	}
	r := specialtest.Within(t, 5*time.Second, fifos, func() result {
		docs, err := FileDocuments(paths, nil, FileOptions{})
		return result{docs, err}
	})
	return r.docs, r.err
}

// TestFileDocumentsSpecial: a named pipe, socket or device named on the
// command line is refused with an error that names it and its kind; in a
// directory they are skipped, as rg skips them, and the other files count.
func TestFileDocumentsSpecial(t *testing.T) {
	dir := t.TempDir()
	text := []byte("the cat\nand the hat\n")
	mustWrite(t, filepath.Join(dir, "a.txt"), text)
	fifo := specialtest.MustFIFO(t, filepath.Join(dir, "fifo"))
	sock := specialtest.MustSocket(t, filepath.Join(dir, "sock"))
	for _, tc := range []struct{ path, kind string }{
		{fifo, "named pipe"}, {sock, "socket"}, {"/dev/null", "character device"},
	} {
		_, err := fileDocs(t, []string{tc.path}, fifo)
		if want := tc.path + ": not a regular file (" + tc.kind + ")"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error with %q", err, want)
		}
	}
	docs, err := fileDocs(t, []string{dir}, fifo)
	if err != nil || len(docs) != 1 || docs[0].Name != filepath.Join(dir, "a.txt") {
		t.Fatalf("got %d documents (%v), want a.txt alone", len(docs), err)
	}
	// Listed, then swapped for a named pipe before it is read.
	os.Remove(filepath.Join(dir, "a.txt"))
	specialtest.MustFIFO(t, filepath.Join(dir, "a.txt"))
	err = specialtest.Within(t, 5*time.Second, []string{filepath.Join(dir, "a.txt")}, func() error {
		_, err := readDoc(t, docs[0])
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("got %v, want a named pipe refused", err)
	}
}

// TestFileDocumentsNotUTF8: a file whose name is not valid UTF-8 is a
// document named in Go's quoted form, read from its real path.
func TestFileDocumentsNotUTF8(t *testing.T) {
	dir := t.TempDir()
	text := []byte("the cat\nand the hat\n")
	odd := filepath.Join(dir, "b\xff.txt")
	mustWrite(t, odd, text)
	mustWrite(t, filepath.Join(dir, "a.txt"), text)
	for _, paths := range [][]string{{odd}, {dir}} {
		docs, err := fileDocs(t, paths)
		if err != nil {
			t.Fatal(err)
		}
		d := docs[len(docs)-1]
		if want := strconv.Quote(odd); d.Name != want || d.Path != odd {
			t.Errorf("got name %q, path %q; want name %q, path %q", d.Name, d.Path, want, odd)
		}
		if got, err := readDoc(t, d); err != nil || !bytes.Equal(got, text) {
			t.Errorf("got %q, %v; want %q", got, err, text)
		}
	}
	_, err := fileDocs(t, []string{filepath.Join(dir, "c\xfe.txt")})
	if err == nil || !strings.Contains(err.Error(), `c\xfe.txt`) {
		t.Errorf("got %v, want an error naming c\\xfe.txt", err)
	}
}
