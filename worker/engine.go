// Package worker counts tasks for the coordinator: an Engine spreads them
// over the machine's cores and reads the byte ranges that tasks name from
// their stores, a Server offers the Engine over gRPC as WorkerService, the
// Dialers are the coordinator's side of it (over gRPC, or in process), and a
// Worker joins the cluster so the coordinator finds it.
package worker

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"tally/count"
	"tally/metrics"
	"tally/source"
	"tally/task"
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
	storage task.Storage     // what open reads
	open    source.Opener    // nil: the engine reads no refs

	mu       sync.Mutex // guards programs and order
	programs map[string]*count.Program
	order    []string // insertion order, for eviction

	buffers sync.Pool // *[]byte: buffers for reading refs, one per thread at a time
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

// SetStorage lets the engine read the refs that s says it can, through
// open; call it before use. Without it the engine counts only chunks.
func (e *Engine) SetStorage(s task.Storage, open source.Opener) { e.storage, e.open = s, open }

// Storage is what the engine reads by reference.
func (e *Engine) Storage() task.Storage { return e.storage }

// Threads is how many tasks the Engine runs at once.
func (e *Engine) Threads() int { return e.threads }

// Process counts one task, waiting for a free thread first. A task with a
// Ref is read here, from its store; ctx bounds that reading.
func (e *Engine) Process(ctx context.Context, t task.Task) task.Result {
	e.sem <- struct{}{}
	defer func() { <-e.sem }()
	e.metrics.AddInFlight(1)
	defer e.metrics.AddInFlight(-1)
	res := task.Result{JobID: t.JobID, ChunkID: t.ChunkID, Attempt: t.Attempt}
	prog, err := e.program(t)
	if err != nil {
		res.Err = fmt.Errorf("compile job %s: %w", t.JobID, err)
		e.metrics.Counted(0, res.Err)
		return res
	}
	if t.Ref != nil {
		res.Partial, res.Err = e.readRef(ctx, prog, *t.Ref)
		e.metrics.Counted(int(res.Partial.Stats.Bytes), res.Err)
		return res
	}
	res.Partial, res.Err = e.count(prog, t.Data)
	e.metrics.Counted(len(t.Data), res.Err)
	return res
}

// count runs prog over data, as the faults say.
func (e *Engine) count(prog *count.Program, data []byte) (count.Partial, error) {
	if err := e.injectFaults(data); err != nil {
		return count.Partial{}, err
	}
	start := time.Now()
	p := prog.Run(data)
	if e.faults.Throttle > 0 {
		time.Sleep(time.Until(start.Add(time.Duration(float64(len(data)) / float64(e.faults.Throttle) * float64(time.Second)))))
	}
	return p, nil
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
func (e *Engine) program(t task.Task) (*count.Program, error) {
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
