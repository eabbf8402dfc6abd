package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// report prints the table and writes results.txt, results.csv and, with
// gnuplot, results.png.
func (b *bench) report() error {
	txt := filepath.Join(b.cfg.out, "results.txt")
	f, err := os.Create(txt)
	if err != nil {
		return err
	}
	w := io.MultiWriter(os.Stdout, f)
	nT := fmt.Sprintf("x tally-%dT", cores())
	fmt.Fprintf(w, "tally benchmark, %s\ncpu: %s\nmachine: %s\n", time.Now().Format(time.DateTime), cpuModel(), machine())
	fmt.Fprintf(w, "seconds: median wall time of a whole process run (the tools of a job take turns, one run each per round);\n")
	fmt.Fprintf(w, "MB/s: 10^6 bytes of input per second; x tally-1T and %s: the tool's time per MB / tally's embedded\n", nT)
	fmt.Fprintf(w, "time per MB on one thread and on %d (above 1: tally is faster). A row whose input is smaller than its\n", cores())
	fmt.Fprintf(w, "job's (the seed's Python counts) ran on that input and is compared per MB. cpu s: median user+system\n")
	fmt.Fprintf(w, "seconds of the process and its children (a cluster row: the client's alone); on a loaded machine it\n")
	fmt.Fprintf(w, "moves less than the wall time.\n\n")
	var cells [][]string
	prev := ""
	for _, r := range b.rows {
		job := r.job
		if job == prev {
			job = ""
		}
		prev = r.job
		cells = append(cells, []string{job, r.input, r.tool, fmt.Sprintf("%.3f", r.median()), r.cpuCell(),
			fmt.Sprintf("%.1f", mb(r.bytes)/r.median()), fmt.Sprintf("%.2f", r.ratio), fmt.Sprintf("%.2f", r.ratioAll), r.check})
	}
	writeTable(w, []string{"job", "input", "tool", "seconds", "cpu s", "MB/s", "x tally-1T", nT, "check"}, cells,
		[]bool{false, true, false, true, true, true, true, true, false})
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets of issue 13, measured side by side in this run on the CPU above:")
	writeTargets(w, b.targets13())
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Earlier bars (issue 5), same run:")
	writeTargets(w, b.targets())
	if len(b.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range b.notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := b.writeCSV(filepath.Join(b.cfg.out, "results.csv")); err != nil {
		return err
	}
	png := filepath.Join(b.cfg.out, "results.png")
	if err := b.chart(png); err != nil {
		fmt.Fprintf(os.Stderr, "bench: no chart: %v\n", err)
	} else {
		fmt.Fprintf(os.Stderr, "bench: wrote %s, %s and %s\n", txt, filepath.Join(b.cfg.out, "results.csv"), png)
	}
	return nil
}

func writeTargets(w io.Writer, ts []target) {
	var cells [][]string
	for _, t := range ts {
		verdict := "not measured"
		switch {
		case t.known && t.met:
			verdict = "met"
		case t.known:
			verdict = "NOT met"
		}
		cells = append(cells, []string{t.name, verdict, t.measured})
	}
	writeTable(w, []string{"target", "", "measured"}, cells, []bool{false, false, false})
}

// writeTable prints rows under a header in aligned columns; right marks the
// numeric columns. The last column is not padded.
func writeTable(w io.Writer, header []string, rows [][]string, right []bool) {
	width := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var sb strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			switch {
			case i == len(r)-1:
				sb.WriteString(c)
			case right[i]:
				sb.WriteString(pad + c + "  ")
			default:
				sb.WriteString(c + pad + "  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}

func (b *bench) writeCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"job", "input_bytes", "tool", "seconds_median", "seconds_min", "seconds_max", "runs", "cpu_seconds_median",
		"mb_per_s", "ratio_to_tally_1t", "ratio_to_tally_all_cores", "check"})
	for _, r := range b.rows {
		cpu := "" // kernel rows are not a process; a cluster row's is the client's alone
		if v, ok := r.cpuMedian(); ok {
			cpu = fmtF(v)
		}
		w.Write([]string{r.job, strconv.FormatInt(r.bytes, 10), r.tool,
			fmtF(r.median()), fmtF(r.runs[0]), fmtF(r.runs[len(r.runs)-1]), strconv.Itoa(len(r.runs)), cpu,
			fmtF(mb(r.bytes) / r.median()), fmtF(r.ratio), fmtF(r.ratioAll), r.check})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (r row) cpuMedian() (float64, bool) {
	if len(r.cpu) == 0 {
		return 0, false
	}
	return r.cpu[len(r.cpu)/2], true
}

func (r row) cpuCell() string {
	if v, ok := r.cpuMedian(); ok {
		return fmt.Sprintf("%.3f", v)
	}
	return "-"
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

// chart draws MB/s per job and tool as bars on a log scale with gnuplot.
func (b *bench) chart(png string) error {
	if _, err := exec.LookPath("gnuplot"); err != nil {
		return fmt.Errorf("gnuplot not installed")
	}
	data := filepath.Join(b.cfg.work, "chart.dat")
	var sb strings.Builder
	for _, r := range b.rows {
		label := shortJob(r.job) + ": " + shortTool(r.tool)
		v := mb(r.bytes) / r.median()
		tallyV, peerV := "NaN", "NaN"
		if strings.HasPrefix(r.tool, "tally") {
			tallyV = fmtF(v)
		} else {
			peerV = fmtF(v)
		}
		fmt.Fprintf(&sb, "%q %s %s\n", label, tallyV, peerV)
	}
	if err := os.WriteFile(data, []byte(sb.String()), 0o644); err != nil {
		return err
	}
	width := max(1200, 34*len(b.rows))
	script := fmt.Sprintf(`set terminal pngcairo size %d,900 noenhanced font ",9"
set output %q
set title "tally and peers: MB/s per job (higher is better; log scale)"
set style fill solid 0.9 border -1
set boxwidth 0.8
set logscale y
set yrange [1:%g]
set grid ytics
set ylabel "MB/s"
set xtics rotate by 60 right
set bmargin 14
set lmargin 12
set key top left
plot %q using 0:2:xtic(1) with boxes lc rgb "#1f77b4" title "tally", '' using 0:3 with boxes lc rgb "#ff7f0e" title "peers"
`, width, png, b.maxMBps()*2, data)
	cmd := exec.Command("gnuplot")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		// pngcairo may be missing from a minimal gnuplot: fall back to png.
		cmd = exec.Command("gnuplot")
		cmd.Stdin = strings.NewReader(strings.Replace(script, "pngcairo", "png", 1))
		if out2, err2 := cmd.CombinedOutput(); err2 != nil {
			return fmt.Errorf("gnuplot: %v: %s %s", err2, firstLine(string(out)), firstLine(string(out2)))
		}
	}
	return nil
}

func (b *bench) maxMBps() float64 {
	m := 1.0
	for _, r := range b.rows {
		m = math.Max(m, mb(r.bytes)/r.median())
	}
	return m
}

func shortJob(s string) string {
	for _, k := range []struct{ prefix, short string }{
		{"count token, 3 rare", "seed"}, {"streamed", "seed stdin"}, {"statistics", "stats"}, {"count token, the (Python", "the tok 52MB"},
		{"count token, the", "the tok"}, {"count word, the", "the word"}, {"count substring", "the substr"},
		{"count word, 10", "10 words"}, {"top", "top"}, {"small job", "3 books"},
	} {
		if strings.HasPrefix(s, k.prefix) {
			return k.short
		}
	}
	return s
}

func shortTool(s string) string {
	s = strings.NewReplacer("tally, 1 thread", "1T", fmt.Sprintf("tally, %d threads", cores()), fmt.Sprintf("%dT", cores()),
		"tally, cluster", "cluster", ", --server-path", " srv", "tally kernel, 1 thread (go test, in RAM)", "kernel",
		"Rust split_whitespace, 1 thread", "Rust 1T", "Rust rayon par_lines", "Rust rayon", "python3 ", "py ",
		"ThreadPoolExecutor", "ThreadPool", "ProcessPoolExecutor", "ProcessPool", "text.split(), list.count per target", "split loop").Replace(s)
	if r := []rune(s); len(r) > 24 {
		s = string(r[:23]) + "…"
	}
	return s
}
