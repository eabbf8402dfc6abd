// Package worker counts chunks of text for the coordinator: an Engine spreads
// chunks over the machine's cores, a Server offers the Engine over gRPC as
// WorkerService, and a Worker joins the cluster so the coordinator finds it.
package worker

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"tally/count"
	"tally/metrics"
)

// programCacheSize bounds the compiled programs kept between chunks; a job's
// chunks reuse one program, so a few entries cover the jobs running at once.
const programCacheSize = 64

// Faults make an Engine misbehave on purpose, for tests of the cluster's
// fault handling (a straggler, a poison chunk). The zero value is a healthy engine.
type Faults struct {
	// Throttle slows each thread to this many bytes per second; 0 is full speed.
	Throttle int
	// FailOn answers every chunk that contains this text with an error.
	FailOn string
	// CrashOn exits the process (status 3) on a chunk that contains this text.
	CrashOn string
}

// Engine counts tasks, at most Threads at a time. It is safe for concurrent use.
type Engine struct {
	threads int
	sem     chan struct{}
	faults  Faults
	metrics *metrics.Metrics // may be nil

	mu       sync.Mutex // guards programs and order
	programs map[string]*count.Program
	order    []string // insertion order, for eviction

	buffers sync.Pool // *[]byte: buffers for tasks that Read their bytes
}

// NewEngine returns an Engine running threads tasks at once; threads <= 0 means GOMAXPROCS.
func NewEngine(threads int) *Engine {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Engine{threads: threads, sem: make(chan struct{}, threads), programs: map[string]*count.Program{}}
}

// SetMetrics records the engine's work in m; call it before use.
func (e *Engine) SetMetrics(m *metrics.Metrics) { e.metrics = m }

// SetFaults makes the engine misbehave as f says; call it before use.
func (e *Engine) SetFaults(f Faults) { e.faults = f }

// Threads is how many tasks the Engine runs at once.
func (e *Engine) Threads() int { return e.threads }

// Process counts one task, waiting for a free thread first.
func (e *Engine) Process(t Task) Result {
	e.sem <- struct{}{}
	defer func() { <-e.sem }()
	e.metrics.AddInFlight(1)
	defer e.metrics.AddInFlight(-1)
	res := Result{JobID: t.JobID, ChunkID: t.ChunkID, Attempt: t.Attempt}
	data := t.Data
	defer func() { e.metrics.Counted(len(data), res.Err) }()
	prog, err := e.program(t)
	if err != nil {
		res.Err = fmt.Errorf("compile job %s: %w", t.JobID, err)
		return res
	}
	if data == nil && t.Read != nil {
		buf, _ := e.buffers.Get().(*[]byte)
		if buf == nil {
			buf = new([]byte)
		}
		defer e.buffers.Put(buf)
		if data, *buf, err = t.Read(*buf); err != nil {
			res.Err = err
			return res
		}
	}
	if err := e.injectFaults(data); err != nil {
		res.Err = err
		return res
	}
	start := time.Now()
	res.Partial = prog.Run(data)
	if e.faults.Throttle > 0 {
		time.Sleep(time.Until(start.Add(time.Duration(float64(len(data)) / float64(e.faults.Throttle) * float64(time.Second)))))
	}
	return res
}

// injectFaults applies FailOn and CrashOn to a chunk.
func (e *Engine) injectFaults(data []byte) error {
	f := e.faults
	if f.CrashOn != "" && bytes.Contains(data, []byte(f.CrashOn)) {
		fmt.Fprintf(os.Stderr, "worker: crashing on purpose: chunk contains %q\n", f.CrashOn)
		os.Exit(3)
	}
	if f.FailOn != "" && bytes.Contains(data, []byte(f.FailOn)) {
		return fmt.Errorf("failing on purpose: chunk contains %q", f.FailOn)
	}
	return nil
}

// program returns the compiled program for the task's spec, compiling it once.
// The cache is keyed by the spec itself, not the job id, so two coordinators that
// happen to reuse an id can never share a program.
func (e *Engine) program(t Task) (*count.Program, error) {
	key := specKey(t.Query.Spec)
	e.mu.Lock()
	p, ok := e.programs[key]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := count.Compile(t.Query.Spec)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.programs[key]; !ok {
		if len(e.order) >= programCacheSize {
			delete(e.programs, e.order[0])
			e.order = e.order[1:]
		}
		e.programs[key] = p
		e.order = append(e.order, key)
	}
	return p, nil
}

// specKey is an unambiguous string form of a spec (targets are length-prefixed).
func specKey(s count.Spec) string {
	var b strings.Builder
	switch {
	case s.Count != nil:
		fmt.Fprintf(&b, "count/%d/%t", s.Count.Mode, s.Count.IgnoreCase)
		for _, t := range s.Count.Targets {
			fmt.Fprintf(&b, "/%d:%s", len(t), t)
		}
	case s.Top != nil:
		fmt.Fprintf(&b, "top/%t/%t", s.Top.WordsOnly, s.Top.Lower)
	}
	return b.String()
}
