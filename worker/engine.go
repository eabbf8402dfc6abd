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

	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
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

	// maxMatcher bounds the memory of one program's matcher, and of the
	// programs cached, as count.MatcherBytes estimates them; 0 is no bound.
	maxMatcher int64
	// maxTop bounds the frequency table of one task; 0 is no bound.
	maxTop int64

	mu       sync.Mutex // guards programs, order and cached
	programs map[string]*compiled
	order    []string // insertion order, for eviction
	cached   int64    // the estimated bytes of the programs in programs

	buffers sync.Pool // *[]byte: buffers for reading refs, one per thread at a time
}

// NewEngine returns an Engine running threads tasks at once; threads <= 0 means GOMAXPROCS.
func NewEngine(threads int) *Engine {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Engine{threads: threads, sem: make(chan struct{}, threads), programs: map[string]*compiled{}}
}

// compiled is a program in the cache: ready is closed once p or err is set,
// so that the threads counting a job's first chunks wait for one compile
// instead of each building the same matcher at once.
type compiled struct {
	ready chan struct{}
	p     *count.Program
	err   error
	size  int64 // estimated bytes
}

// SetMaxMatcher makes the engine refuse a task whose matcher would take
// more than limit bytes (as count.MatcherBytes estimates it), with an
// error that wraps task.ErrMemory, and keep the cached programs' matchers
// within it too; call it before use. 0 sets no bound.
func (e *Engine) SetMaxMatcher(limit int64) { e.maxMatcher = limit }

// SetMaxTop makes the engine refuse a top task whose frequency table would
// grow beyond limit bytes, with an error that wraps task.ErrMemory; call
// it before use. 0 sets no bound.
func (e *Engine) SetMaxTop(limit int64) { e.maxTop = limit }

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
	p := prog.RunLimited(data, e.maxTop)
	if p.Freq.Over() {
		p.Freq.Release()
		return count.Partial{}, e.tableError()
	}
	if e.faults.Throttle > 0 {
		time.Sleep(time.Until(start.Add(time.Duration(float64(len(data)) / float64(e.faults.Throttle) * float64(time.Second)))))
	}
	return p, nil
}

// tableError is the refusal of a chunk or split whose frequency table
// would be above the engine's budget.
func (e *Engine) tableError() error {
	return task.MemoryError(fmt.Sprintf("the frequency table of a chunk would take more than %s, the worker's --max-top-memory; "+
		"count fewer distinct tokens, or in smaller chunks", count.FormatBytes(e.maxTop)))
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
	c, ok := e.programs[key]
	if ok {
		e.mu.Unlock()
		<-c.ready
		return c.p, c.err
	}
	var size int64
	if q := t.Query.Spec.Count; q != nil {
		size = count.MatcherBytes(*q)
	}
	if err := count.CheckMatcher(t.Query.Spec, e.maxMatcher); err != nil {
		e.mu.Unlock()
		return nil, task.MemoryError(err.Error() + " (the worker's --max-matcher-memory)")
	}
	c = &compiled{ready: make(chan struct{}), size: size}
	e.evictLocked(size)
	e.programs[key] = c
	e.order = append(e.order, key)
	e.cached += size
	e.mu.Unlock()

	c.p, c.err = count.Compile(t.Query.Spec)
	close(c.ready)
	if c.err != nil {
		e.mu.Lock()
		e.forgetLocked(key)
		e.mu.Unlock()
	}
	return c.p, c.err
}

// evictLocked forgets the oldest programs until one more of size bytes
// fits the cache's count and memory. A program still in use by a thread
// stays alive with it. e.mu is held.
func (e *Engine) evictLocked(size int64) {
	for len(e.order) > 0 && (len(e.order) >= programCacheSize || e.maxMatcher > 0 && e.cached+size > e.maxMatcher) {
		e.forgetLocked(e.order[0])
	}
}

// forgetLocked drops key from the cache. e.mu is held.
func (e *Engine) forgetLocked(key string) {
	c, ok := e.programs[key]
	if !ok {
		return
	}
	delete(e.programs, key)
	e.cached -= c.size
	for i, k := range e.order {
		if k == key {
			e.order = append(e.order[:i], e.order[i+1:]...)
			break
		}
	}
}

// specKey is an unambiguous string form of a spec (targets are length-prefixed).
func specKey(s query.Spec) string {
	var b strings.Builder
	// Every field of the spec that changes the program is in the key:
	// Stats too, or a job with statistics would get a program without them
	// and report 0 lines and 0 tokens.
	fmt.Fprintf(&b, "stats=%t/", s.Stats)
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
