package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cluster is a coordinator and two workers on 127.0.0.1.
type cluster struct {
	addr  string
	coord *exec.Cmd
	procs []*exec.Cmd // workers, then the coordinator
}

// startCluster starts the servers on free ports and waits until both
// workers are ready.
func startCluster(ctx context.Context, cfg config) (*cluster, error) {
	c := &cluster{}
	coord, first, err := startServer(cfg, "coordinator", "coordinator", "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0",
		"--data-dir", cfg.work, "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	c.coord = coord
	c.procs = append(c.procs, coord)
	// "coordinator listening on ADDR, gossip on ADDR"
	var gossip string
	if _, err := fmt.Sscanf(strings.ReplaceAll(first, ",", " "), "coordinator listening on %s gossip on %s", &c.addr, &gossip); err != nil {
		c.stop()
		return nil, fmt.Errorf("coordinator said %q: %w", first, err)
	}
	for i := 1; i <= 2; i++ {
		w, _, err := startServer(cfg, fmt.Sprintf("worker%d", i), "worker", "--join", gossip, "--listen", "127.0.0.1:0",
			"--gossip", "127.0.0.1:0", "--name", fmt.Sprintf("bench-w%d", i), "--log-level", "warn")
		if err != nil {
			c.stop()
			return nil, err
		}
		c.procs = append([]*exec.Cmd{w}, c.procs...)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, err := c.readyWorkers(cfg.tally); err == nil && n == 2 {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.stop()
			return nil, fmt.Errorf("two workers not ready after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startServer starts `tally ROLE args...` with its stderr in the work
// directory, and returns the first line it prints.
func startServer(cfg config, name, role string, args ...string) (*exec.Cmd, string, error) {
	cmd := exec.Command(cfg.tally, append([]string{role}, args...)...)
	logf, err := os.Create(filepath.Join(cfg.work, name+".log"))
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		l, _ := r.ReadString('\n')
		lines <- strings.TrimSpace(l)
		io.Copy(io.Discard, r)
	}()
	select {
	case l := <-lines:
		return cmd, l, nil
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, "", fmt.Errorf("%s printed nothing in 15 s (see %s)", name, logf.Name())
	}
}

func (c *cluster) readyWorkers(tally string) (int, error) {
	out, err := exec.Command(tally, "cluster", "--json", "--coordinator", c.addr).Output()
	if err != nil {
		return 0, err
	}
	var resp struct {
		Workers []struct {
			State string `json:"state"`
		} `json:"workers"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, err
	}
	n := 0
	for _, w := range resp.Workers {
		if strings.EqualFold(w.State, "ready") {
			n++
		}
	}
	return n, nil
}

// stop ends the servers one at a time, workers first, with SIGTERM and then
// SIGKILL after 15 s.
func (c *cluster) stop() {
	for _, p := range c.procs {
		p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			p.Process.Kill()
			<-done
		}
	}
	c.procs = nil
}

// peakRSS reads a process's peak resident set (VmHWM) in MiB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for pid %d", pid)
}

// resetPeakRSS starts a new VmHWM measurement (Linux 4.0+).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// memory streams about 5 GB through the cluster from stdin and reports the
// servers' peak resident memory during it.
func (b *bench) memory() error {
	const want = 5e9
	copies := int((want + float64(b.in.largeSize) - 1) / float64(b.in.largeSize))
	total := int64(copies) * b.in.largeSize
	b.logf("memory: streaming %.1f GB through the cluster from stdin", float64(total)/1e9)
	for _, p := range b.cluster.procs {
		if err := resetPeakRSS(p.Process.Pid); err != nil {
			return err
		}
	}
	script := fmt.Sprintf(`for i in $(seq %d); do cat "$1"; done | "$2" count -e Holmes --quiet --json --totals-only --coordinator "$3" -`, copies)
	t := tool{argv: []string{"sh", "-c", script, "sh", b.in.large, b.cfg.tally, b.cluster.addr}}
	secs, _, out, err := b.once(t)
	if err != nil {
		return err
	}
	res, err := parseTally(out)
	if err != nil {
		return err
	}
	if res.Total.Bytes != total {
		return fmt.Errorf("counted %d bytes, want %d", res.Total.Bytes, total)
	}
	var parts []string
	for _, p := range b.cluster.procs {
		rss, err := peakRSS(p.Process.Pid)
		if err != nil {
			return err
		}
		role := "worker"
		if p == b.cluster.coord {
			role = "coordinator"
			b.coordRSS = rss
		}
		parts = append(parts, fmt.Sprintf("%s %.0f MiB", role, rss))
	}
	b.note(fmt.Sprintf("memory: %.1f GB streamed from stdin through the cluster in %.1f s (%.0f MB/s); peak RSS during it: %s",
		float64(total)/1e9, secs, mb(total)/secs, strings.Join(parts, ", ")))
	return nil
}
