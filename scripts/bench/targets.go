package main

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// target is one bar of the performance issue, judged on this run.
type target struct {
	name, measured string
	met            bool
	known          bool // false: the rows it needs are missing
}

// find returns the row of a job (by name prefix) and tool (by name prefix).
func (b *bench) find(job, tool string) (row, bool) {
	for _, r := range b.rows {
		if strings.HasPrefix(r.job, job) && strings.HasPrefix(r.tool, tool) {
			return r, true
		}
	}
	return row{}, false
}

// speedup is how many times faster tally's row is than the peer's row.
func (b *bench) speedup(job, tallyTool, peer string) (float64, bool) {
	t, ok1 := b.find(job, tallyTool)
	p, ok2 := b.find(job, peer)
	if !ok1 || !ok2 {
		return 0, false
	}
	return p.median() / t.median(), true
}

// targets13 judges issue 13's bars, each measured side by side in this run
// on all the machine's cores (the are 2).
func (b *bench) targets13() []target {
	var ts []target
	// ratio judges wall time; for two single-threaded rows it also gives
	// the ratio of CPU times, which a loaded machine moves less.
	ratio := func(name, job, tallyTool, peer string, bar float64, singleThreaded bool) {
		t := target{name: name}
		tr, ok1 := b.find(job, tallyTool)
		p, ok2 := b.find(job, peer)
		if ok1 && ok2 {
			v := p.median() / tr.median()
			t.known, t.met = true, v >= bar
			t.measured = fmt.Sprintf("%.2fx (%.3f s against %.3f s)", v, p.median(), tr.median())
			pc, ok1 := p.cpuMedian()
			tc, ok2 := tr.cpuMedian()
			if singleThreaded && ok1 && ok2 {
				t.measured += fmt.Sprintf("; CPU time %.2fx", pc/tc)
			}
		}
		ts = append(ts, t)
	}
	ratio("seed job (token, 3 rare targets): tally 1 thread >= 1.2x rg -j1 -w", "count token, 3 rare", "tally, 1 thread", "rg", 1.2, true)
	ratio("count word the: tally 1 thread >= 6x rg -j1 -w", "count word, the", "tally, 1 thread", "rg", 6, true)
	n := cores()
	for _, j := range []struct {
		job string
		bar float64
	}{
		{"count token, 3 rare", 1.8}, {"count token, the", 1.8}, {"count word, the", 1.8}, {"count substring", 1.8},
		{"count word, 10", 1.8}, {"top --lower", 1.6},
	} {
		t := target{name: fmt.Sprintf("scaling, %s: %d threads >= %.1fx one", j.job, n, j.bar)}
		if v, ok := b.scaling(j.job, ""); ok {
			t.known, t.met = true, v >= j.bar
			t.measured = fmt.Sprintf("%.2fx", v)
			if v2, ok := b.scaling(j.job, ", --server-path"); ok {
				t.measured += fmt.Sprintf("; %.2fx with --server-path", v2)
			}
		}
		ts = append(ts, t)
	}
	c := target{name: fmt.Sprintf("cluster on loopback (coordinator + 2 workers) >= 0.6x embedded on %d threads, streamed from stdin", n)}
	if cl, ok := b.find("streamed", "tally, cluster"); ok {
		if e, ok := b.find("streamed", fmt.Sprintf("tally, %d threads", n)); ok {
			v := e.median() / cl.median()
			c.known, c.met = true, v >= 0.6
			c.measured = fmt.Sprintf("%.2fx (%.0f against %.0f MB/s, seed job piped to `tally count -`)", v, mb(cl.bytes)/cl.median(), mb(e.bytes)/e.median())
			if b.rawHopMBps > 0 {
				// Every streamed byte crosses two loopback hops, client to
				// coordinator to worker, on the same cores.
				c.measured += fmt.Sprintf("; %.0f%% of two gRPC hops' ceiling (%.0f MB/s: one raw-codec hop %.0f MB/s, limits tool)", 100*mb(cl.bytes)/cl.median()/(b.rawHopMBps/2), b.rawHopMBps/2, b.rawHopMBps)
			}
		}
	}
	ts = append(ts, c)
	ratio("top --lower: tally 1 thread >= 1.5x countwords optimized.c", "top --lower", "tally, 1 thread", "countwords", 1.5, true)
	ratio(fmt.Sprintf("seed job: tally 1 thread >= 4x Rust rayon par_lines on %d threads", n), "count token, 3 rare", "tally, 1 thread", "Rust rayon", 4, false)
	return ts
}

// scaling is a job's all-core speed over its one-thread speed, embedded.
func (b *bench) scaling(job, suffix string) (float64, bool) {
	one, ok1 := b.find(job, "tally, 1 thread"+suffix)
	all, ok2 := b.find(job, fmt.Sprintf("tally, %d threads", cores())+suffix)
	if !ok1 || !ok2 {
		return 0, false
	}
	return one.median() / all.median(), true
}

// targets judges issue 5's bars, each measured side by side in this run.
func (b *bench) targets() []target {
	var ts []target
	ratio := func(name, job, peer string, bar float64) {
		t := target{name: name}
		if v, ok := b.speedup(job, "tally, 1 thread", peer); ok {
			t.known, t.met = true, v >= bar
			t.measured = fmt.Sprintf("%.2fx (one thread, end to end)", v)
			if v2, ok := b.speedup(job, "tally, 1 thread, --server-path", peer); ok {
				t.measured += fmt.Sprintf("; %.2fx with --server-path", v2)
			}
		}
		ts = append(ts, t)
	}
	ratio("seed job (token, 3 rare targets): >= 1x rg -j1 -w end to end", "count token, 3 rare", "rg", 1)
	k := target{name: "seed job kernel >= 50% of memory-scan speed (one core, in RAM)"}
	if seed, ok := b.kernelMBps["seed"]; ok {
		scan, src := b.memscanMBps, "bytes.IndexByte over 1 GiB, limits tool"
		if scan == 0 {
			scan, src = b.kernelMBps["memscan"], "bytes.IndexByte over the corpus in RAM"
		}
		v := seed / scan
		k.known, k.met = true, v >= 0.5
		k.measured = fmt.Sprintf("%.0f%%: %.0f of %.0f MB/s (%s); the stats pass alone %.0f%%", 100*v, seed, scan, src, 100*b.kernelMBps["stats"]/scan)
	}
	ts = append(ts, k)
	ratio("count token the: >= 3x rg -j1 -w the", "count token, the", "rg", 3)
	ratio("count token the (52 MB): >= 40x Python text.split().count", "count token, the (Python", "python3", 40)
	ratio("count substring the: >= 1.3x rg -j1 -F the", "count substring", "rg", 1.3)
	ratio("count word, 10 common targets: >= 3x rg -j1 -w (10 patterns)", "count word, 10", "rg", 3)
	ratio("top --lower: >= 1.2x countwords optimized.c", "top --lower", "countwords", 1.2)

	// Scaling: all cores against one, embedded, per job on the large input.
	for _, j := range []string{"count token, 3 rare", "count token, the", "count substring", "count word, 10", "top --lower"} {
		for _, sp := range []string{"", ", --server-path"} {
			one, ok1 := b.find(j, "tally, 1 thread"+sp)
			all, ok2 := b.find(j, fmt.Sprintf("tally, %d threads", cores())+sp)
			if sp != "" && (!ok1 || !ok2) {
				continue
			}
			t := target{name: fmt.Sprintf("scaling, %s%s: %d threads >= 1.8x one", j, sp, cores())}
			if ok1 && ok2 {
				v := one.median() / all.median()
				t.known, t.met = true, v >= 1.8
				t.measured = fmt.Sprintf("%.2fx", v)
			}
			ts = append(ts, t)
		}
	}

	c := target{name: "cluster path >= 80% of the loopback gRPC ceiling (protobuf bytes, 1 MiB messages)"}
	if r, ok := b.find("count token, 3 rare", "tally, cluster, --server-path"); ok {
		ceiling, src := b.ceilingMBps, "measured by ../shared/tools/limits in this run"
		if ceiling == 0 {
			ceiling, src = 600, "the 0.6 GB/s of the issue"
		}
		v := mb(r.bytes) / r.median() / ceiling
		c.known, c.met = true, v >= 0.8
		c.measured = fmt.Sprintf("%.0f%%: %.0f MB/s coordinator to workers (server path, whole job) against %.0f MB/s (%s)", 100*v, mb(r.bytes)/r.median(), ceiling, src)
	}
	ts = append(ts, c)

	s := target{name: "small job (3 books) through the running cluster < 0.5x the Python script's time"}
	if t, ok := b.find("small job", "tally, cluster"); ok {
		if p, ok := b.find("small job", "python3"); ok {
			v := t.median() / p.median()
			s.known, s.met = true, v < 0.5
			s.measured = fmt.Sprintf("%.2fx (%.0f ms against %.0f ms)", v, 1000*t.median(), 1000*p.median())
		}
	}
	ts = append(ts, s)

	m := target{name: "coordinator peak RSS < 300 MiB while 5 GB stream through"}
	if b.coordRSS > 0 {
		m.known, m.met = true, b.coordRSS < 300
		m.measured = fmt.Sprintf("%.0f MiB", b.coordRSS)
	}
	ts = append(ts, m)
	return ts
}

// ceiling measures the loopback gRPC ceiling with the limits tool, if it is
// there: protobuf bytes, 1 MiB messages, default windows.
func (b *bench) ceiling() error {
	dir := b.cfg.limits
	if dir == "" {
		return nil
	}
	bin := filepath.Join(b.cfg.work, "limits")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w: %s", dir, err, firstLine(string(out)))
	}
	b.logf("ceiling: %s -only grpc (about 20 s)", bin)
	out, err := exec.CommandContext(b.ctx, bin, "-file", b.in.small, "-only", "grpc", "-grpc-mb", "512", "-reps", "3").Output()
	if err != nil {
		return err
	}
	if scan, err := exec.CommandContext(b.ctx, bin, "-file", b.in.small, "-only", "scan", "-reps", "3").Output(); err == nil {
		for _, l := range strings.Split(string(scan), "\n") {
			f := strings.Fields(l)
			if strings.HasPrefix(l, "bytes.IndexByte") && len(f) > 7 && f[2] == "1" {
				if v, err := strconv.ParseFloat(f[7], 64); err == nil {
					b.memscanMBps = v
					b.note(fmt.Sprintf("memory scan ceiling (limits tool, this run): bytes.IndexByte over 1 GiB, one goroutine: %.0f MB/s", v))
				}
			}
		}
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		l := sc.Text()
		if !strings.Contains(l, "1 MiB msgs") {
			continue
		}
		switch {
		case strings.Contains(l, "proto BytesValue, default windows") && b.ceilingMBps == 0:
			if v, ok := mbpsOf(l); ok {
				b.ceilingMBps = v
				b.note(fmt.Sprintf("gRPC loopback ceiling (limits tool, this run): %.0f MB/s with protobuf bytes in 1 MiB messages, default windows", v))
			}
		case strings.Contains(l, "raw []byte codec, default windows") && b.rawHopMBps == 0:
			if v, ok := mbpsOf(l); ok {
				b.rawHopMBps = v
				b.note(fmt.Sprintf("gRPC loopback ceiling (limits tool, this run): %.0f MB/s with a raw []byte codec in 1 MiB messages, default windows (one hop, client and server on the same cores)", v))
			}
		}
	}
	if b.ceilingMBps > 0 {
		return nil
	}
	return fmt.Errorf("no 1 MiB protobuf line in the limits output")
}

// mbpsOf is the figure before "MB/s" in a line of the limits tool.
func mbpsOf(l string) (float64, bool) {
	f := strings.Fields(l)
	for i, w := range f {
		if w == "MB/s" && i > 0 {
			v, err := strconv.ParseFloat(f[i-1], 64)
			return v, err == nil
		}
	}
	return 0, false
}
