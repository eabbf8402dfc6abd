// Command bench runs tally and the peers installed on this machine (ripgrep,
// grep, python3, wc, benhoyt/countwords' optimized.c when its source is
// given, and the seed's own Python and Rust word counts) side by side on the
// same input, checks that their answers agree
// where their semantics match, and prints one table: job, input, tool,
// seconds (median of several runs), MB/s, and the tool's time as a multiple
// of tally's one-thread and all-core times. It also writes the table as CSV and, when
// gnuplot is installed, a bar chart PNG. scripts/bench.sh builds tally and
// runs it:
//
//	go run ./scripts/bench -tally bin/tally [-quick] [-out bench] [-work DIR]
//
// Every run is timed as a whole process, start-up included (wall time, MB =
// 10^6 bytes). tally runs three ways: embedded with GOMAXPROCS=1 (one core:
// client, coordinator and worker share it, the per-core figure peers are
// compared with), embedded on all cores, and through a local cluster (a
// coordinator and two workers on 127.0.0.1, started here). The kernel rows
// come from `go test -bench Corpus ./count/` over the same text in RAM.
// Within a job the tools take turns (one run of each, then the next round),
// so that a burst of load on a shared machine falls on all of them.
// Every process it starts is stopped before it exits.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	tally, corpora, out, work, countwords, limits string
	seedDir                                       string // seed.py and rust/
	quick, noCluster                              bool
	reps, copies                                  int
	maxRunSeconds                                 float64
}

func main() {
	var cfg config
	flag.StringVar(&cfg.tally, "tally", "bin/tally", "the tally binary")
	flag.StringVar(&cfg.corpora, "corpora", "../shared/corpora", "directory whose *.txt files, concatenated, are the input")
	flag.StringVar(&cfg.out, "out", "bench", "directory for results.csv, results.txt and results.png")
	flag.StringVar(&cfg.work, "work", filepath.Join(os.TempDir(), "tally-bench"), "directory for the inputs (kept between runs) and logs")
	flag.StringVar(&cfg.countwords, "countwords", os.Getenv("COUNTWORDS_C"), "path to benhoyt/countwords optimized.c (compiled with gcc; its table is enlarged to hold this corpus); empty skips it")
	flag.StringVar(&cfg.seedDir, "seed", "scripts/bench", "directory of seed.py and rust/ (the seed's Python and Rust word counts); empty skips them")
	flag.StringVar(&cfg.limits, "limits", "../shared/tools/limits", "the limits tool's directory, to measure the loopback gRPC ceiling (not in -quick); empty skips it")
	flag.BoolVar(&cfg.quick, "quick", false, "a short run: the corpus once (not x8), 3 runs per tool, -max-run 1, no memory or ceiling test")
	flag.BoolVar(&cfg.noCluster, "no-cluster", false, "skip the local cluster")
	flag.IntVar(&cfg.reps, "reps", 5, "timed runs per tool after one warm-up, the tools of a job taking turns (tools slower than -max-run are run 3 times, the warm-up counted)")
	flag.IntVar(&cfg.copies, "copies", 8, "copies of the corpus in the large input")
	flag.Float64Var(&cfg.maxRunSeconds, "max-run", 3, "seconds of a warm-up run above which a tool gets only 3 timed runs")
	flag.Parse()
	if cfg.quick {
		cfg.reps, cfg.copies, cfg.limits = 3, 1, ""
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["max-run"] {
			cfg.maxRunSeconds = 1 // Python's rows: 3 runs, the warm-up counted
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	tally, err := filepath.Abs(cfg.tally)
	if err != nil {
		return err
	}
	cfg.tally = tally
	if err := os.MkdirAll(cfg.work, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return err
	}
	in, err := prepareInputs(cfg)
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, ctx: ctx, in: in, refs: map[string]string{}, start: time.Now()}
	b.logf("cpu: %s; machine: %s", cpuModel(), machine())
	b.logf("inputs: %s (%.1f MB), %s (%.1f MB)", in.small, mb(in.smallSize), in.large, mb(in.largeSize))
	if !cfg.noCluster {
		cl, err := startCluster(ctx, cfg)
		if err != nil {
			return fmt.Errorf("start local cluster: %w", err)
		}
		defer cl.stop()
		b.cluster = cl
	}
	if cfg.countwords != "" {
		if b.countwords, err = buildCountwords(cfg); err != nil {
			b.note(fmt.Sprintf("countwords optimized.c rows skipped: %v", err))
		}
	} else {
		b.note("countwords optimized.c rows skipped: no source given (COUNTWORDS_C or -countwords)")
	}
	b.seedPeers()
	if err := b.kernel(); err != nil {
		b.logf("kernel benchmarks skipped: %v", err)
	}
	if err := b.ceiling(); err != nil {
		b.logf("gRPC ceiling not measured: %v", err)
	}
	for _, j := range b.jobs() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := b.runJob(j); err != nil {
			return err
		}
	}
	if !cfg.quick && b.cluster != nil {
		if err := b.memory(); err != nil {
			b.logf("memory test failed: %v", err)
		}
	}
	return b.report()
}

// bench holds one run's state.
type bench struct {
	cfg        config
	ctx        context.Context
	start      time.Time
	in         inputs
	cluster    *cluster
	countwords string
	// seedPy is seed.py's absolute path and seedcount the Rust binary, or ""
	// when they are skipped (the notes say why).
	seedPy, seedcount string
	refs              map[string]string // reference answers for checks, by name
	kernelMBps        map[string]float64
	// ceilingMBps is the loopback gRPC ceiling, memscanMBps the memory-scan
	// ceiling (1 GiB), coordRSS the coordinator's peak RSS in MiB during the
	// memory test; 0 when not measured.
	ceilingMBps, memscanMBps, coordRSS float64
	// rawHopMBps is one loopback gRPC hop with a raw codec (limits tool).
	rawHopMBps float64
	rows       []row
	notes      []string
}

// row is one line of the table.
type row struct {
	job, input, tool string
	bytes            int64
	runs             []float64 // seconds, sorted
	cpu              []float64 // user+system seconds of the same runs, sorted
	check            string
	// ratio and ratioAll are the row's seconds per MB over tally's
	// one-thread and all-core embedded rows' (the same input, or per MB
	// when the row ran on the smaller one).
	ratio, ratioAll float64
	kernel          bool // from go test -bench, not a process
}

func (r row) median() float64 {
	if len(r.runs) == 0 {
		return 0
	}
	return r.runs[len(r.runs)/2]
}

// logf logs to stderr with the time since the start, so that a run's slow
// parts show.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %4.0fs: "+format+"\n", append([]any{time.Since(b.start).Seconds()}, args...)...)
}

// timed is a tool's runs in a job: its first output (the answer) and the
// samples of its timed runs.
type timed struct {
	tool
	out       string
	reps      int
	wall, cpu []float64
}

// measure runs every tool once as a warm-up (keeping the first output), then
// in rounds, one run of each tool per round, so that the tools share the
// machine's bursts of load instead of one tool getting all of a burst. A
// tool slower than -max-run gets 3 timed runs, its warm-up the first of
// them (the job's tally rows have brought the input into the page cache by
// then). A tool that fails is dropped and reported in failed, by index.
func (b *bench) measure(tools []tool) (res []*timed, failed map[int]error) {
	failed = map[int]error{}
	for i, t := range tools {
		wall, cpu, out, err := b.once(t)
		if err != nil {
			failed[i] = err
			res = append(res, nil)
			continue
		}
		r := &timed{tool: t, out: out, reps: b.cfg.reps}
		if wall > b.cfg.maxRunSeconds {
			r.reps = min(r.reps, 3) - 1
			r.wall, r.cpu = append(r.wall, wall), append(r.cpu, cpu)
		}
		res = append(res, r)
	}
	for round := range b.cfg.reps {
		for i, r := range res {
			if r == nil || round >= r.reps {
				continue
			}
			wall, cpu, _, err := b.once(r.tool)
			if err != nil {
				failed[i], res[i] = err, nil
				continue
			}
			r.wall, r.cpu = append(r.wall, wall), append(r.cpu, cpu)
		}
	}
	for _, r := range res {
		if r != nil {
			slices.Sort(r.wall)
			slices.Sort(r.cpu)
		}
	}
	return res, failed
}

// once runs t and returns its wall time, its CPU time (user and system,
// children included) and its stdout.
func (b *bench) once(t tool) (wall, cpu float64, stdout string, err error) {
	cmd := exec.CommandContext(b.ctx, t.argv[0], t.argv[1:]...)
	cmd.Dir = b.cfg.work
	cmd.Env = append(os.Environ(), t.env...)
	// Stdout goes to a file, read once the process has exited: through a
	// pipe, a tool printing a large table (top -n 0) would wait for this
	// process to read it, and this process's reading and garbage collection
	// would share the machine with the next tool.
	outf, err := os.CreateTemp(b.cfg.work, "stdout-*")
	if err != nil {
		return 0, 0, "", err
	}
	defer os.Remove(outf.Name())
	defer outf.Close()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = outf, &stderr
	if t.stdin != "" {
		f, err := os.Open(t.stdin)
		if err != nil {
			return 0, 0, "", err
		}
		defer f.Close()
		cmd.Stdin = f
		if t.pipe {
			// Hidden behind a plain io.Reader, the file reaches the
			// process through a pipe: a stream, not a file it could
			// read in parallel.
			cmd.Stdin = struct{ io.Reader }{f}
		}
	}
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start).Seconds()
	out, rerr := os.ReadFile(outf.Name())
	if err != nil {
		return 0, 0, string(out), fmt.Errorf("%s: %w: %s", strings.Join(t.argv, " "), err, firstLine(stderr.String()))
	}
	if rerr != nil {
		return 0, 0, "", rerr
	}
	cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return wall, cpu, string(out), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// machine describes the cores, memory and Go (cpuModel the CPU).
func machine() string {
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%d cores%s, %s %s/%s", runtime.NumCPU(), mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// cpuModel names the first CPU of /proc/cpuinfo: vendor, model name,
// family/model/stepping and the vector extensions that matter to the
// kernels. Virtual machines often hide the model's name ("Intel(R)
// Xeon(R) Processor"), so the vendor and the flags say what it is.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU (" + runtime.GOARCH + ")"
	}
	info := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			if len(info) > 0 {
				break // the end of the first CPU's block
			}
			continue
		}
		info[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	flags := map[string]bool{}
	for _, f := range strings.Fields(info["flags"]) {
		flags[f] = true
	}
	var ext []string
	for _, e := range []struct{ flag, name string }{
		{"avx2", "AVX2"}, {"avx512bw", "AVX-512"}, {"amx_tile", "AMX"}, {"hypervisor", "virtual machine"},
	} {
		if flags[e.flag] {
			ext = append(ext, e.name)
		}
	}
	model := cmp.Or(info["model name"], "unknown model")
	vendor := cmp.Or(info["vendor_id"], "unknown vendor")
	return fmt.Sprintf("%s (%s, family %s model %s stepping %s; %s)", model, vendor,
		info["cpu family"], info["model"], info["stepping"], strings.Join(ext, ", "))
}

// tallyJSON is the part of tally's --json output the checks read.
type tallyJSON struct {
	Total struct {
		Bytes  int64            `json:"bytes"`
		Lines  int64            `json:"lines"`
		Tokens int64            `json:"tokens"`
		Counts map[string]int64 `json:"counts"`
	} `json:"total"`
	Top []struct {
		Token string `json:"token"`
		Count int64  `json:"count"`
	} `json:"top"`
	Workers int `json:"workers"`
}

func parseTally(out string) (tallyJSON, error) {
	var t tallyJSON
	err := json.Unmarshal([]byte(out), &t)
	return t, err
}

var errNoAnswer = errors.New("no answer in the output")
