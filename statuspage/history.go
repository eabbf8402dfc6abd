package statuspage

import (
	"sync"
	"time"

	"github.com/tallyhq/tally/coordinator"
)

// The coordinator keeps totals (bytes counted, chunks done); rates need
// their values over time, which the page samples itself: each job's bytes
// counted for its throughput chart, each worker's counters over the last
// minute, and the last sight of workers that left.

// point is one sample of a counter.
type point struct {
	at     time.Time
	bytes  int64
	chunks uint64
}

const (
	// maxJobPoints bounds a job's samples: beyond it every other one is
	// dropped, so a long job's chart covers all of it at a coarser step.
	maxJobPoints = 600
	// workerWindow is the span of a worker's rates.
	workerWindow = time.Minute
	// recentWindow is the span of a running job's current rate, for its ETA.
	recentWindow = 5 * time.Second
)

// jobHistory is a job's bytes counted over time.
type jobHistory struct {
	points []point // the first at the job's creation (0 bytes), oldest first
	final  bool    // the last point is the job's end
}

// workerHistory is a worker's counters over the last minute, and how it
// was last seen.
type workerHistory struct {
	points []point
	last   coordinator.WorkerInfo
	leftAt time.Time // when it was no longer listed; zero while it is
}

// history holds the samples. It is safe for concurrent use.
type history struct {
	keepLeft time.Duration

	mu      sync.Mutex // guards jobs and workers
	jobs    map[string]*jobHistory
	workers map[string]*workerHistory
}

func newHistory(keepLeft time.Duration) *history {
	return &history{keepLeft: keepLeft, jobs: map[string]*jobHistory{}, workers: map[string]*workerHistory{}}
}

// record adds the samples taken at now: the jobs' (all the source lists)
// and the workers'.
func (h *history) record(now time.Time, jobs []coordinator.Snapshot, workers []coordinator.WorkerInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	listed := make(map[string]bool, len(jobs))
	for _, s := range jobs {
		listed[s.ID] = true
		jh := h.jobs[s.ID]
		if jh == nil {
			jh = &jobHistory{points: []point{{at: s.Created}}}
			h.jobs[s.ID] = jh
		}
		switch {
		case jh.final:
		case s.State != coordinator.Running:
			jh.points = append(jh.points, point{at: s.Finished, bytes: s.Progress.BytesCounted})
			jh.final = true
		default:
			jh.points = append(jh.points, point{at: now, bytes: s.Progress.BytesCounted})
		}
		if len(jh.points) > maxJobPoints {
			jh.points = thin(jh.points)
		}
	}
	for id := range h.jobs {
		if !listed[id] {
			delete(h.jobs, id) // forgotten by the coordinator
		}
	}

	seen := make(map[string]bool, len(workers))
	for _, w := range workers {
		seen[w.Name] = true
		wh := h.workers[w.Name]
		if wh == nil {
			wh = &workerHistory{}
			h.workers[w.Name] = wh
		}
		if n := len(wh.points); n > 0 && (w.ChunksDone < wh.points[n-1].chunks || w.BytesDone < wh.points[n-1].bytes) {
			wh.points = nil // a new session: its counters start again
		}
		wh.last, wh.leftAt = w, time.Time{}
		wh.points = append(wh.points, point{at: now, bytes: w.BytesDone, chunks: w.ChunksDone})
		// Keep one point at or before the window's start, so that the
		// rate covers the whole window.
		for len(wh.points) > 1 && !wh.points[1].at.After(now.Add(-workerWindow)) {
			wh.points = wh.points[1:]
		}
	}
	for name, wh := range h.workers {
		switch {
		case seen[name]:
		case wh.leftAt.IsZero():
			wh.leftAt = now
		case now.Sub(wh.leftAt) > h.keepLeft:
			delete(h.workers, name)
		}
	}
}

// thin drops every other point but the first and the last.
func thin(ps []point) []point {
	last := ps[len(ps)-1]
	kept := ps[:1]
	for i := 2; i < len(ps)-1; i += 2 {
		kept = append(kept, ps[i])
	}
	return append(kept, last)
}

// rate is the bytes per second between the first and last of ps, and the
// chunks done meanwhile.
func rate(ps []point) (float64, uint64) {
	if len(ps) < 2 {
		return 0, 0
	}
	first, last := ps[0], ps[len(ps)-1]
	dt := last.at.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0, 0
	}
	return float64(last.bytes-first.bytes) / dt, last.chunks - first.chunks
}

// workerRates returns each listed worker's bytes per second and chunks
// done over the last minute (or since it was first seen), by name.
func (h *history) workerRates() map[string]workerRate {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]workerRate, len(h.workers))
	for name, wh := range h.workers {
		bps, chunks := rate(wh.points)
		out[name] = workerRate{bytesPerSecond: bps, chunks: chunks}
	}
	return out
}

type workerRate struct {
	bytesPerSecond float64
	chunks         uint64
}

// departed returns the workers no longer listed, with when they went.
func (h *history) departed() []workerHistory {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []workerHistory
	for _, wh := range h.workers {
		if !wh.leftAt.IsZero() {
			out = append(out, workerHistory{last: wh.last, leftAt: wh.leftAt})
		}
	}
	return out
}

// jobRate returns a job's current bytes per second: over its last few
// seconds while it runs, over its whole life once it has ended.
func (h *history) jobRate(s coordinator.Snapshot) float64 {
	if s.State != coordinator.Running {
		if d := s.Finished.Sub(s.Created).Seconds(); d > 0 {
			return float64(s.Progress.BytesCounted) / d
		}
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	jh := h.jobs[s.ID]
	if jh == nil || len(jh.points) < 2 {
		return 0
	}
	ps := jh.points
	end := ps[len(ps)-1].at
	i := len(ps) - 2
	for i > 0 && end.Sub(ps[i].at) < recentWindow {
		i--
	}
	bps, _ := rate(ps[i:])
	return bps
}

// minStep is the shortest interval the chart shows a rate over: the
// interval between a job's last sample and its end can be milliseconds,
// whose rate says little.
const minStep = 500 * time.Millisecond

// throughput returns a job's rate between consecutive samples: when (since
// the job's creation) and how many bytes per second. An interval shorter
// than minStep is joined to the one before it.
func (h *history) throughput(id string) []ratePoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	jh := h.jobs[id]
	if jh == nil {
		return nil
	}
	var out []ratePoint
	start := jh.points[0].at
	from := jh.points[0] // where the last interval in out starts
	prev := jh.points[0]
	for _, b := range jh.points[1:] {
		if !b.at.After(prev.at) {
			continue
		}
		if b.at.Sub(prev.at) < minStep && len(out) > 0 {
			out = out[:len(out)-1] // extend the last interval to b
		} else {
			from = prev
		}
		out = append(out, ratePoint{AtSeconds: b.at.Sub(start).Seconds(), BytesPerSecond: float64(b.bytes-from.bytes) / b.at.Sub(from.at).Seconds()})
		prev = b
	}
	return out
}
