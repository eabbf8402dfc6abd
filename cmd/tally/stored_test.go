package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tallyhq/tally/internal/s3test"
)

// The tests in this file read stored documents, from a shared volume and
// from a real S3 server (versitygw, started by internal/s3test), in
// embedded mode and on clusters of real processes, and check them against
// the oracle and against the embedded mode.

// s3Env is the environment that lets a process read srv.
func s3Env(srv *s3test.Server) []string {
	return []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_ENDPOINT_URL=" + srv.Endpoint, "AWS_REGION=us-east-1", "TALLY_S3_PATH_STYLE=true"}
}

// runEnv runs the tally binary with env added and returns what it did.
func runEnv(t testing.TB, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(tallyBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tally %q: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// runEnvJSON runs a count or top command line with env and --json, which
// must succeed, and returns its checked output.
func runEnvJSON(t testing.TB, env []string, args ...string) countOut {
	t.Helper()
	args = append(args, "--json", "--stats")
	r := runEnv(t, env, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("tally %q: %v; want exit 0 and no stderr", args, r)
	}
	checkContract(t, args[0], r.stdout)
	var o countOut
	decodeOne(t, r.stdout, &o)
	return o
}

// compressed returns data compressed with gzip or zstd.
func compressed(t testing.TB, format string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	if format == "gzip" {
		w = gzip.NewWriter(&b)
	} else {
		zw, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// goldenBucket serves the golden inputs from a bucket "golden": under
// plain/, alternately put through the S3 API (with an ETag) and written
// behind the server's back (without one); under gz/ and zst/, a few
// compressed. It returns them with their URLs.
func goldenBucket(t *testing.T) (*s3test.Server, []*golden, map[*golden]string) {
	t.Helper()
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "golden")
	var gs []*golden
	urls := map[*golden]string{}
	for i, name := range goldenNames(t) {
		g := loadGolden(t, name)
		if g.Repeat != 1 {
			continue
		}
		data, err := os.ReadFile(g.path)
		if err != nil {
			t.Fatal(err)
		}
		key := "plain/" + name + ".txt"
		if i%2 == 0 {
			srv.MustPut(t, "golden", key, data)
		} else {
			srv.MustWriteFile(t, "golden", key, data)
		}
		if name == "alice" || name == "gen-crlf" || name == "gen-empty" {
			srv.MustPut(t, "golden", "gz/"+name+".txt.gz", compressed(t, "gzip", data))
			srv.MustWriteFile(t, "golden", "zst/"+name+".txt.zst", compressed(t, "zstd", data))
		}
		gs = append(gs, g)
		urls[g] = "s3://golden/" + key
	}
	return srv, gs, urls
}

// s3BlockSizes are the split sizes the S3 tests take turns with: from 1
// byte to more than any document.
var s3BlockSizes = []int{1, 7, 100, 4096, 64 << 10, 64 << 20}

// splitsFew reports whether a document of size bytes in blocks of block
// bytes makes few enough splits for a test: each split is a request.
func splitsFew(block int, size int64) bool {
	return size/int64(block) < 1000
}

// TestS3Golden runs every golden query over the golden inputs read from S3
// in embedded mode, with splits of every size in turn, and checks each
// document against the oracle; then every top table, and compressed objects.
func TestS3Golden(t *testing.T) {
	t.Parallel()
	srv, gs, urls := goldenBucket(t)
	env := s3Env(srv)
	queries := gs[0].Counts
	for qi, q := range queries {
		block := s3BlockSizes[qi%len(s3BlockSizes)]
		var docs []*golden
		var args []string
		for _, g := range gs {
			if !splitsFew(block, g.Stats.Bytes) || g.Stats.Bytes >= 1<<20 && qi%5 != 0 {
				continue
			}
			docs, args = append(docs, g), append(args, urls[g])
		}
		o := runEnvJSON(t, env, append(append(queryArgs(q), "--block-size", strconv.Itoa(block)), args...)...)
		if len(o.Documents) != len(docs) {
			t.Fatalf("%v: got %d documents, want %d", q, len(o.Documents), len(docs))
		}
		for i, g := range docs {
			if o.Documents[i].Name != urls[g] {
				t.Errorf("%v: document %d: got name %q, want %q", q, i, o.Documents[i].Name, urls[g])
			}
			checkDoc(t, fmt.Sprintf("%v in blocks of %d", q, block), o.Documents[i], g, &g.Counts[qi])
		}
		checkTotal(t, o)
		if t.Failed() {
			t.FailNow()
		}
	}
	for i, g := range gs {
		for j, top := range g.Top {
			block := s3BlockSizes[(i+j)%len(s3BlockSizes)]
			if !splitsFew(block, g.Stats.Bytes) {
				block = 64 << 10
			}
			args := append(tableArgs(top), "--block-size", strconv.Itoa(block), urls[g])
			o := runEnvJSON(t, env, args...)
			checkDoc(t, strings.Join(args, " "), o.Total, g, nil)
			checkTop(t, strings.Join(args, " "), o.Top, topWant(top))
		}
	}
	// Compressed objects are read whole, decompressed: the same answers.
	byName := map[string]*golden{}
	for _, g := range gs {
		byName[g.Input] = g
	}
	for _, prefix := range []string{"s3://golden/gz/", "s3://golden/zst/"} {
		q := gs[0].Counts[0]
		o := runEnvJSON(t, env, append(queryArgs(q), "--block-size", "4096", prefix)...)
		var names []string
		for _, d := range o.Documents {
			names = append(names, d.Name)
			base := strings.TrimSuffix(strings.TrimSuffix(path.Base(d.Name), ".gz"), ".zst")
			g := byName[strings.TrimSuffix(base, ".txt")]
			if g == nil {
				t.Fatalf("%s: unexpected document %s", prefix, d.Name)
			}
			checkDoc(t, prefix, d, g, &g.Counts[0])
		}
		if len(names) != 3 || !sort.StringsAreSorted(names) {
			t.Errorf("%s: got documents %q, want the 3 objects in key order", prefix, names)
		}
	}
}

// TestS3Errors: a missing bucket or object, wrong credentials and no
// credentials at all each end the command with one clear line.
func TestS3Errors(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "books")
	srv.MustPut(t, "books", "a.txt", []byte("the cat\n"))
	env := s3Env(srv)
	wrong := append(append([]string(nil), env...), "AWS_SECRET_ACCESS_KEY=wrong-secret")
	for _, tc := range []struct {
		name string
		env  []string
		url  string
		code int
		want []string
	}{
		{"missing bucket", env, "s3://nope/a.txt", 1, []string{"s3://nope/a.txt", "bucket nope does not exist"}},
		{"missing object", env, "s3://books/none.txt", 1, []string{"s3://books/none.txt", "not found"}},
		{"empty prefix", env, "s3://books/none/", 1, []string{"s3://books/none/", "not found"}},
		{"wrong secret", wrong, "s3://books/a.txt", 1, []string{"s3://books/a.txt", "access denied"}},
		{"no credentials", []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, "s3://books/a.txt", 2, []string{"AWS_ACCESS_KEY_ID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"count", "-e", "the", tc.url}
			r := runEnv(t, tc.env, args...)
			if r.code != tc.code || r.stdout != "" {
				t.Errorf("got %v, want exit %d and nothing on stdout", r, tc.code)
			}
			checkOneLine(t, args, r.stderr, tc.want...)
		})
	}
}

// metricsLine finds the address a server serves its metrics on, in its logs.
var metricsLine = regexp.MustCompile(`addr=http://(\S+)/metrics`)

// scrapeValue reads one series of the metrics p serves.
func scrapeValue(t testing.TB, p *proc, series string) float64 {
	t.Helper()
	m := metricsLine.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("%s: no metrics address in its logs", p.name)
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("%s: no series %s", p.name, series)
	return 0
}

// startS3Cluster starts a coordinator and n workers that read srv, with
// metrics on every one, workers throttled to slow.
func startS3Cluster(t *testing.T, srv *s3test.Server, n int, slow string, coordFlags ...string) (coord *proc, addr string, ws []*proc) {
	t.Helper()
	env := s3Env(srv)
	coord = startProcEnv(t, "coordinator", env, append([]string{"coordinator", "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0", "--metrics", "127.0.0.1:0"}, coordFlags...)...)
	m := coordinatorLine.FindStringSubmatch(coord.line)
	if m == nil {
		t.Fatalf("coordinator: got first line %q", coord.line)
	}
	addr = m[1]
	for i := range n {
		name := fmt.Sprintf("w%d", i+1)
		ws = append(ws, startProcEnv(t, name, env, "worker", "--join", m[2], "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0",
			"--threads", "1", "--name", name, "--metrics", "127.0.0.1:0", "--throttle", slow))
	}
	waitReady(t, addr, n, 30*time.Second)
	return coord, addr, ws
}

// s3Corpus puts generated documents and alice.txt in a bucket "corpus"
// under books/ (and one outside it), and returns their local paths. The
// first, big-a.txt, is written behind the server's back: it has no ETag.
func s3Corpus(t *testing.T, srv *s3test.Server, size int) []string {
	t.Helper()
	srv.MustBucket(t, "corpus")
	docs := bigDocs(t, size)
	for i, p := range docs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			srv.MustWriteFile(t, "corpus", "books/"+path.Base(p), data)
		} else {
			srv.MustPut(t, "corpus", "books/"+path.Base(p), data)
		}
	}
	srv.MustPut(t, "corpus", "other.txt", []byte("the other\n"))
	return docs
}

// TestS3Cluster runs jobs over a prefix of a bucket on a coordinator and 3
// workers that read it themselves: the answers equal the embedded mode's,
// the coordinator carries none of the text, and a worker killed and
// another stopped mid-job change nothing.
func TestS3Cluster(t *testing.T) {
	skipShort(t)
	srv := s3test.Start(t, t.TempDir())
	s3Corpus(t, srv, 12<<20)
	env := s3Env(srv)
	coord, addr, ws := startS3Cluster(t, srv, 3, "8MB", "--block-size", "1MiB")
	for _, w := range listWorkers(t, addr) {
		if !w.S3 || w.SharedRoot != "" {
			t.Errorf("tally cluster lists %s as reading shared root %q and S3 %t, want S3 only", w.Name, w.SharedRoot, w.S3)
		}
	}
	cargs := countArgs("s3://corpus/books/")
	targs := topArgs("s3://corpus/books/")
	wantCount, wantTop := runEnvJSON(t, env, cargs...).answer(), runEnvJSON(t, env, targs...).answer()

	o := checkExact(t, startJob(t, addr, cargs...), cargs, wantCount)
	if len(o.Documents) != 3 || o.Documents[0].Name != "s3://corpus/books/alice.txt" || o.Documents[2].Name != "s3://corpus/books/big-b.txt" {
		t.Errorf("got documents %+v, want the 3 objects under books/ in key order", o.Documents)
	}
	if got := scrapeValue(t, coord, "tally_coordinator_streamed_bytes_total"); got != 0 {
		t.Errorf("the coordinator streamed %v bytes of a job read by reference, want 0", got)
	}
	read := 0.0
	for _, w := range ws {
		read += scrapeValue(t, w, `tally_worker_read_bytes_total{store="s3"}`)
	}
	if read < float64(o.Total.Bytes) {
		t.Errorf("the workers read %v bytes from S3, want at least the %d counted", read, o.Total.Bytes)
	}

	// Faults: one worker killed, another stopped, while two jobs run.
	killAndStop(t, addr, ws, startJob(t, addr, cargs...), startJob(t, addr, targs...), cargs, targs, wantCount, wantTop)
}

// TestS3Overwritten: an object overwritten while a job reads it never
// gives a mixed count. One with an ETag, read in splits, fails the job with
// an error that names it; one without, read whole in one request, answers
// for one version or the other.
func TestS3Overwritten(t *testing.T) {
	skipShort(t)
	srv := s3test.Start(t, t.TempDir())
	docs := s3Corpus(t, srv, 4<<20)
	_, addr, _ := startS3Cluster(t, srv, 2, "512KB", "--block-size", "128KiB")
	rewrite := func(i int) []byte {
		data, err := os.ReadFile(docs[i])
		if err != nil {
			t.Fatal(err)
		}
		return bytes.ReplaceAll(data, []byte("the"), []byte("THE"))
	}

	args := countArgs("s3://corpus/books/big-b.txt")
	job := startJob(t, addr, args...)
	waitProgress(t, addr)
	srv.MustPut(t, "corpus", "books/big-b.txt", rewrite(2))
	checkFails(t, job, args, jobTimeout, "s3://corpus/books/big-b.txt", "changed since the job was planned")

	newer := rewrite(0)
	before := runEmbedded(t, countArgs(docs[0])...).Total
	after := runEmbedded(t, countArgs(writeFile(t, t.TempDir(), "big-a.txt", newer))...).Total
	args = countArgs("s3://corpus/books/big-a.txt")
	job = startJob(t, addr, args...)
	waitJob(t, addr, "running", 20*time.Second, func(j listedJob) bool { return j.State == "running" })
	srv.MustWriteFile(t, "corpus", "books/big-a.txt", newer)
	r := job.result(t, jobTimeout)
	if r.code == 0 {
		var o countOut
		decodeOne(t, r.stdout, &o)
		if g := fmt.Sprint(o.Total); g != fmt.Sprint(before) && g != fmt.Sprint(after) {
			t.Errorf("an object without an ETag rewritten mid-job: got %s, want the answer for one version: %v or %v", g, before, after)
		}
	} else {
		checkOneLine(t, args, r.stderr, "s3://corpus/books/big-a.txt", "changed")
	}
}

// TestS3ClusterErrors: a cluster whose coordinator cannot list a bucket, or
// has no S3 at all, fails the job at once with a clear line.
func TestS3ClusterErrors(t *testing.T) {
	skipShort(t)
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "books")
	_, addr, _ := startS3Cluster(t, srv, 1, "1GB")
	_, bare, _ := startCoordinator(t)
	for _, tc := range []struct {
		name, addr, url string
		want            []string
	}{
		{"missing bucket", addr, "s3://nope/", []string{"s3://nope/", "bucket nope does not exist"}},
		{"no S3 on the coordinator", bare, "s3://books/a.txt", []string{"s3://books/a.txt", "no store"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"count", "-e", "the", tc.url}
			r := startJob(t, tc.addr, args...).result(t, jobTimeout)
			if r.code != 1 {
				t.Errorf("got %v, want exit 1", r)
			}
			checkOneLine(t, args, r.stderr, tc.want...)
		})
	}
}

// TestSharedVolumeCluster: workers that mount the coordinator's data
// directory under the same path read --server-path documents themselves
// (the coordinator streams nothing), while a worker without it waits; the
// answers equal the embedded mode's.
func TestSharedVolumeCluster(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	genText(t, dir, "a.txt", 3<<20, 5, "")
	genText(t, filepath.Join(dir, "sub"), "b.txt", 2<<20, 6, "")
	coord, addr, gossip := startCoordinator(t, "--data-dir", dir, "--metrics", "127.0.0.1:0", "--block-size", "256KiB")
	var ws []*proc
	for i, shared := range []bool{true, true, false} {
		args := []string{"--metrics", "127.0.0.1:0"}
		if shared {
			args = append(args, "--shared-root", dir)
		}
		ws = append(ws, startWorker(t, gossip, fmt.Sprintf("w%d", i+1), args...))
	}
	waitReady(t, addr, 3, 30*time.Second)
	for name, w := range listWorkers(t, addr) {
		if want := map[string]string{"w1": dir, "w2": dir, "w3": ""}[name]; w.SharedRoot != want {
			t.Errorf("tally cluster lists %s with shared root %q, want %q", name, w.SharedRoot, want)
		}
	}
	args := countArgs("--server-path", ".")
	want := runEmbedded(t, countArgs(filepath.Join(dir, "a.txt"), filepath.Join(dir, "sub", "b.txt"))...)
	want.Documents[0].Name, want.Documents[1].Name = "a.txt", "sub/b.txt" // as found under the data directory
	checkExact(t, startJob(t, addr, args...), args, want)
	if got := scrapeValue(t, coord, "tally_coordinator_streamed_bytes_total"); got != 0 {
		t.Errorf("the coordinator streamed %v bytes of a shared volume, want 0", got)
	}
	read := scrapeValue(t, ws[0], `tally_worker_read_bytes_total{store="file"}`) + scrapeValue(t, ws[1], `tally_worker_read_bytes_total{store="file"}`)
	if read < float64(want.Total.Bytes) {
		t.Errorf("the workers read %v bytes of the volume, want at least the %d counted", read, want.Total.Bytes)
	}
	if got := scrapeValue(t, ws[2], `tally_worker_bytes_total`); got != 0 {
		t.Errorf("the worker without the volume counted %v bytes, want 0 while the others read it", got)
	}
}
