package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/specialtest"
)

// specialDir makes a directory holding a.txt, the same text in a file
// whose name is not valid UTF-8, a named pipe and a unix socket.
func specialDir(t *testing.T) (dir, fifo, sock string) {
	t.Helper()
	dir = t.TempDir()
	text := []byte("the cat and the hat\nThe end\n")
	writeFile(t, dir, "a.txt", text)
	writeFile(t, dir, "b\xff.txt", text)
	fifo = specialtest.MustFIFO(t, filepath.Join(dir, "fifo"))
	sock = specialtest.MustSocket(t, filepath.Join(dir, "sock"))
	return dir, fifo, sock
}

// runBounded runs one command line in this process, failing the test
// when it blocks (on fifo).
func runBounded(t *testing.T, fifo string, args ...string) result {
	t.Helper()
	return specialtest.Within(t, 20*time.Second, []string{fifo}, func() result { return runTally(t, "", args...) })
}

// TestSpecialInputs: in embedded mode, a named pipe, socket or device given
// as an input or a targets file is refused at once, named with its kind; in
// a directory they are skipped, and a file whose name is not valid UTF-8
// counts as the same text under a plain name does, shown quoted.
func TestSpecialInputs(t *testing.T) {
	dir, fifo, sock := specialDir(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"count", "-e", "the", fifo}, fifo + ": not a regular file (named pipe)"},
		{[]string{"count", "-e", "the", sock}, sock + ": not a regular file (socket)"},
		{[]string{"count", "-e", "the", "/dev/null"}, "/dev/null: not a regular file (character device)"},
		{[]string{"top", fifo}, fifo + ": not a regular file (named pipe)"},
		{[]string{"count", "--targets-file", fifo, filepath.Join(dir, "a.txt")}, fifo + ": not a regular file (named pipe)"},
	} {
		r := runBounded(t, fifo, tc.args...)
		if r.code != 2 {
			t.Errorf("tally %q: got %v, want exit 2", tc.args, r)
		}
		checkOneLine(t, tc.args, r.stderr, tc.want)
	}
	got := runJSON(t, "count", "-e", "the", "-e", "The", dir)
	want := runJSON(t, "count", "-e", "the", "-e", "The", filepath.Join(dir, "a.txt"), filepath.Join(dir, "a.txt"))
	want.Documents[1].Name = strconv.Quote(filepath.Join(dir, "b\xff.txt"))
	if g, w := fmt.Sprint(got.answer()), fmt.Sprint(want.answer()); g != w {
		t.Errorf("got %s, want %s", g, w)
	}
	got = runJSON(t, "count", "-e", "the", "-e", "The", filepath.Join(dir, "b\xff.txt"))
	if g, w := got.Documents[0], want.Documents[1]; fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("named alone: got %+v, want %+v", g, w)
	}
}

// TestSpecialCluster: on a cluster, a server path that names a named pipe
// is refused at once; a directory with one is read by a worker that shares
// it, and a file whose name is not valid UTF-8 counts exactly, read by
// reference or uploaded.
func TestSpecialCluster(t *testing.T) {
	skipShort(t)
	dir, _, _ := specialDir(t)
	coord, addr, gossip := startCoordinator(t, "--data-dir", dir, "--metrics", "127.0.0.1:0")
	w := startWorker(t, gossip, "w1", "--shared-root", dir, "--metrics", "127.0.0.1:0")
	waitReady(t, addr, 1, 30*time.Second)

	args := countArgs("--server-path", "fifo")
	checkFails(t, startJob(t, addr, args...), args, 20*time.Second, "server path fifo: not a regular file (named pipe)")
	args = countArgs("--server-path", "sock")
	checkFails(t, startJob(t, addr, args...), args, 20*time.Second, "server path sock: not a regular file (socket)")

	a := filepath.Join(dir, "a.txt")
	want := runEmbedded(t, countArgs(a, a)...)
	want.Documents[0].Name, want.Documents[1].Name = "a.txt", strconv.Quote("b\xff.txt")
	args = countArgs("--server-path", ".")
	checkExact(t, startJob(t, addr, args...), args, want)
	if got := scrapeValue(t, coord, "tally_coordinator_streamed_bytes_total"); got != 0 {
		t.Errorf("the coordinator streamed %v bytes of the shared volume, want 0", got)
	}
	if got := scrapeValue(t, w, `tally_worker_read_bytes_total{store="file"}`); got < float64(want.Total.Bytes) {
		t.Errorf("the worker read %v bytes of the volume, want at least the %d counted", got, want.Total.Bytes)
	}

	want.Documents[0].Name, want.Documents[1].Name = a, strconv.Quote(filepath.Join(dir, "b\xff.txt"))
	args = countArgs(dir)
	checkExact(t, startJob(t, addr, args...), args, want)
}
