package file

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tallyhq/tally/internal/specialtest"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// openErr opens ref, bounded: a named pipe must be refused, not waited on.
func openErr(t *testing.T, v *Volume, ref task.Ref, fifos ...string) error {
	t.Helper()
	return specialtest.Within(t, 5*time.Second, fifos, func() error {
		obj, err := v.Open(context.Background(), ref)
		if err == nil {
			obj.Close()
		}
		return err
	})
}

// wantNotRegular fails the test unless err is an input error that names
// name and says what kind of file it is.
func wantNotRegular(t *testing.T, err error, name, kind string) {
	t.Helper()
	want := "not a regular file (" + kind + ")"
	if !errors.Is(err, task.ErrInput) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
		t.Errorf("got %v, want an input error naming %s: %s", err, name, want)
	}
}

// TestSpecialFiles: named pipes, sockets and devices are refused by Stat
// and by Open before any read, and Open does not wait on a named pipe put
// where a regular file was planned.
func TestSpecialFiles(t *testing.T) {
	v, dir := mustVolume(t)
	fifo := specialtest.MustFIFO(t, filepath.Join(dir, "fifo"))
	sock := specialtest.MustSocket(t, filepath.Join(dir, "sock"))
	for _, tc := range []struct{ path, kind string }{{fifo, "named pipe"}, {sock, "socket"}} {
		_, err := v.Stat(tc.path, filepath.Base(tc.path))
		wantNotRegular(t, err, filepath.Base(tc.path), tc.kind)
		err = openErr(t, v, task.Ref{URL: URL(tc.path)}, fifo)
		wantNotRegular(t, err, tc.path, tc.kind)
	}

	all, err := Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	_, err = all.Stat("/dev/null", "/dev/null")
	wantNotRegular(t, err, "/dev/null", "character device")
	wantNotRegular(t, openErr(t, all, task.Ref{URL: URL("/dev/null")}), "/dev/null", "character device")

	// A regular file planned, then swapped for a named pipe before a worker opens it.
	for name, vol := range map[string]*Volume{"volume": v, "whole file system": all} {
		p := filepath.Join(dir, "swapped-"+strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte("the cat\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := vol.Stat(p, "swapped")
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		specialtest.MustFIFO(t, p)
		err = openErr(t, vol, info.Ref(), p)
		wantNotRegular(t, err, p, "named pipe")
	}
}

// TestNameNotUTF8: a file whose name is not valid UTF-8 has a URL that is,
// and that opens its own bytes; errors that name it are valid UTF-8 too
// (they cross gRPC in protobuf strings).
func TestNameNotUTF8(t *testing.T) {
	v, dir := mustVolume(t)
	text := []byte("the cat\nthe end\n")
	for _, base := range []string{"b\xff.txt", "100%\xfe\x80 ?#.txt"} {
		p := filepath.Join(dir, "sub", base)
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
		info, err := v.Stat(p, "name")
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(info.URL) {
			t.Errorf("got URL %q, want valid UTF-8", info.URL)
		}
		obj, err := v.Open(context.Background(), info.Ref())
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
		obj.Close()
		if err != nil || string(got) != string(text) {
			t.Errorf("%q: got %q, %v; want %q", base, got, err, text)
		}
		// Changed since planned, then gone: errors name the file in valid UTF-8.
		later := time.Now().Add(time.Minute)
		os.Chtimes(p, later, later)
		_, err = v.Open(context.Background(), info.Ref())
		if !errors.Is(err, source.ErrChanged) || !utf8.ValidString(err.Error()) {
			t.Errorf("%q changed: got %q, want %v in valid UTF-8", base, err, source.ErrChanged)
		}
		os.Remove(p)
		_, err = v.Open(context.Background(), info.Ref())
		if !errors.Is(err, source.ErrNotFound) || !utf8.ValidString(err.Error()) {
			t.Errorf("%q gone: got %q, want %v in valid UTF-8", base, err, source.ErrNotFound)
		}
	}
}
