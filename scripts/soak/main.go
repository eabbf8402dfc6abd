// Command soak runs a tally cluster under chaos for a while and checks that
// no job ever answers wrongly or hangs: it starts a coordinator and workers
// on 127.0.0.1, runs a fixed set of jobs continuously from two client loops,
// and meanwhile kills, stops, terminates and restarts workers at random.
// Every answer is compared with the embedded mode's, computed once at the start.
//
//	go run ./scripts/soak -duration 60s -bin bin/tally [-seed 1] [-versitygw bin/versitygw]
//
// With -versitygw it also serves the generated text from a real S3 server
// and runs jobs over s3:// URLs, which the workers read themselves. With
// -hostile (the default) the cluster has a gossip key and strangers try to
// take part: a node without the key keeps joining, and a forger takes each
// killed worker's port; a task that reaches either fails the soak.
//
// It prints its figures and a last line "soak: N passed, M failed", where a
// job passes when it is exact or fails cleanly (exit 1, one line on stderr)
// and fails when it answers wrongly, hangs or fails in any other way. It exits
// 1 when M > 0. Every process it starts is stopped before it exits, also on
// SIGINT or SIGTERM.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	duration, jobTimeout time.Duration
	bin, testdata, dir   string
	versitygw            string
	seed                 uint64
	workers, genMB       int
	keep, verbose        bool
	hostile              bool
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", time.Minute, "how long to run jobs under chaos")
	flag.StringVar(&cfg.bin, "bin", "bin/tally", "the tally binary")
	flag.StringVar(&cfg.versitygw, "versitygw", "", "a versitygw binary: also run jobs over s3:// documents it serves (default: none)")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of every random choice (data, jobs, chaos)")
	flag.IntVar(&cfg.workers, "workers", 4, "how many workers")
	flag.IntVar(&cfg.genMB, "gen-mb", 6, "MB of generated text the jobs count, besides -testdata")
	flag.DurationVar(&cfg.jobTimeout, "job-timeout", 2*time.Minute, "a job without an answer after this long is hung")
	flag.StringVar(&cfg.testdata, "testdata", "testdata/text", "directory of texts the jobs count besides the generated one")
	flag.StringVar(&cfg.dir, "dir", "", "work directory for data and logs (default: a new temporary directory)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work directory (it is always kept when a job fails)")
	flag.BoolVar(&cfg.verbose, "v", false, "print every chaos action and failed job as it happens")
	flag.BoolVar(&cfg.hostile, "hostile", true, "run the cluster with a gossip key and let strangers try to join it and take dead workers' ports")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	code, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
	}
	stop()
	os.Exit(code)
}

// run sets up the data and the cluster, soaks it, prints the figures and
// returns the exit code. It stops every process it started before it returns.
func run(ctx context.Context, cfg config) (code int, err error) {
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return 2, err
	}
	cfg.bin = bin
	if cfg.dir == "" {
		if cfg.dir, err = os.MkdirTemp("", "tally-soak-"); err != nil {
			return 2, err
		}
	}
	s := &soak{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.seed, 0)), reasons: map[string]int{}}
	if s.chaosLog, err = os.Create(filepath.Join(cfg.dir, "chaos.log")); err != nil {
		return 2, err
	}
	if cfg.hostile {
		if s.hostile, err = newHostile(cfg.dir); err != nil {
			return 2, err
		}
	}
	defer func() {
		if s.hostile != nil {
			s.hostile.close()
		}
		s.shutdown(false) // a no-op unless run returns early
		s.s3.stop()
		s.chaosLog.Close()
		if code == 0 && !cfg.keep {
			os.RemoveAll(cfg.dir)
		} else if code != 1 {
			fmt.Printf("soak: logs and data kept in %s\n", cfg.dir)
		}
	}()
	fmt.Printf("soak: seed %d, duration %v, %d workers, work dir %s\n", cfg.seed, cfg.duration, cfg.workers, cfg.dir)
	if err := s.prepare(ctx); err != nil {
		return 2, err
	}
	if err := s.startCluster(ctx); err != nil {
		return 2, err
	}
	s.loop(ctx)
	if ctx.Err() != nil {
		return 130, errors.New("interrupted")
	}
	s.heal(ctx)
	s.shutdown(true)
	failed := s.failed()
	if failed > 0 || cfg.keep {
		fmt.Printf("soak: logs and data kept in %s\n", cfg.dir)
	}
	s.report()
	if failed > 0 {
		return 1, nil
	}
	return 0, nil
}

// jobSpec is one job of the fixed set, with its embedded-mode answer.
type jobSpec struct {
	args []string // without --json and --coordinator
	want string   // canonical answer
}

// outcome is how one job ended.
type outcome int

const (
	exact outcome = iota
	failedCleanly
	wrong
	hung
	unclean // any other failure: exit code not 0 or 1, or stderr not one line
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"exact", "failed-cleanly", "wrong", "hung", "unclean"}

// soak is the state of one soak run.
type soak struct {
	cfg      config
	rnd      *rand.Rand // chaos choices; the client loops have their own
	jobs     []jobSpec
	chaosLog *os.File
	clients  sync.WaitGroup

	coord        *server
	addr, gossip string
	s3           *s3Server // nil without -versitygw
	workers      []*server // fixed slots w1..wN; a restart replaces the slot's server
	hostile      *hostile  // nil without -hostile

	mu          sync.Mutex // guards everything below
	counts      [numOutcomes]int
	reasons     map[string]int // failed-cleanly and unclean errors, normalised
	latencies   []time.Duration
	kills       int
	stops       int
	terms       int
	restarts    int
	badExits    []string // workers that exited on their own or not 0 after SIGTERM
	recovered   int
	recoverBad  []string
	coordLost   bool
	firstFailed string
}

// logf writes one line to chaos.log, and to stdout with -v.
func (s *soak) logf(format string, args ...any) {
	line := fmt.Sprintf("%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaosLog.WriteString(line)
	if s.cfg.verbose {
		fmt.Print(line)
	}
}

// prepare generates the data and computes every job's answer in embedded mode.
func (s *soak) prepare(ctx context.Context) error {
	var paths []string
	for i := range 2 {
		p := filepath.Join(s.cfg.dir, fmt.Sprintf("gen-%d.txt", i+1))
		if err := os.WriteFile(p, genText(s.cfg.genMB<<19, s.cfg.seed+uint64(i)), 0o644); err != nil {
			return err
		}
		paths = append(paths, p)
	}
	if _, err := os.Stat(s.cfg.testdata); err != nil {
		return fmt.Errorf("testdata: %w (run from the repository root or set -testdata)", err)
	}
	paths = append(paths, s.cfg.testdata)
	var s3sets [][]string
	if s.cfg.versitygw != "" {
		var err error
		if s.s3, err = startS3(ctx, s.cfg.versitygw, s.cfg.dir); err != nil {
			return err
		}
		for i, p := range paths[:2] {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := s.s3.put(ctx, filepath.Base(p), data, i == 0); err != nil {
				return fmt.Errorf("put %s: %w", p, err)
			}
		}
		s3sets = [][]string{
			{"count", "-e", "the", "-e", "Alice", "-e", "\u212a", "-e", "caf\u00e9", "--block-size", "256KiB", "s3://soak/"},
			{"top", "-n", "50", "--lower", "--block-size", "512KiB", "s3://soak/"},
		}
	}
	sets := [][]string{
		{"count", "-e", "the", "-e", "Alice", "-e", "and", "-e", "\u212a", "-e", "--", "-e", "caf\u00e9", "--chunk-size", "256KiB"},
		{"count", "--mode", "word", "-i", "-e", "the", "-e", "alice", "-e", "the end", "-e", "\u03c3", "--chunk-size", "128KiB"},
		{"count", "--mode", "substring", "-e", "the", "-e", "aa", "-e", "of the", "-e", "\r", "--chunk-size", "192KiB"},
		{"top", "-n", "50", "--chunk-size", "256KiB"},
		{"top", "-n", "50", "--words-only", "--lower", "--chunk-size", "512KiB"},
	}
	for i := range sets {
		sets[i] = append(sets[i], paths...)
	}
	sets = append(sets, s3sets...)
	start := time.Now()
	for _, args := range sets {
		r := runClient(ctx, s.cfg.bin, append(slices.Clone(args), "--json"), s.cfg.jobTimeout)
		if r.code != 0 {
			return fmt.Errorf("embedded tally %q: exit %d: %s", args, r.code, r.stderr)
		}
		want, err := canonical(r.stdout)
		if err != nil {
			return fmt.Errorf("embedded tally %q: %w", args, err)
		}
		s.jobs = append(s.jobs, jobSpec{args: args, want: want})
	}
	fmt.Printf("soak: %d jobs over %d MB of generated text and %s (%d of them over S3), answers computed in embedded mode in %v\n",
		len(s.jobs), s.cfg.genMB, s.cfg.testdata, len(s3sets), time.Since(start).Round(time.Millisecond))
	return nil
}

// genText returns about size bytes of random lines of words, some non-ASCII,
// with CRLF and tabs here and there.
func genText(size int, seed uint64) []byte {
	words := strings.Fields("the The THE a and of to Alice alice said caf\u00e9 CAF\u00c9 \u212a \u212aelvin " +
		"Stra\u00dfe \u03c3 \u03a3 \u03c2 -- end aa aaa of-the the_end rabbit Rabbit hat queen \u00e9t\u00e9 na\u00efve x y z")
	r := rand.New(rand.NewPCG(seed, 1))
	buf := make([]byte, 0, size+128)
	for len(buf) < size {
		for i, n := 0, 1+r.IntN(12); i < n; i++ {
			if i > 0 {
				buf = append(buf, " \t"[r.IntN(8)/7])
			}
			if r.IntN(4) == 0 {
				buf = fmt.Appendf(buf, "w%d", r.IntN(5000))
			} else {
				buf = append(buf, words[r.IntN(len(words))]...)
			}
		}
		if r.IntN(16) == 0 {
			buf = append(buf, '\r')
		}
		buf = append(buf, '\n')
	}
	return buf
}

// canonical returns the parts of a job's JSON output that must not depend on
// how it was computed (documents, total, top) in a canonical form.
func canonical(stdout string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	var o struct{ Documents, Total, Top any }
	if err := dec.Decode(&o); err != nil {
		return "", fmt.Errorf("output is not JSON: %w", err)
	}
	b, err := json.Marshal(o) // maps marshal with sorted keys
	return string(b), err
}

// clientResult is what one client command did.
type clientResult struct {
	code           int
	stdout, stderr string
	timedOut       bool
	took           time.Duration
}

// runClient runs the binary with args, killing it after timeout.
func runClient(ctx context.Context, bin string, args []string, timeout time.Duration) clientResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := clientResult{code: -1, stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
	} else {
		r.stderr += err.Error()
	}
	r.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	return r
}

// server is a coordinator or worker process.
type server struct {
	name       string
	args       []string
	cmd        *exec.Cmd
	line       string // first line of stdout
	grpc       string
	gossipAddr string
	exited     chan struct{} // closed when the process exited; err is then set
	err        error

	// The chaos loop alone reads and writes these.
	stopped  bool
	contAt   time.Time
	expected bool // soak killed or terminated it, so it may exit
	termed   bool
	noted    bool // its exit has been looked at
}

// firstLine is an io.Writer that appends to a log file and hands the first line on.
type firstLine struct {
	mu   sync.Mutex // guards buf and sent
	w    io.Writer
	buf  []byte
	sent bool
	ch   chan string
}

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.sent {
		f.buf = append(f.buf, p...)
		if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
			f.sent = true
			f.ch <- string(f.buf[:i])
		}
	}
	return f.w.Write(p)
}

var (
	coordinatorLine = regexp.MustCompile(`^coordinator listening on (\S+), gossip on (\S+)$`)
	workerLine      = regexp.MustCompile(`^worker (\S+) listening on (\S+), gossip on (\S+)$`)
)

// start starts a server process, logging to DIR/NAME.log, and waits for its first line.
func (s *soak) start(name string, args []string) (*server, error) {
	logf, err := os.OpenFile(filepath.Join(s.cfg.dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "=== %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	sv := &server{name: name, args: args, cmd: exec.Command(s.cfg.bin, args...), exited: make(chan struct{})}
	first := &firstLine{w: logf, ch: make(chan string, 1)}
	sv.cmd.Stdout, sv.cmd.Stderr = first, logf
	if err := sv.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		sv.err = sv.cmd.Wait()
		logf.Close()
		close(sv.exited)
	}()
	select {
	case sv.line = <-first.ch:
	case <-sv.exited:
		return nil, fmt.Errorf("%s exited before it was ready: %v (see %s.log)", name, sv.err, name)
	case <-time.After(30 * time.Second):
		sv.cmd.Process.Kill()
		<-sv.exited
		return nil, fmt.Errorf("%s printed no first line within 30s (see %s.log)", name, name)
	}
	if m := coordinatorLine.FindStringSubmatch(sv.line); m != nil {
		sv.grpc, sv.gossipAddr = m[1], m[2]
	} else if m := workerLine.FindStringSubmatch(sv.line); m != nil {
		sv.grpc, sv.gossipAddr = m[2], m[3]
	} else {
		sv.cmd.Process.Kill()
		<-sv.exited
		return nil, fmt.Errorf("%s: unexpected first line %q", name, sv.line)
	}
	return sv, nil
}

// throttles slow some workers down, so that jobs last long enough to meet the chaos.
var throttles = []string{"12MB", "6MB", "4MB", "3MB"}

// startCluster starts the coordinator and the workers and waits until all are ready.
func (s *soak) startCluster(ctx context.Context) error {
	var key []string
	if s.hostile != nil {
		key = []string{"--gossip-key-file", s.hostile.keyFile}
	}
	c, err := s.start("coordinator", append([]string{"coordinator", "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0"}, key...))
	if err != nil {
		return err
	}
	s.coord, s.addr, s.gossip = c, c.grpc, c.gossipAddr
	for i := range s.cfg.workers {
		name := fmt.Sprintf("w%d", i+1)
		args := append([]string{"worker", "--join", s.gossip, "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0", "--threads", "1", "--name", name}, key...)
		if t := throttles[i%len(throttles)]; t != "" {
			args = append(args, "--throttle", t)
		}
		w, err := s.start(name, args)
		if err != nil {
			return err
		}
		s.workers = append(s.workers, w)
	}
	if err := s.waitReady(ctx, len(s.workers), 30*time.Second); err != nil {
		return err
	}
	if s.hostile != nil {
		if err := s.hostile.join(s.gossip); err != nil {
			return fmt.Errorf("start the stranger: %w", err)
		}
	}
	fmt.Printf("soak: coordinator %s, workers %s\n", s.addr, strings.Join(throttleNames(s.cfg.workers), ", "))
	return nil
}

func throttleNames(n int) []string {
	var out []string
	for i := range n {
		t := throttles[i%len(throttles)]
		if t == "" {
			t = "full speed"
		} else {
			t += "/s"
		}
		out = append(out, fmt.Sprintf("w%d (%s)", i+1, t))
	}
	return out
}

// waitReady polls `tally cluster --json` until it lists n ready workers.
func (s *soak) waitReady(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		r := runClient(ctx, s.cfg.bin, []string{"cluster", "--json", "--coordinator", s.addr}, 10*time.Second)
		ready := 0
		var resp struct {
			Workers []struct{ Name, State string }
		}
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &resp) == nil {
			for _, w := range resp.Workers {
				if w.State == "ready" {
					ready++
				}
			}
		}
		if ready >= n {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("cluster: %d ready workers after %v, want %d: %s%s", ready, timeout, n, r.stdout, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loop runs the client loops and the chaos loop for the duration.
func (s *soak) loop(ctx context.Context) {
	start := time.Now()
	end := start.Add(s.cfg.duration)
	for i := range 2 {
		s.clients.Add(1)
		go func() {
			defer s.clients.Done()
			s.clientLoop(ctx, end, rand.New(rand.NewPCG(s.cfg.seed, uint64(i+1))))
		}()
	}
	s.chaos(ctx, end)
	s.clients.Wait()
	fmt.Printf("soak: ran %v (jobs started until %v, the last ones finished after it)\n", time.Since(start).Round(time.Millisecond), s.cfg.duration)
}

// clientLoop runs random jobs of the set until end.
func (s *soak) clientLoop(ctx context.Context, end time.Time, r *rand.Rand) {
	for time.Now().Before(end) && ctx.Err() == nil {
		j := s.jobs[r.IntN(len(s.jobs))]
		res := runClient(ctx, s.cfg.bin, append(slices.Clone(j.args), "--json", "--coordinator", s.addr), s.cfg.jobTimeout)
		if ctx.Err() != nil {
			return // interrupted: not a result
		}
		s.record(j, res)
	}
}

// classify says how a job ended, and why when it failed.
func classify(j jobSpec, r clientResult) (outcome, string) {
	switch {
	case r.timedOut:
		return hung, fmt.Sprintf("no answer after %v (killed)", r.took.Round(time.Second))
	case r.code == 0:
		got, err := canonical(r.stdout)
		if err != nil {
			return wrong, err.Error()
		}
		if got != j.want {
			return wrong, "answer differs from embedded mode's"
		}
		return exact, ""
	case r.code == 1 && strings.Count(r.stderr, "\n") == 1 && strings.HasSuffix(r.stderr, "\n") && strings.HasPrefix(r.stderr, "tally "):
		return failedCleanly, strings.TrimSpace(r.stderr)
	}
	return unclean, fmt.Sprintf("exit %d, stderr %q", r.code, r.stderr)
}

// noise matches the parts of an error message that differ between jobs.
var noise = regexp.MustCompile(`\b[0-9a-f]{12}\b|\d+(\.\d+)?(ms|s)?\b|127\.0\.0\.1:\d+`)

// record counts a job's outcome; a failure's output is saved in the work dir.
func (s *soak) record(j jobSpec, r clientResult) {
	o, why := classify(j, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[o]++
	s.latencies = append(s.latencies, r.took)
	if o == failedCleanly || o == unclean {
		s.reasons[noise.ReplaceAllString(why, "N")]++
	}
	if o == wrong || o == hung || o == unclean {
		n := s.counts[wrong] + s.counts[hung] + s.counts[unclean]
		name := filepath.Join(s.cfg.dir, fmt.Sprintf("failed-%d.txt", n))
		os.WriteFile(name, fmt.Appendf(nil, "%s: %s\nargs: %q\nexit %d after %v\nstdout:\n%s\nstderr:\n%s\nwant:\n%s\n",
			outcomeNames[o], why, j.args, r.code, r.took, r.stdout, r.stderr, j.want), 0o644)
		if s.firstFailed == "" {
			s.firstFailed = name
		}
		fmt.Printf("soak: job %s: %s (%s)\n", outcomeNames[o], why, name)
	} else if s.cfg.verbose && o == failedCleanly {
		fmt.Printf("soak: job failed cleanly: %s\n", why)
	}
}

// chaos hurts workers at random until end: every 0.5-2 s it kills, stops,
// terminates or restarts one, and it continues stopped ones 2-8 s after it
// stopped them. It takes the last running worker only now and then.
func (s *soak) chaos(ctx context.Context, end time.Time) {
	next := time.Now().Add(s.pause())
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return
		case <-s.coord.exited:
			s.mu.Lock()
			s.coordLost = true
			s.mu.Unlock()
			fmt.Printf("soak: the coordinator exited: %v (see coordinator.log)\n", s.coord.err)
			return
		case <-tick.C:
		}
		s.reap()
		for _, w := range s.workers {
			if w.stopped && !time.Now().Before(w.contAt) && s.alive(w) {
				w.cmd.Process.Signal(syscall.SIGCONT)
				w.stopped = false
				s.logf("SIGCONT %s", w.name)
			}
		}
		if time.Now().Before(next) {
			continue
		}
		next = time.Now().Add(s.pause())
		s.act()
	}
}

// pause is the time until the next chaos action.
func (s *soak) pause() time.Duration {
	return 500*time.Millisecond + time.Duration(s.rnd.Int64N(int64(1500*time.Millisecond)))
}

// alive reports whether w's process is still running.
func (s *soak) alive(w *server) bool {
	select {
	case <-w.exited:
		return false
	default:
		return true
	}
}

// reap notes workers that exited without soak killing them, or not with 0 after SIGTERM.
func (s *soak) reap() {
	for _, w := range s.workers {
		if s.alive(w) || w.noted {
			continue
		}
		w.noted = true
		var bad string
		switch {
		case !w.expected:
			bad = fmt.Sprintf("%s exited on its own: %v", w.name, w.err)
		case w.termed && w.err != nil:
			bad = fmt.Sprintf("%s after SIGTERM: %v, want exit 0", w.name, w.err)
		}
		if bad != "" {
			s.mu.Lock()
			s.badExits = append(s.badExits, bad)
			s.mu.Unlock()
			fmt.Println("soak:", bad)
		}
		s.logf("%s exited: %v", w.name, w.err)
	}
}

// act performs one random chaos action.
func (s *soak) act() {
	var running, stopped, dead []int
	for i, w := range s.workers {
		switch {
		case !s.alive(w):
			dead = append(dead, i)
		case w.termed:
			// leaving: wait for it to exit
		case w.stopped:
			stopped = append(stopped, i)
		default:
			running = append(running, i)
		}
	}
	type action struct {
		weight int
		do     func()
	}
	var actions []action
	if len(running) > 1 || (len(running) == 1 && s.rnd.IntN(10) == 0) {
		pick := func() *server { return s.workers[running[s.rnd.IntN(len(running))]] }
		actions = append(actions,
			action{3, func() { s.kill(pick()) }},
			action{2, func() { s.stop(pick()) }},
			action{2, func() { s.term(pick()) }})
	}
	if len(dead) > 0 {
		actions = append(actions, action{4, func() { s.restart(dead[s.rnd.IntN(len(dead))]) }})
	}
	if len(stopped) > 0 {
		actions = append(actions, action{1, func() { s.restart(stopped[s.rnd.IntN(len(stopped))]) }})
	}
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	if total == 0 {
		return
	}
	n := s.rnd.IntN(total)
	for _, a := range actions {
		if n < a.weight {
			a.do()
			return
		}
		n -= a.weight
	}
}

func (s *soak) kill(w *server) {
	w.expected = true
	w.cmd.Process.Signal(syscall.SIGKILL)
	s.count(&s.kills)
	s.logf("SIGKILL %s", w.name)
	if s.hostile != nil {
		<-w.exited
		s.hostile.takePort(w.grpc, w.name)
		s.logf("a forger took %s's port %s", w.name, w.grpc)
	}
}

func (s *soak) stop(w *server) {
	w.cmd.Process.Signal(syscall.SIGSTOP)
	w.stopped = true
	w.contAt = time.Now().Add(2*time.Second + time.Duration(s.rnd.Int64N(int64(6*time.Second))))
	s.count(&s.stops)
	s.logf("SIGSTOP %s until %s", w.name, w.contAt.Format("15:04:05.000"))
}

func (s *soak) term(w *server) {
	w.expected, w.termed = true, true
	w.cmd.Process.Signal(syscall.SIGTERM)
	s.count(&s.terms)
	s.logf("SIGTERM %s", w.name)
}

// restart starts slot i's worker again with the same name and flags, on the
// same ports (memberlist refuses a known name on a new address for a while),
// killing it first if it was stopped.
func (s *soak) restart(i int) {
	old := s.workers[i]
	if s.hostile != nil {
		s.hostile.release(old.grpc)
	}
	if s.alive(old) {
		old.expected = true
		old.cmd.Process.Signal(syscall.SIGKILL)
		<-old.exited
	}
	s.reap()
	args := slices.Clone(old.args)
	for k := 1; k < len(args); k++ {
		switch args[k-1] {
		case "--listen":
			args[k] = old.grpc
		case "--gossip":
			args[k] = old.gossipAddr
		}
	}
	w, err := s.start(old.name, args)
	if err != nil {
		s.logf("restart %s on its old ports failed (%v); trying new ports", old.name, err)
		args = slices.Clone(old.args)
		for k := 1; k < len(args); k++ {
			if args[k-1] == "--listen" || args[k-1] == "--gossip" {
				args[k] = "127.0.0.1:0"
			}
		}
		if w, err = s.start(old.name, args); err != nil {
			s.logf("restart %s failed: %v", old.name, err)
			return
		}
	}
	s.workers[i] = w
	s.count(&s.restarts)
	s.logf("restarted %s: %s", w.name, w.line)
}

func (s *soak) count(n *int) {
	s.mu.Lock()
	*n++
	s.mu.Unlock()
}

// heal heals the cluster (continues stopped workers, restarts dead ones),
// waits until every worker is ready, and runs each job once more: now each
// must be exact.
func (s *soak) heal(ctx context.Context) {
	if s.coordLost {
		return
	}
	for i, w := range s.workers {
		if w.stopped && s.alive(w) {
			w.cmd.Process.Signal(syscall.SIGCONT)
			w.stopped = false
		}
		if w.termed {
			select {
			case <-w.exited:
			case <-time.After(20 * time.Second):
			}
		}
		s.reap()
		if !s.alive(w) {
			s.restart(i)
		}
	}
	if err := s.waitReady(ctx, len(s.workers), 60*time.Second); err != nil {
		s.mu.Lock()
		s.recoverBad = append(s.recoverBad, "cluster did not heal: "+err.Error())
		s.mu.Unlock()
		return
	}
	for _, j := range s.jobs {
		r := runClient(ctx, s.cfg.bin, append(slices.Clone(j.args), "--json", "--coordinator", s.addr), s.cfg.jobTimeout)
		o, why := classify(j, r)
		s.mu.Lock()
		if o == exact {
			s.recovered++
		} else {
			s.recoverBad = append(s.recoverBad, fmt.Sprintf("%q: %s: %s", j.args[:3], outcomeNames[o], why))
		}
		s.mu.Unlock()
	}
}

// failed is how many jobs failed the soak, plus the other failures it found.
func (s *soak) failed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.counts[wrong] + s.counts[hung] + s.counts[unclean] + len(s.recoverBad) + len(s.badExits)
	if s.coordLost {
		n++
	}
	if s.hostile != nil && (s.hostile.tasks.Load() > 0 || s.hostile.joined()) {
		n++
	}
	return n
}

// report prints the figures and the last line.
func (s *soak) report() {
	failed := s.failed()
	s.mu.Lock()
	defer s.mu.Unlock()
	jobs := 0
	for _, n := range s.counts {
		jobs += n
	}
	fmt.Printf("soak: seed %d, duration %v\n", s.cfg.seed, s.cfg.duration)
	fmt.Printf("  jobs run        %d\n", jobs)
	for o := range numOutcomes {
		fmt.Printf("  %-15s %d\n", outcomeNames[o], s.counts[o])
	}
	if len(s.latencies) > 0 {
		l := slices.Clone(s.latencies)
		slices.Sort(l)
		fmt.Printf("  job seconds     min %.2f, median %.2f, p95 %.2f, max %.2f\n",
			l[0].Seconds(), l[len(l)/2].Seconds(), l[len(l)*95/100].Seconds(), l[len(l)-1].Seconds())
	}
	fmt.Printf("  kills %d, stops %d, terms %d, restarts %d\n", s.kills, s.stops, s.terms, s.restarts)
	fmt.Printf("  after healing   %d/%d jobs exact\n", s.recovered, len(s.jobs))
	if len(s.reasons) > 0 {
		fmt.Println("  clean failures, by message:")
		keys := make([]string, 0, len(s.reasons))
		for k := range s.reasons {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool {
			return s.reasons[keys[a]] > s.reasons[keys[b]] || s.reasons[keys[a]] == s.reasons[keys[b]] && keys[a] < keys[b]
		})
		for _, k := range keys {
			fmt.Printf("    %4d  %s\n", s.reasons[k], k)
		}
	}
	for _, b := range append(slices.Clone(s.badExits), s.recoverBad...) {
		fmt.Println("  FAIL:", b)
	}
	if s.coordLost {
		fmt.Println("  FAIL: the coordinator exited during the soak")
	}
	if s.hostile != nil {
		verdict := "ok"
		if s.hostile.tasks.Load() > 0 || s.hostile.joined() {
			verdict = "FAIL"
		}
		fmt.Printf("  hostile         %s: %s\n", verdict, s.hostile.report())
	}
	passed := s.counts[exact] + s.counts[failedCleanly] + s.recovered
	fmt.Printf("soak: %d passed, %d failed\n", passed, failed)
}

// shutdown stops every process soak started: SIGCONT and SIGTERM, then
// SIGKILL for any still running after 15 s. In order, it stops the workers
// one at a time and then the coordinator, and records any that does not exit
// 0: nodes that leave memberlist all at once can time out waiting for their
// leave broadcast (see the report); otherwise it stops them all at once.
func (s *soak) shutdown(inOrder bool) {
	var all []*server
	for _, w := range s.workers {
		all = append(all, w)
	}
	if s.coord != nil {
		all = append(all, s.coord)
	}
	var wg sync.WaitGroup
	for _, sv := range all {
		if !s.alive(sv) {
			continue
		}
		sv.cmd.Process.Signal(syscall.SIGCONT)
		sv.cmd.Process.Signal(syscall.SIGTERM)
		wg.Add(1)
		stop := func() {
			defer wg.Done()
			bad := ""
			select {
			case <-sv.exited:
				if sv.err != nil {
					bad = fmt.Sprintf("%s at shutdown: %v after SIGTERM, want exit 0", sv.name, sv.err)
				}
			case <-time.After(15 * time.Second):
				sv.cmd.Process.Kill()
				<-sv.exited
				bad = fmt.Sprintf("%s at shutdown: still running 15s after SIGTERM, killed", sv.name)
			}
			if bad != "" && inOrder {
				s.mu.Lock()
				s.badExits = append(s.badExits, bad)
				s.mu.Unlock()
			}
		}
		if inOrder {
			stop()
		} else {
			go stop()
		}
	}
	wg.Wait()
}
