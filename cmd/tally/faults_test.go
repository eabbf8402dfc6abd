package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run a real coordinator and worker processes and hurt
// them on purpose (SIGKILL, SIGSTOP, SIGTERM, poison chunks, cancels), then
// check that every job either answers exactly what the embedded mode answers
// or fails with a clear one-line error.

// faultTargets are the targets of the count jobs in this file.
var faultTargets = []string{"-e", "the", "-e", "Alice", "-e", "and", "-e", "said", "-e", "\u212a", "-e", "POISON"}

// countArgs and topArgs are the job command lines over paths, without --json or --coordinator.
// countArgs and topArgs ask for statistics too: a fault must not change
// them either.
func countArgs(paths ...string) []string {
	return append(append([]string{"count", "--stats"}, faultTargets...), paths...)
}

func topArgs(paths ...string) []string {
	return append([]string{"top", "--stats", "-n", "50"}, paths...)
}

// genText writes about size bytes of deterministic text (words of the test
// texts in random lines, some with CRLF, tabs and non-ASCII) to dir/name. If
// poison is not empty, one line in the middle holds it; genText returns the
// path and the byte offset of that line (-1 without poison).
func genText(t testing.TB, dir, name string, size int, seed uint64, poison string) (string, int) {
	t.Helper()
	var vocab []string
	for _, f := range []string{"alice.txt", "zen.txt"} {
		b, err := os.ReadFile(filepath.Join(textDir, f))
		if err != nil {
			t.Fatal(err)
		}
		vocab = append(vocab, strings.Fields(string(b))...)
	}
	vocab = append(vocab, "\u212a", "\u212aelvin", "Stra\u00dfe", "\u03c3\u03c2", "caf\u00e9", "--", "the")
	r := rand.New(rand.NewPCG(seed, 7))
	buf := make([]byte, 0, size+256)
	at := -1
	for len(buf) < size {
		if poison != "" && at < 0 && len(buf) >= size/2 {
			at = len(buf)
			buf = append(buf, "this line is "+poison+" for the workers\n"...)
		}
		for i, n := 0, 1+r.IntN(14); i < n; i++ {
			if i > 0 {
				buf = append(buf, " \t"[r.IntN(8)/7])
			}
			buf = append(buf, vocab[r.IntN(len(vocab))]...)
		}
		if r.IntN(20) == 0 {
			buf = append(buf, '\r')
		}
		buf = append(buf, '\n')
	}
	return writeFile(t, dir, name, buf), at
}

// bigDocs writes the documents of a job of about size bytes: two generated
// documents of size/2 and alice.txt.
func bigDocs(t testing.TB, size int) []string {
	t.Helper()
	dir := t.TempDir()
	a, _ := genText(t, dir, "big-a.txt", size/2, 1, "")
	b, _ := genText(t, dir, "big-b.txt", size/2, 2, "")
	return []string{a, filepath.Join(textDir, "alice.txt"), b}
}

// runEmbedded runs args in embedded mode (the built binary without
// --coordinator) and returns its answer.
func runEmbedded(t testing.TB, args ...string) answer {
	t.Helper()
	out, err := exec.Command(tallyBin, append(args, "--json")...).Output()
	if err != nil {
		t.Fatalf("embedded tally %q: %v", args, err)
	}
	var o countOut
	decodeOne(t, string(out), &o)
	return o.answer()
}

// startJob starts `tally ARGS --json --coordinator addr` as its own process.
func startJob(t *testing.T, addr string, args ...string) *proc {
	t.Helper()
	return spawn(t, args[0], false, append(append([]string(nil), args...), "--json", "--coordinator", addr)...)
}

// jobTimeout bounds every job in this file.
const jobTimeout = 60 * time.Second

// checkExact waits for a job process and checks that it succeeded with want.
func checkExact(t *testing.T, p *proc, args []string, want answer) countOut {
	t.Helper()
	r := p.result(t, jobTimeout)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("tally %q on the cluster: got %v, want exit 0 and no stderr", args, r)
	}
	checkContract(t, args[0], r.stdout)
	var o countOut
	decodeOne(t, r.stdout, &o)
	if g, w := fmt.Sprint(o.answer()), fmt.Sprint(want); g != w {
		t.Errorf("tally %q on the cluster: got %s, want (embedded) %s", args, clip(g), clip(w))
	}
	return o
}

// checkFails waits for a job process and checks that it failed with exit 1
// and one line on stderr that mentions each of want.
func checkFails(t *testing.T, p *proc, args []string, timeout time.Duration, want ...string) result {
	t.Helper()
	r := p.result(t, timeout)
	if r.code != 1 {
		t.Errorf("tally %q: got %v, want exit 1", args, r)
	}
	checkOneLine(t, args, r.stderr, want...)
	return r
}

// startWorker starts a worker named name that joins gossip, with extra flags.
func startWorker(t *testing.T, gossip, name string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"worker", "--join", gossip, "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0", "--threads", "1", "--name", name}, extra...)
	p := startProc(t, name, args...)
	if m := workerLine.FindStringSubmatch(p.line); m == nil || m[1] != name {
		t.Fatalf("%s: got first line %q, want \"worker %s listening on ADDR, gossip on ADDR\"", name, p.line, name)
	}
	return p
}

// restartWorker starts a worker again with the same name and flags, on the
// same gRPC and gossip ports. (On new ports memberlist refuses the name for a
// while: see TestFaultRestartNewPorts.)
func restartWorker(t *testing.T, old *proc) *proc {
	t.Helper()
	m := workerLine.FindStringSubmatch(old.line)
	args := append([]string(nil), old.cmd.Args[1:]...)
	for i := 1; i < len(args); i++ {
		switch args[i-1] {
		case "--listen":
			args[i] = m[2]
		case "--gossip":
			args[i] = m[3]
		}
	}
	return startProc(t, old.name, args...)
}

// startFaultCluster starts a coordinator with coordFlags and workers w1..wN with workerFlags.
func startFaultCluster(t *testing.T, n int, coordFlags, workerFlags []string) (addr, gossip string, workers []*proc) {
	t.Helper()
	_, addr, gossip = startCoordinator(t, coordFlags...)
	for i := range n {
		workers = append(workers, startWorker(t, gossip, fmt.Sprintf("w%d", i+1), workerFlags...))
	}
	waitReady(t, addr, n, 30*time.Second)
	return addr, gossip, workers
}

// listedJob is a job as `tally jobs list --json` shows it.
type listedJob struct {
	ID, State, Error string
	Progress         struct {
		ChunksDone uint64 `json:"chunks_done"`
	}
}

// listJobs returns the jobs the coordinator at addr remembers, newest first.
func listJobs(t testing.TB, addr string) []listedJob {
	t.Helper()
	out := mustRun(t, "jobs", "list", "--json", "--coordinator", addr)
	var resp struct{ Jobs []listedJob }
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("jobs list --json: %v\n%s", err, out)
	}
	return resp.Jobs
}

// waitJob polls jobs list until some job satisfies ok and returns it.
func waitJob(t testing.TB, addr, what string, timeout time.Duration, ok func(listedJob) bool) listedJob {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		jobs := listJobs(t, addr)
		for _, j := range jobs {
			if ok(j) {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs list: no job %s after %v: %+v", what, timeout, jobs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitProgress waits until a running job other than those in skip has merged a chunk, and returns its id.
func waitProgress(t testing.TB, addr string, skip ...string) string {
	t.Helper()
	j := waitJob(t, addr, "running with chunks done", 20*time.Second, func(j listedJob) bool {
		for _, s := range skip {
			if j.ID == s {
				return false
			}
		}
		return j.State == "running" && j.Progress.ChunksDone > 0
	})
	return j.ID
}

// waitState waits until job id has state.
func waitState(t testing.TB, addr, id, state string) listedJob {
	t.Helper()
	return waitJob(t, addr, id+" in "+state, 10*time.Second, func(j listedJob) bool { return j.ID == id && j.State == state })
}

// skipShort skips the test under -short and runs it in parallel otherwise.
func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and hurts them")
	}
	t.Parallel()
}

// TestFaultKillAndStop kills one worker and stops another while a count job
// and a top job run: both answers stay exact.
func TestFaultKillAndStop(t *testing.T) {
	skipShort(t)
	docs := bigDocs(t, 12<<20)
	cargs, targs := countArgs(docs...), topArgs(docs...)
	wantCount, wantTop := runEmbedded(t, cargs...), runEmbedded(t, targs...)
	addr, _, ws := startFaultCluster(t, 3, nil, []string{"--throttle", "4MB"})

	killAndStop(t, addr, ws, startJob(t, addr, cargs...), startJob(t, addr, targs...), cargs, targs, wantCount, wantTop)
}

// killAndStop kills ws[0] and stops ws[1] once a count job and a top job
// are under way, and checks that both answers stay exact.
func killAndStop(t *testing.T, addr string, ws []*proc, cjob, tjob *proc, cargs, targs []string, wantCount, wantTop answer) {
	t.Helper()
	waitProgress(t, addr)
	ws[0].signal(t, syscall.SIGKILL)
	ws[1].signal(t, syscall.SIGSTOP) // the cleanup continues it before SIGTERM
	if code := ws[0].wait(t, 10*time.Second); code != -1 {
		t.Errorf("w1 after SIGKILL: got exit %d, want -1 (killed)", code)
	}
	checkExact(t, cjob, cargs, wantCount)
	checkExact(t, tjob, targs, wantTop)
}

// TestFaultPoisonCrash sends a chunk that crashes every worker that counts
// it: the job fails naming the chunk's document and offset, and once the
// workers are back, a clean job is exact.
func TestFaultPoisonCrash(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	clean, _ := genText(t, dir, "clean.txt", 1<<20, 3, "")
	poison, at := genText(t, dir, "poison.txt", 2<<20, 4, "POISON")
	// With 3 workers, a chunk fails its job on the third crash only if
	// --max-attempts is at most 3 (see TestFaultPoisonCrashDefaultAttempts).
	addr, _, ws := startFaultCluster(t, 3, []string{"--max-attempts", "3"}, []string{"--crash-on", "POISON"})

	args := append(countArgs(clean, poison), "--chunk-size", "256KiB")
	r := checkFails(t, startJob(t, addr, args...), args, jobTimeout, "poison.txt", "byte offset")
	checkOffset(t, r.stderr, at, 256<<10)
	for i, w := range ws {
		if code := w.wait(t, 10*time.Second); code != 3 {
			t.Errorf("w%d: got exit %d, want 3 (crashed on purpose)", i+1, code)
		}
		ws[i] = restartWorker(t, w)
	}
	waitReady(t, addr, 3, 30*time.Second)
	args = countArgs(clean, filepath.Join(textDir, "alice.txt"))
	checkExact(t, startJob(t, addr, args...), args, runEmbedded(t, args...))
}

// checkOffset checks that stderr names a byte offset of a chunk that holds
// the line at byte at: at most chunkSize before it, and not after it.
func checkOffset(t testing.TB, stderr string, at, chunkSize int) {
	t.Helper()
	m := regexp.MustCompile(`byte offset (\d+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Errorf("stderr %q: want \"byte offset N\"", stderr)
		return
	}
	off, _ := strconv.Atoi(m[1])
	if off > at || off+chunkSize <= at {
		t.Errorf("stderr %q: got byte offset %d, want the chunk that holds byte %d (chunk size %d)", stderr, off, at, chunkSize)
	}
}

// TestFaultPoisonCrashDefaultAttempts is the poison chunk with the default
// --max-attempts (4) on 3 workers.
func TestFaultPoisonCrashDefaultAttempts(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	poison, at := genText(t, dir, "poison.txt", 512<<10, 4, "POISON")
	addr, _, ws := startFaultCluster(t, 3, []string{"--worker-wait", "5s"}, []string{"--crash-on", "POISON"})
	args := countArgs(poison)
	start := time.Now()
	r := checkFails(t, startJob(t, addr, args...), args, jobTimeout, "poison.txt", "byte offset")
	checkOffset(t, r.stderr, at, 1<<20)
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the job failed after %v, want it to fail as soon as no worker is left (well before --worker-wait 5s)", took)
	}
	for _, w := range ws {
		if code := w.wait(t, 10*time.Second); code != 3 {
			t.Errorf("%s: got exit %d, want 3 (crashed on the poison chunk)", w.name, code)
		}
	}
}

// TestFaultRestartNewPorts restarts a crashed worker under its name on new ports.
func TestFaultRestartNewPorts(t *testing.T) {
	skipShort(t)
	addr, gossip, ws := startFaultCluster(t, 1, nil, []string{"--crash-on", "POISON"})
	poison, _ := genText(t, t.TempDir(), "poison.txt", 64<<10, 4, "POISON")
	args := countArgs(poison)
	startJob(t, addr, args...)
	if code := ws[0].wait(t, 10*time.Second); code != 3 {
		t.Fatalf("w1: got exit %d, want 3", code)
	}
	// Restarted healthy (the poison job still waits for a worker), under the
	// same name but new ports: it must be listed ready again promptly.
	restarted := time.Now()
	startWorker(t, gossip, "w1")
	waitReady(t, addr, 1, 15*time.Second)
	t.Logf("w1 ready %v after its restart on new ports", time.Since(restarted).Round(100*time.Millisecond))
}

// TestFaultPoisonError has workers answer a poison chunk with an error: the
// job fails naming the chunk, the workers stay up, and a concurrent clean
// job is exact.
func TestFaultPoisonError(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	poison, at := genText(t, dir, "poison.txt", 1<<20, 4, "POISON")
	docs := bigDocs(t, 8<<20)
	addr, _, ws := startFaultCluster(t, 3, nil, []string{"--fail-on", "POISON", "--throttle", "4MB"})

	cargs := countArgs(docs...)
	want := runEmbedded(t, cargs...)
	cjob := startJob(t, addr, cargs...)
	waitProgress(t, addr)
	pargs := append(countArgs(poison), "--chunk-size", "64KiB")
	r := checkFails(t, startJob(t, addr, pargs...), pargs, jobTimeout, "poison.txt", "byte offset", "failing on purpose")
	checkOffset(t, r.stderr, at, 64<<10)
	checkExact(t, cjob, cargs, want)
	for i, w := range ws {
		select {
		case <-w.exited:
			t.Errorf("w%d exited (%v), want it running", i+1, w.err)
		default:
		}
	}
	waitReady(t, addr, 3, 5*time.Second)
}

// TestFaultWorkerSIGTERM stops a worker gracefully mid-job: it exits 0 and
// the job is exact.
func TestFaultWorkerSIGTERM(t *testing.T) {
	skipShort(t)
	docs := bigDocs(t, 12<<20)
	args := countArgs(docs...)
	want := runEmbedded(t, args...)
	addr, _, ws := startFaultCluster(t, 3, nil, []string{"--throttle", "4MB"})
	job := startJob(t, addr, args...)
	waitProgress(t, addr)
	ws[0].signal(t, syscall.SIGTERM)
	if code := ws[0].wait(t, 15*time.Second); code != 0 {
		t.Errorf("w1 after SIGTERM: got exit %d, want 0\n%s", code, ws[0].stderr)
	}
	checkExact(t, job, args, want)
}

// TestFaultCoordinatorSIGTERM stops the coordinator mid-job: the client
// fails with one line saying so, and the coordinator exits 0 promptly.
func TestFaultCoordinatorSIGTERM(t *testing.T) {
	skipShort(t)
	docs := bigDocs(t, 12<<20)
	args := countArgs(docs...)
	coord, addr, gossip := startCoordinator(t)
	for i := range 2 {
		startWorker(t, gossip, fmt.Sprintf("w%d", i+1), "--throttle", "2MB")
	}
	waitReady(t, addr, 2, 30*time.Second)
	job := startJob(t, addr, args...)
	waitProgress(t, addr)
	coord.signal(t, syscall.SIGTERM)
	start := time.Now()
	if code := coord.wait(t, 10*time.Second); code != 0 {
		t.Errorf("coordinator after SIGTERM: got exit %d, want 0\n%s", code, coord.stderr)
	}
	r := job.result(t, 10*time.Second)
	if r.code != 1 {
		t.Errorf("tally %q after the coordinator's SIGTERM: got %v, want exit 1", args, r)
	}
	checkOneLine(t, args, r.stderr)
	if !strings.Contains(r.stderr, "shutting down") && !strings.Contains(r.stderr, "unavailable") {
		t.Errorf("tally %q: got stderr %q, want it to say the coordinator is shutting down or unavailable", args, r.stderr)
	}
	t.Logf("coordinator and client exited %v after SIGTERM: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(r.stderr))
}

// TestFaultNoWorkers runs jobs on a coordinator without workers.
func TestFaultNoWorkers(t *testing.T) {
	skipShort(t)
	zen := filepath.Join(textDir, "zen.txt")
	t.Run("none join", func(t *testing.T) {
		t.Parallel()
		_, addr, _ := startCoordinator(t, "--worker-wait", "2s")
		args := countArgs(zen)
		start := time.Now()
		checkFails(t, startJob(t, addr, args...), args, 10*time.Second, "no workers")
		if d := time.Since(start); d < 2*time.Second {
			t.Errorf("failed after %v, want after the 2s --worker-wait", d)
		}
	})
	t.Run("one joins late", func(t *testing.T) {
		t.Parallel()
		docs := bigDocs(t, 2<<20)
		args := countArgs(docs...)
		want := runEmbedded(t, args...)
		_, addr, gossip := startCoordinator(t, "--worker-wait", "60s")
		job := startJob(t, addr, args...)
		waitJob(t, addr, "running", 10*time.Second, func(j listedJob) bool { return j.State == "running" })
		time.Sleep(time.Second)
		startWorker(t, gossip, "late")
		checkExact(t, job, args, want)
	})
}

// TestFaultCancel cancels running jobs with SIGINT to the client and with
// `tally jobs cancel`.
func TestFaultCancel(t *testing.T) {
	skipShort(t)
	docs := bigDocs(t, 12<<20)
	args := countArgs(docs...)
	addr, _, _ := startFaultCluster(t, 2, nil, []string{"--throttle", "1MB"})

	job := startJob(t, addr, args...)
	first := waitProgress(t, addr)
	job.signal(t, syscall.SIGINT)
	checkFails(t, job, args, 5*time.Second, "cancel")
	waitState(t, addr, first, "canceled")

	job = startJob(t, addr, args...)
	second := waitProgress(t, addr, first)
	if out := mustRun(t, "jobs", "cancel", second, "--coordinator", addr); !strings.Contains(out, "cancelled") {
		t.Errorf("jobs cancel %s: got %q, want it to say cancelled", second, out)
	}
	checkFails(t, job, args, 5*time.Second, "cancel")
	waitState(t, addr, second, "canceled")
}

// TestFaultJoinMidJob adds a worker while a job runs on one: the newcomer
// counts chunks of it at once, and the answer is exact.
func TestFaultJoinMidJob(t *testing.T) {
	skipShort(t)
	docs := bigDocs(t, 12<<20)
	args := countArgs(docs...)
	want := runEmbedded(t, args...)
	addr, gossip, _ := startFaultCluster(t, 1, nil, []string{"--throttle", "4MB"})
	job := startJob(t, addr, args...)
	waitProgress(t, addr)
	startWorker(t, gossip, "w2", "--throttle", "4MB")
	joined := time.Now()
	for listWorkers(t, addr)["w2"].ChunksDone == 0 {
		if time.Since(joined) > 3*time.Second {
			t.Fatalf("cluster --json: w2 counted no chunk within 3s of joining mid-job: %+v", listWorkers(t, addr))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("w2 counted its first chunk %v after it started", time.Since(joined).Round(time.Millisecond))
	if o := checkExact(t, job, args, want); o.Workers != 2 {
		t.Errorf("tally %q: got workers %d, want 2", args, o.Workers)
	}
}

// TestFaultSIGTERMAll stops a whole idle cluster at once, as `docker compose
// down` does: every process must exit 0.
func TestFaultSIGTERMAll(t *testing.T) {
	skipShort(t)
	for round := range 5 {
		coord, _, gossip := startCoordinator(t)
		all := []*proc{coord}
		for i := range 3 {
			all = append(all, startWorker(t, gossip, fmt.Sprintf("r%dw%d", round, i+1)))
		}
		time.Sleep(time.Second) // let gossip settle
		for _, p := range all {
			p.signal(t, syscall.SIGTERM)
		}
		for _, p := range all {
			if code := p.wait(t, 15*time.Second); code != 0 {
				lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
				t.Errorf("round %d: %s after SIGTERM: got exit %d (%s), want 0", round, p.name, code, lines[len(lines)-1])
			}
		}
	}
}
