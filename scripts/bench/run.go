package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// inputs are the benchmark's texts.
type inputs struct {
	small, large         string // the corpus once, and copies of it
	smallSize, largeSize int64
}

// prepareInputs concatenates the corpora's *.txt files (sorted by name, as
// the shell's glob) and writes the large input as copies of that, reusing
// files from an earlier run when their sizes still match.
func prepareInputs(cfg config) (inputs, error) {
	files, err := filepath.Glob(filepath.Join(cfg.corpora, "*.txt"))
	if err != nil || len(files) == 0 {
		return inputs{}, fmt.Errorf("no *.txt files in %s", cfg.corpora)
	}
	var size int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return inputs{}, err
		}
		size += st.Size()
	}
	in := inputs{
		small: filepath.Join(cfg.work, "corpus.txt"), smallSize: size,
		large: filepath.Join(cfg.work, fmt.Sprintf("corpus-x%d.txt", cfg.copies)), largeSize: size * int64(cfg.copies),
	}
	if err := writeCopies(in.small, files, 1, size); err != nil {
		return in, err
	}
	return in, writeCopies(in.large, []string{in.small}, cfg.copies, in.largeSize)
}

func writeCopies(dst string, srcs []string, copies int, want int64) error {
	if st, err := os.Stat(dst); err == nil && st.Size() == want {
		return nil
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for range copies {
		for _, s := range srcs {
			in, err := os.Open(s)
			if err != nil {
				out.Close()
				return err
			}
			_, err = w.ReadFrom(in)
			in.Close()
			if err != nil {
				out.Close()
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// file returns a job's input file and its size.
func (b *bench) file(j job) (string, int64) {
	switch j.input {
	case "large":
		return b.in.large, b.in.largeSize
	case "small":
		return b.in.small, b.in.smallSize
	}
	var n int64
	for _, bk := range books {
		if st, err := os.Stat(filepath.Join(b.cfg.corpora, bk)); err == nil {
			n += st.Size()
		}
	}
	return "", n
}

// runJob times tally three ways and every peer, taking turns, and checks
// the answers.
func (b *bench) runJob(j job) error {
	file, size := b.file(j)
	label := fmt.Sprintf("%.0f MB", mb(size))
	b.logf("job %q on %s", j.name, label)
	tallies := b.tallyTools(j, file)
	tools := slices.Clone(tallies)
	for _, p := range j.peers {
		if _, err := exec.LookPath(p.argv[0]); err != nil {
			b.note(fmt.Sprintf("%s: %s skipped: %s not installed", j.name, p.name, p.argv[0]))
			continue
		}
		tools = append(tools, p)
	}
	res, failed := b.measure(tools)
	for i := range tallies {
		if err := failed[i]; err != nil {
			return err
		}
	}
	refs := map[string]string{}
	var rows []row
	for i, t := range res[:len(tallies)] {
		out, err := parseTally(t.out)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		ans := j.tallyAnswer(out)
		r := row{job: j.name, input: label, tool: t.name, bytes: size, runs: t.wall, cpu: t.cpu}
		if i == 0 {
			refs["tally"] = ans
			r.check = "reference: " + ans
		} else {
			r.check = checkAnswer(ans, refs["tally"])
		}
		rows = append(rows, r)
	}
	one, all := rows[0], rows[1]
	for _, r := range rows {
		b.add(r, one, all)
	}
	if mbps, ok := b.kernelMBps[j.kernel]; ok && j.kernel != "" {
		b.add(row{job: j.name, input: label, tool: "tally kernel, 1 thread (go test, in RAM)", bytes: size,
			runs: []float64{mb(size) / mbps}, kernel: true, check: "golden, property and fuzz tests"}, one, all)
	}
	for name, rr := range j.refs {
		f := file
		if rr.input == "small" {
			f = b.in.small
		}
		rargs := append(append([]string{b.cfg.tally}, rr.args...), "--quiet", "--json", "--totals-only", f)
		_, _, out, err := b.once(tool{argv: rargs})
		if err != nil {
			return err
		}
		res, err := parseTally(out)
		if err != nil {
			return err
		}
		refs[name] = rr.answer(res)
	}
	for i, p := range tools[len(tallies):] {
		i += len(tallies)
		if err := failed[i]; err != nil {
			b.note(fmt.Sprintf("%s: %s skipped: it failed: %v", j.name, p.name, err))
			continue
		}
		t := res[i]
		pl, psize := label, size
		if p.input == "small" {
			psize = b.in.smallSize
			pl = fmt.Sprintf("%.0f MB", mb(psize))
		}
		r := row{job: j.name, input: pl, tool: p.name, bytes: psize, runs: t.wall, cpu: t.cpu}
		ans, err := p.answer(t.out)
		switch {
		case err != nil:
			r.check = "no answer: " + err.Error()
		case p.want == "":
			r.check = "not comparable: " + p.note
		default:
			r.check = checkAnswer(ans, refs[p.want])
			if p.note != "" {
				r.check += " (" + p.note + ")"
			}
		}
		b.add(r, one, all)
	}
	return nil
}

// tallyTools are the ways tally runs a job: one thread, all cores and the
// cluster, each also with --server-path when the job asks. The first is
// the one-thread row and the second the all-core row the ratios use.
func (b *bench) tallyTools(j job, file string) []tool {
	args := append([]string{b.cfg.tally}, j.tallyArgs...)
	args = append(args, "--quiet", "--json", "--totals-only")
	withFile := func(t tool, serverPath bool) tool {
		t.argv = append(slices.Clone(args), t.argv...)
		switch {
		case file == "":
		case j.stdin:
			t.argv, t.stdin, t.pipe = append(t.argv, "-"), file, true
		case serverPath:
			t.argv = append(t.argv, "--server-path", filepath.Base(file))
		default:
			t.argv = append(t.argv, file)
		}
		return t
	}
	var tallies []tool
	for _, sp := range []bool{false, true} {
		if sp && (file == "" || !j.serverPath) {
			continue
		}
		suffix := ""
		if sp {
			suffix = ", --server-path"
		}
		tallies = append(tallies,
			withFile(tool{name: "tally, 1 thread" + suffix, env: []string{"GOMAXPROCS=1"}}, sp),
			withFile(tool{name: fmt.Sprintf("tally, %d threads", cores()) + suffix}, sp))
		if b.cluster != nil {
			tallies = append(tallies, withFile(tool{name: "tally, cluster" + suffix, argv: []string{"--coordinator", b.cluster.addr}}, sp))
		}
	}
	return tallies
}

func cores() int {
	if n, err := strconv.Atoi(os.Getenv("GOMAXPROCS")); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
}

// checkAnswer compares an answer with its reference.
func checkAnswer(got, want string) string {
	if got == want {
		return "agrees"
	}
	return fmt.Sprintf("DIFFERS: got %s, want %s", got, want)
}

// add appends r with its ratios to tally's one-thread and all-core rows
// (per MB, so that a row on a smaller input compares fairly).
func (b *bench) add(r row, one, all row) {
	r.ratio, r.ratioAll = perMB(r)/perMB(one), perMB(r)/perMB(all)
	b.rows = append(b.rows, r)
	b.logf("  %-46s %8.3f s %9.1f MB/s  %6.2fx  %6.2fx  %s", r.tool, r.median(), mb(r.bytes)/r.median(), r.ratio, r.ratioAll, r.check)
}

// perMB is a row's median seconds per MB of input.
func perMB(r row) float64 { return r.median() / mb(r.bytes) }

func (b *bench) note(s string) {
	b.notes = append(b.notes, s)
	b.logf("note: %s", s)
}

// benchLine matches a go test -bench result line with MB/s.
var benchLine = regexp.MustCompile(`^BenchmarkCorpus/(\S+?)(-\d+)?\s+\d+\s+\S+ ns/op\s+(\S+) MB/s`)

// kernel runs the count package's corpus benchmarks over the small input in
// RAM, one goroutine, and records each job's MB/s.
func (b *bench) kernel() error {
	b.logf("kernel: go test -bench Corpus ./count/ over %s", b.in.small)
	cmd := exec.CommandContext(b.ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkCorpus$", "-benchtime", "5x", "./count/")
	cmd.Env = append(os.Environ(), "TALLY_BENCH_FILE="+b.in.small)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, firstLine(string(out)))
	}
	b.kernelMBps = map[string]float64{}
	for _, l := range strings.Split(string(out), "\n") {
		if m := benchLine.FindStringSubmatch(l); m != nil {
			v, err := strconv.ParseFloat(m[3], 64)
			if err == nil {
				b.kernelMBps[m[1]] = v
			}
		}
	}
	if len(b.kernelMBps) == 0 {
		return fmt.Errorf("no results in: %s", firstLine(string(out)))
	}
	if scan, ok := b.kernelMBps["memscan"]; ok {
		b.note(fmt.Sprintf("kernel, 1 thread, in RAM: memory scan (bytes.IndexByte of an absent byte) %.0f MB/s; seed job kernel %.0f MB/s = %.0f%% of it; stats alone %.0f MB/s = %.0f%%",
			scan, b.kernelMBps["seed"], 100*b.kernelMBps["seed"]/scan, b.kernelMBps["stats"], 100*b.kernelMBps["stats"]/scan))
	}
	return nil
}

// buildCountwords compiles optimized.c with its fixed 65536-slot table
// enlarged: the corpus has more distinct words than that, and a full table
// makes the program loop forever.
func buildCountwords(cfg config) (string, error) {
	src, err := os.ReadFile(cfg.countwords)
	if err != nil {
		return "", err
	}
	fixed := strings.Replace(string(src), "#define HASH_LEN 65536", "#define HASH_LEN (1<<22)", 1)
	if fixed == string(src) {
		return "", fmt.Errorf("%s: no '#define HASH_LEN 65536' to enlarge", cfg.countwords)
	}
	c := filepath.Join(cfg.work, "countwords-optimized.c")
	bin := filepath.Join(cfg.work, "countwords-optimized")
	if err := os.WriteFile(c, []byte(fixed), 0o644); err != nil {
		return "", err
	}
	if out, err := exec.Command("gcc", "-O2", "-o", bin, c).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc: %w: %s", err, firstLine(string(out)))
	}
	return bin, nil
}
