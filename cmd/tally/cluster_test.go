package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// firstLineWriter keeps what a process writes and hands its first line to
// first. exec's copying goroutine calls Write; Wait waits for that goroutine.
type firstLineWriter struct {
	mu    sync.Mutex // guards buf and sent
	buf   bytes.Buffer
	sent  bool
	first chan string
}

func (w *firstLineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if line, _, ok := strings.Cut(w.buf.String(), "\n"); ok && !w.sent {
		w.sent = true
		w.first <- line
	}
	return len(p), nil
}

func (w *firstLineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// lockedBuffer is a bytes.Buffer safe for exec's copying goroutine and the test.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a tally process started by a test.
type proc struct {
	name   string
	cmd    *exec.Cmd
	line   string // the first line on stdout (servers only)
	stdout *firstLineWriter
	stderr *lockedBuffer
	exited chan struct{} // closed when the process has exited; err is then set
	err    error

	mu     sync.Mutex // guards reaped
	reaped bool       // the test looked at the exit itself (wait), so cleanup does not judge it
}

// spawn starts the tally binary with args. On cleanup a server (a process
// that should still be running) gets SIGCONT and SIGTERM and must exit 0
// within 15 s, else it is killed; a server that exited earlier without the
// test calling wait must have exited 0. Any other process is killed. The
// process's output is logged if the test failed.
func spawn(t *testing.T, name string, server bool, args ...string) *proc {
	t.Helper()
	return spawnEnv(t, name, server, nil, args...)
}

// spawnEnv is spawn with env added to the process's environment.
func spawnEnv(t *testing.T, name string, server bool, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(tallyBin, args...), stdout: &firstLineWriter{first: make(chan string, 1)}, stderr: new(lockedBuffer), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			p.mu.Lock()
			reaped := p.reaped
			p.mu.Unlock()
			if server && !reaped && p.err != nil {
				t.Errorf("%s exited early: got %v, want exit 0", name, p.err)
			}
		default:
			if !server {
				p.cmd.Process.Kill()
				<-p.exited
				break
			}
			p.cmd.Process.Signal(syscall.SIGCONT) // in case the test stopped it
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
				if p.err != nil {
					t.Errorf("%s after SIGTERM: got %v, want exit 0", name, p.err)
				}
			case <-time.After(15 * time.Second):
				p.cmd.Process.Kill()
				<-p.exited
				t.Errorf("%s: still running 15s after SIGTERM, killed", name)
			}
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr:\n%s", name, clip(p.stdout.String()), name, p.stderr)
		}
	})
	return p
}

// startProc starts a server process and waits for the first line it prints on stdout.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, name, nil, args...)
}

// startProcEnv is startProc with env added to the process's environment.
func startProcEnv(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := spawnEnv(t, name, true, env, args...)
	select {
	case p.line = <-p.stdout.first:
		return p
	case <-p.exited:
		p.setReaped()
		t.Fatalf("%s exited before it was ready: %v\nstderr:\n%s", name, p.err, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no first line on stdout after 30s\nstderr:\n%s", name, p.stderr)
	}
	return nil
}

// mustStart starts the tally binary with args and returns the first line it
// prints on stdout. On cleanup it sends SIGTERM, expects exit 0 within a few
// seconds (else kills the process) and logs the process's stderr if the test failed.
func mustStart(t *testing.T, name string, args ...string) string {
	t.Helper()
	return startProc(t, name, args...).line
}

func (p *proc) setReaped() {
	p.mu.Lock()
	p.reaped = true
	p.mu.Unlock()
}

// signal sends sig to the process.
func (p *proc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: send %v: %v", p.name, sig, err)
	}
}

// wait waits up to timeout for the process to exit and returns its exit code
// (-1 when a signal ended it). The cleanup then leaves the exit alone.
func (p *proc) wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("%s: still running after %v", p.name, timeout)
	}
	p.setReaped()
	return p.cmd.ProcessState.ExitCode()
}

// result waits up to timeout for a client process and returns what it did.
func (p *proc) result(t testing.TB, timeout time.Duration) result {
	t.Helper()
	code := p.wait(t, timeout)
	return result{code: code, stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// coordinatorLine and workerLine match the first lines of the servers.
var (
	coordinatorLine = regexp.MustCompile(`^coordinator listening on (\S+), gossip on (\S+)$`)
	workerLine      = regexp.MustCompile(`^worker (\S+) listening on (\S+), gossip on (\S+)$`)
)

// startCoordinator starts a coordinator on 127.0.0.1 with extra flags and
// returns it with its gRPC and gossip addresses.
func startCoordinator(t *testing.T, extra ...string) (p *proc, addr, gossip string) {
	t.Helper()
	p = startProc(t, "coordinator", append([]string{"coordinator", "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0"}, extra...)...)
	m := coordinatorLine.FindStringSubmatch(p.line)
	if m == nil {
		t.Fatalf("coordinator: got first line %q, want \"coordinator listening on ADDR, gossip on ADDR\"", p.line)
	}
	return p, m[1], m[2]
}

// clusterWorker is one worker as `tally cluster --json` lists it.
type clusterWorker struct {
	Name, Address, State string
	SharedRoot           string `json:"shared_root"`
	S3                   bool
	ChunksDone           uint64 `json:"chunks_done"`
}

// listWorkers returns the workers the coordinator at addr lists, by name;
// nil if the command failed.
func listWorkers(t testing.TB, addr string) map[string]clusterWorker {
	t.Helper()
	r := runTally(t, "", "cluster", "--json", "--coordinator", addr)
	if r.code != 0 {
		return nil
	}
	var resp struct{ Workers []clusterWorker }
	if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil {
		t.Fatalf("cluster --json: %v\n%s", err, r.stdout)
	}
	out := map[string]clusterWorker{}
	for _, w := range resp.Workers {
		out[w.Name] = w
	}
	return out
}

// waitReady polls the coordinator at addr until it lists n ready workers, or
// fails the test after timeout.
func waitReady(t testing.TB, addr string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ws := listWorkers(t, addr)
		ready := 0
		for _, w := range ws {
			if w.State == "ready" {
				ready++
			}
		}
		if ready == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster --json: got %d ready workers after %v, want %d (%v)", ready, timeout, n, ws)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startCluster starts a coordinator and n workers on 127.0.0.1 and waits until
// the coordinator lists n ready workers. It returns the coordinator's gRPC address.
func startCluster(t *testing.T, n int) string {
	t.Helper()
	_, addr, gossip := startCoordinator(t)
	for i := range n {
		name := fmt.Sprintf("worker%d", i+1)
		if line := mustStart(t, name, "worker", "--join", gossip, "--threads", "1"); !strings.HasPrefix(line, "worker ") {
			t.Fatalf("%s: got first line %q, want \"worker NAME listening on ...\"", name, line)
		}
	}
	waitReady(t, addr, n, 30*time.Second)
	return addr
}

// TestCluster runs jobs on a real coordinator and three worker processes and
// compares them with the embedded mode.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	addr := startCluster(t, 3)

	var jobs []string
	queries := [][]string{
		{"count", "-e", "the", "-e", "Alice", "-e", "is", "-e", "--", "-e", "\u212a", "-e", "\u00e9"},
		{"count", "--mode", "word", "-i", "-e", "the", "-e", "alice", "-e", "the end", "-e", "\u03c3"},
		{"count", "--mode", "substring", "-e", "the", "-e", "aa", "-e", "of the", "-e", "\r"},
		{"top", "-n", "0"},
		{"top", "-n", "0", "--words-only", "--lower"},
	}
	for _, q := range queries {
		for _, size := range []string{"", "4096"} {
			args := append(append([]string(nil), q...), textDir)
			if size != "" {
				args = append(args, "--chunk-size", size)
			}
			want := runJSON(t, args...)
			got := runJSON(t, append(args, "--coordinator", addr)...)
			if g, w := fmt.Sprint(got.answer()), fmt.Sprint(want.answer()); g != w {
				t.Errorf("%q on the cluster: got %s, want (embedded) %s", args, clip(g), clip(w))
			}
			if got.Workers < 1 || got.Workers > 3 {
				t.Errorf("%q on the cluster: got workers %d, want 1..3", args, got.Workers)
			}
			jobs = append(jobs, got.Job)
		}
	}

	// Small chunks spread over the workers.
	alice := filepath.Join(textDir, "alice.txt")
	o := runJSON(t, "count", "-e", "the", "--chunk-size", "4096", "--coordinator", addr, alice)
	if o.Workers < 2 {
		t.Errorf("count --chunk-size 4096 alice.txt: got workers %d, want >= 2", o.Workers)
	}
	jobs = append(jobs, o.Job)

	// The binary as a client, with the coordinator from the environment.
	cmd := exec.Command(tallyBin, "count", "-e", "the", alice, "--json", "--stats")
	cmd.Env = append(os.Environ(), "TALLY_COORDINATOR="+addr)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TALLY_COORDINATOR=%s tally count: %v", addr, err)
	}
	checkContract(t, "count", string(out))
	var viaEnv countOut
	decodeOne(t, string(out), &viaEnv)
	if g, w := fmt.Sprint(viaEnv.answer()), fmt.Sprint(o.answer()); g != w {
		t.Errorf("TALLY_COORDINATOR: got %s, want %s", g, w)
	}
	jobs = append(jobs, viaEnv.Job)

	checkJobs(t, addr, jobs)
}

// checkJobs checks that jobs list and jobs show know every job as succeeded.
func checkJobs(t *testing.T, addr string, jobs []string) {
	t.Helper()
	list := mustRun(t, "jobs", "list", "--coordinator", addr)
	rows := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	for _, id := range jobs {
		if f, ok := rows[id]; !ok || f[1] != "succeeded" {
			t.Errorf("jobs list: job %s: got row %q, want a succeeded row\n%s", id, f, list)
		}
	}
	var listed struct{ Jobs []struct{ ID, State string } }
	if err := json.Unmarshal([]byte(mustRun(t, "jobs", "list", "--json", "--coordinator", addr)), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.Jobs) != len(jobs) {
		t.Errorf("jobs list --json: got %d jobs, want %d", len(listed.Jobs), len(jobs))
	}
	for _, id := range []string{jobs[0], jobs[len(jobs)-1]} {
		var job struct {
			ID, State string
			Result    struct {
				Total struct{ Stats struct{ Bytes int64 } }
			}
		}
		out := mustRun(t, "jobs", "show", id, "--coordinator", addr)
		if err := json.Unmarshal([]byte(out), &job); err != nil {
			t.Fatalf("jobs show %s: %v\n%s", id, err, out)
		}
		if job.ID != id || job.State != "succeeded" {
			t.Errorf("jobs show %s: got id %q, state %q; want %s, succeeded", id, job.ID, job.State, id)
		}
		if job.Result.Total.Stats.Bytes == 0 {
			t.Errorf("jobs show %s: got no result total\n%s", id, out)
		}
	}
	r := runTally(t, "", "jobs", "show", "nosuchjob", "--coordinator", addr)
	if r.code != 1 {
		t.Errorf("jobs show nosuchjob: got %v, want exit 1", r)
	}
	checkOneLine(t, []string{"jobs", "show", "nosuchjob"}, r.stderr, "nosuchjob")
}
