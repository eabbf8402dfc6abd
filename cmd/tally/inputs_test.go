package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// TestCompressedInputs: a .gz or .zst file (recognised by its bytes, not its
// name) gives the plain file's answer, uploaded or read by the coordinator as
// a server path; a corrupt archive is an error that names the file.
func TestCompressedInputs(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join(textDir, "alice.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	writeFile(t, dir, "alice.txt", plain)
	writeFile(t, dir, "alice.txt.gz", gz.Bytes())
	writeFile(t, dir, "alice.zst", zs.Bytes())
	writeFile(t, dir, "no-extension", gz.Bytes())
	writeFile(t, dir, "bad.gz", gz.Bytes()[:gz.Len()/2])

	want := runJSON(t, "count", "-e", "the", "-e", "Alice", filepath.Join(dir, "alice.txt"))
	for _, name := range []string{"alice.txt.gz", "alice.zst", "no-extension"} {
		got := runJSON(t, "count", "-e", "the", "-e", "Alice", filepath.Join(dir, name))
		if got.Total.Counts["the"] != want.Total.Counts["the"] || got.Total.Counts["Alice"] != want.Total.Counts["Alice"] ||
			got.Total.Bytes != want.Total.Bytes || got.Total.Tokens != want.Total.Tokens {
			t.Errorf("%s: got %+v, want the plain file's %+v", name, got.Total, want.Total)
		}
	}
	// Server side: embedded mode's data directory is the working directory.
	cmd := exec.Command(tallyBin, "count", "--json", "-e", "the", "--server-path", "alice.zst", "--server-path", "alice.txt.gz")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("server paths: %v", err)
	}
	if !strings.Contains(string(out), `"the":`+itoa(2*want.Total.Counts["the"])) {
		t.Errorf("server paths: got %s, want a total of %d", out, 2*want.Total.Counts["the"])
	}
	r := runTally(t, "", "count", "-e", "the", filepath.Join(dir, "bad.gz"))
	if r.code != 1 || !strings.Contains(r.stderr, "bad.gz") || !strings.Contains(r.stderr, "gzip") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("corrupt gzip: got %v, want exit 1 and one line naming bad.gz", r)
	}
}

// TestSymlinkedPath: in embedded mode a file behind an absolute symbolic
// link (a data disk linked into a home directory) is read like any other.
func TestSymlinkedPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "real/a.txt", []byte("the cat\nthe end\n"))
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join(dir, "real"), link); err != nil {
		t.Fatal(err)
	}
	o := runJSON(t, "count", "-e", "the", filepath.Join(link, "a.txt"))
	if got := o.Total.Counts["the"]; got != 2 {
		t.Errorf("through an absolute symbolic link: got %d, want 2", got)
	}
}
