package file

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// mustVolume opens a volume on a new directory holding a.txt, and a
// symbolic link that leads out of it.
func mustVolume(tb testing.TB) (*Volume, string) {
	tb.Helper()
	base := tb.TempDir()
	dir := filepath.Join(base, "vol")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "a.txt"), []byte("the cat\nsat\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), []byte("secret\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dir, "escape.txt")); err != nil {
		tb.Fatal(err)
	}
	v, err := Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v, dir
}

func TestStatAndRead(t *testing.T) {
	v, dir := mustVolume(t)
	p := filepath.Join(dir, "sub", "a.txt")
	info, err := v.Stat(p, "a")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 12 || info.Name != "a" || info.URL != "file://"+p || info.Version == "" {
		t.Fatalf("got %+v, want 12 bytes named a at file://%s with a version", info, p)
	}
	obj, err := v.Open(context.Background(), info.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got := make([]byte, 5)
	if n, err := obj.ReadAt(got, 4); n != 5 || err != nil || string(got) != "cat\ns" {
		t.Fatalf("ReadAt(5, 4): got %q %d %v, want \"cat\\ns\"", got[:n], n, err)
	}
	if n, err := obj.ReadAt(got, 10); n != 2 || !errors.Is(err, io.EOF) {
		t.Fatalf("ReadAt past the end: got %d %v, want 2 and io.EOF", n, err)
	}
}

func TestChangedFile(t *testing.T) {
	v, dir := mustVolume(t)
	p := filepath.Join(dir, "sub", "a.txt")
	info, err := v.Stat(p, "a")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := v.Open(context.Background(), info.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	// Rewritten in place, same size, later modification time.
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(p, []byte("the dog\nsat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, later, later)
	if _, err := obj.ReadAt(make([]byte, 4), 0); !errors.Is(err, source.ErrChanged) || !errors.Is(err, task.ErrInput) {
		t.Fatalf("read after a rewrite: got %v, want ErrChanged (an input error)", err)
	}
	if _, err := v.Open(context.Background(), info.Ref()); !errors.Is(err, source.ErrChanged) {
		t.Fatalf("open after a rewrite: got %v, want ErrChanged", err)
	}
	unpinned := info.Ref()
	unpinned.Version = ""
	if _, err := v.Open(context.Background(), unpinned); err != nil {
		t.Fatalf("open without a version: %v", err)
	}
}

func TestRefused(t *testing.T) {
	v, dir := mustVolume(t)
	for name, tc := range map[string]struct {
		url  string
		want error
	}{
		"missing":     {"file://" + filepath.Join(dir, "none.txt"), source.ErrNotFound},
		"outside":     {"file://" + filepath.Join(filepath.Dir(dir), "secret.txt"), task.ErrInput},
		"dot-dot":     {"file://" + dir + "/sub/../../secret.txt", task.ErrInput},
		"symlink out": {"file://" + filepath.Join(dir, "escape.txt"), source.ErrDenied},
		"directory":   {"file://" + filepath.Join(dir, "sub"), task.ErrInput},
		"not a file":  {"s3://bucket/key", task.ErrInput},
		"relative":    {"file:sub/a.txt", task.ErrInput},
	} {
		t.Run(name, func(t *testing.T) {
			obj, err := v.Open(context.Background(), task.Ref{URL: tc.url, Size: 1, Length: 1})
			if err == nil {
				obj.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("open %s: got %v, want %v", tc.url, err, tc.want)
			}
		})
	}
}

// TestRootVolume: the whole file system reads any absolute path, through
// absolute symbolic links too (a confined volume refuses them).
func TestRootVolume(t *testing.T) {
	v, err := Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p, _ := filepath.Abs("file_test.go")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Dir(p), link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p, filepath.Join(link, "file_test.go")} {
		info, err := v.Stat(path, "me")
		if err != nil {
			t.Fatalf("the volume / reads %s: %v", path, err)
		}
		obj, err := v.Open(context.Background(), info.Ref())
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		obj.Close()
	}
}

// TestMapped: objects open on one version of a file share one mapping of
// it, which goes with the last Close; a rewrite is a new version, mapped
// anew, and Check reports it to the objects open on the old one.
func TestMapped(t *testing.T) {
	v, dir := mustVolume(t)
	p := filepath.Join(dir, "sub", "a.txt")
	info, err := v.Stat(p, "a")
	if err != nil {
		t.Fatal(err)
	}
	mustMap := func() (source.InPlace, []byte) {
		t.Helper()
		obj, err := v.Open(context.Background(), info.Ref())
		if err != nil {
			t.Fatal(err)
		}
		m := obj.(source.InPlace)
		doc, err := m.Mapped()
		if err != nil {
			t.Fatal(err)
		}
		return m, doc
	}
	a, docA := mustMap()
	b, docB := mustMap()
	if string(docA) != "the cat\nsat\n" || &docA[0] != &docB[0] {
		t.Fatalf("got %q at %p and %p, want one mapping of the file", docA, &docA[0], &docB[0])
	}
	a.Close()
	if string(docB) != "the cat\nsat\n" || len(v.maps.by) != 1 {
		t.Fatalf("after one Close: got %q and %d mappings, want the file still mapped once", docB, len(v.maps.by))
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(p, []byte("a dog\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, later, later)
	if err := b.Check(); !errors.Is(err, source.ErrChanged) {
		t.Fatalf("Check after a rewrite: got %v, want ErrChanged", err)
	}
	b.Close()
	if len(v.maps.by) != 0 {
		t.Fatalf("after the last Close: %d mappings left", len(v.maps.by))
	}
	info, _ = v.Stat(p, "a")
	c, docC := mustMap()
	defer c.Close()
	if string(docC) != "a dog\n" {
		t.Fatalf("the new version maps as %q", docC)
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	info, _ = v.Stat(empty, "empty")
	obj, err := v.Open(context.Background(), info.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if _, err := obj.(source.InPlace).Mapped(); err == nil {
		t.Fatal("an empty file mapped: want an error, to read it instead")
	}
}

// TestUnmap: pages dropped from the map by Unmap read the same when they
// are touched again, by this object or another sharing the mapping.
func TestUnmap(t *testing.T) {
	v, dir := mustVolume(t)
	p := filepath.Join(dir, "big.txt")
	text := []byte(strings.Repeat("the cat sat on the mat\n", 1000)) // 23,000 bytes: 5 pages and a part
	if err := os.WriteFile(p, text, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := v.Stat(p, "big")
	if err != nil {
		t.Fatal(err)
	}
	var objs []source.InPlace
	var docs [][]byte
	for range 2 {
		obj, err := v.Open(context.Background(), info.Ref())
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		doc, err := obj.(source.InPlace).Mapped()
		if err != nil {
			t.Fatal(err)
		}
		objs, docs = append(objs, obj.(source.InPlace)), append(docs, doc)
	}
	for _, r := range [][2]int64{{100, 9000}, {0, int64(len(text))}, {-5, 1 << 40}, {9000, 100}} {
		objs[0].Unmap(r[0], r[1])
		for i, doc := range docs {
			if !bytes.Equal(doc, text) {
				t.Fatalf("after Unmap(%d, %d), object %d reads other bytes", r[0], r[1], i)
			}
		}
	}
}
