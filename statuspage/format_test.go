package statuspage

import (
	"testing"
	"time"

	"github.com/tallyhq/tally/coordinator"
)

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		n    float64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1 kB"}, {1234, "1.23 kB"}, {20_030_000, "20 MB"},
		{999_400, "999 kB"}, {999_600, "1 MB"}, {12_345_678_901, "12.3 GB"},
	} {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%v): got %q, want %q", tt.n, got, tt.want)
		}
	}
	for _, tt := range []struct {
		s    float64
		want string
	}{
		{-1, "0s"}, {0.9, "0s"}, {59.9, "59s"}, {60, "1m00s"}, {187, "3m07s"}, {7500, "2h05m"},
	} {
		if got := formatDur(tt.s); got != tt.want {
			t.Errorf("formatDur(%v): got %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestHistory checks the rates the page derives from its samples: a
// job's steps (a short last interval joined to the one before), its
// current rate and ETA's basis, a worker's minute, and a departed worker.
func TestHistory(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	h := newHistory(time.Minute)
	job := coordinator.Snapshot{ID: "j", State: coordinator.Running, Created: t0}
	w := coordinator.WorkerInfo{Name: "w1", State: "ready"}
	for i := 1; i <= 3; i++ {
		job.Progress.BytesCounted = int64(i) * 1000
		w.ChunksDone, w.BytesDone = uint64(i), int64(i)*1000
		h.record(at(float64(i)), []coordinator.Snapshot{job}, []coordinator.WorkerInfo{w})
	}
	if got := h.jobRate(job); got != 1000 {
		t.Errorf("running rate: got %v, want 1000", got)
	}
	job.State, job.Finished, job.Progress.BytesCounted = coordinator.Succeeded, at(3.1), 3500
	h.record(at(4), []coordinator.Snapshot{job}, []coordinator.WorkerInfo{w})
	got := h.throughput("j")
	want := []ratePoint{{1, 1000}, {2, 1000}, {3.1, 1500 / 1.1}}
	if len(got) != len(want) {
		t.Fatalf("throughput: got %v, want %v", got, want)
	}
	for i := range want {
		if d := got[i].AtSeconds - want[i].AtSeconds; d > 1e-9 || d < -1e-9 || got[i].BytesPerSecond-want[i].BytesPerSecond > 1e-6 {
			t.Errorf("throughput[%d]: got %v, want %v", i, got[i], want[i])
		}
	}
	if got := h.jobRate(job); got != 3500/3.1 {
		t.Errorf("finished rate: got %v, want the whole life's %v", got, 3500/3.1)
	}
	if r := h.workerRates()["w1"]; r.bytesPerSecond != 2000/3.0 || r.chunks != 2 {
		t.Errorf("worker rate: got %+v, want 666.67 B/s and 2 chunks over 3 s", r)
	}
	h.record(at(5), nil, nil)
	if d := h.departed(); len(d) != 1 || d[0].last.Name != "w1" || !d[0].leftAt.Equal(at(5)) {
		t.Errorf("departed: got %+v, want w1 since 5 s", d)
	}
	if len(h.throughput("j")) != 0 {
		t.Errorf("a job the coordinator forgot keeps its samples")
	}
	h.record(at(66), nil, nil)
	if d := h.departed(); len(d) != 0 {
		t.Errorf("departed after KeepLeft: got %+v, want none", d)
	}
}

func TestThin(t *testing.T) {
	var ps []point
	for i := range 7 {
		ps = append(ps, point{bytes: int64(i)})
	}
	got := thin(ps)
	want := []int64{0, 2, 4, 6}
	if len(got) != len(want) {
		t.Fatalf("thin: got %v, want bytes %v", got, want)
	}
	for i := range want {
		if got[i].bytes != want[i] {
			t.Errorf("thin: got %v, want bytes %v", got, want)
		}
	}
}

func TestChart(t *testing.T) {
	c := chartPoints([]ratePoint{{1, 100}, {2, 50}})
	if c.Points != "0.0,32.0 300.0,32.0 300.0,96.0 600.0,96.0" || c.MaxRate != 100 || c.Span != 2 {
		t.Errorf("chart: got %+v", c)
	}
	if c := chartPoints(nil); c.Points != "" {
		t.Errorf("empty chart: got %+v, want nothing drawn", c)
	}
}
