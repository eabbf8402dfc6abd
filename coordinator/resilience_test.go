package coordinator

// Resilience tests: jobs survive a changing cluster (workers that die, join,
// lag, leave, or crash on one chunk) and their counts stay exact. The workers
// are in-process fakes (a fleet of async links), so every fault is injected
// at a chosen moment, and a hook on the pool logs whose result each chunk's
// answer came from.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/client"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/worker"
)

// answerFunc is how a fake worker answers one task: it runs on a goroutine of
// its own and calls emit for each event, at its own pace (see newAsyncLink).
// dial numbers the worker's links from 1. It must return once ctx ends.
type answerFunc func(ctx context.Context, dial int, t task.Task, emit func(event) bool)

// fakeWorker is one fake worker process behind a fleet.
type fakeWorker struct {
	slots    int
	maxDials int // dials after this many are refused; 0 accepts all
	answer   answerFunc
}

// linkEvent is a task sent to a fake worker, or an event it delivered.
type linkEvent struct {
	addr    string
	dial    int
	sent    bool // a task sent to the worker; else an event the coordinator received
	job     string
	chunk   uint64
	attempt uint32
	err     error // the result's error, or the error that dropped the link
	at      time.Time
}

// fleet is a set of fake worker processes, by address, behind one task.Dialer
// (its dial method). Each dial opens a new async link. It logs every task
// sent and every event delivered. It is safe for concurrent use.
type fleet struct {
	engine *worker.Engine

	mu      sync.Mutex // guards workers, dials and log
	workers map[string]fakeWorker
	dials   map[string]int
	log     []linkEvent
}

func newFleet() *fleet {
	return &fleet{engine: worker.NewEngine(4), workers: map[string]fakeWorker{}, dials: map[string]int{}}
}

// add registers a fake worker at addr; call it before the coordinator dials addr.
func (f *fleet) add(addr string, slots, maxDials int, answer answerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.workers[addr] = fakeWorker{slots: slots, maxDials: maxDials, answer: answer}
}

func (f *fleet) record(e linkEvent) {
	e.at = time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, e)
}

// dial is the fleet's task.Dialer.
func (f *fleet) dial(ctx context.Context, addr string) (task.Link, error) {
	f.mu.Lock()
	w, ok := f.workers[addr]
	f.dials[addr]++
	n := f.dials[addr]
	f.mu.Unlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("no fake worker at %q", addr)
	case w.maxDials > 0 && n > w.maxDials:
		return nil, fmt.Errorf("fake worker %s is gone", addr)
	}
	l := newAsyncLink(w.slots, func(ctx context.Context, t task.Task, emit func(event) bool) {
		w.answer(ctx, n, t, func(e event) bool {
			if !emit(e) {
				return false
			}
			f.record(linkEvent{addr: addr, dial: n, job: e.r.JobID, chunk: e.r.ChunkID, attempt: e.r.Attempt, err: firstErr(e.r.Err, e.err)})
			return true
		})
	})
	l.name = addr // fake workers are named by their address
	send := l.SendFn
	l.SendFn = func(t task.Task) error {
		f.record(linkEvent{addr: addr, dial: n, sent: true, job: t.JobID, chunk: t.ChunkID, attempt: t.Attempt})
		return send(t)
	}
	return l, nil
}

// firstErr returns a if it is not nil, else b.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// events returns the logged events that keep accepts, in order.
func (f *fleet) events(keep func(linkEvent) bool) []linkEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []linkEvent
	for _, e := range f.log {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// sends returns the tasks of job sent to the worker at addr ("" for any worker).
func (f *fleet) sends(job, addr string) []linkEvent {
	return f.events(func(e linkEvent) bool { return e.sent && e.job == job && (addr == "" || e.addr == addr) })
}

// instant answers each task at once with the engine's result.
func (f *fleet) instant() answerFunc {
	return func(ctx context.Context, dial int, t task.Task, emit func(event) bool) {
		emit(event{r: f.engine.Process(context.Background(), t)})
	}
}

// after answers each task after d.
func (f *fleet) after(d time.Duration) answerFunc {
	return func(ctx context.Context, dial int, t task.Task, emit func(event) bool) {
		if sleepCtx(ctx, d) {
			emit(event{r: f.engine.Process(context.Background(), t)})
		}
	}
}

// heldUntil answers each task once gate is closed.
func (f *fleet) heldUntil(gate <-chan struct{}) answerFunc {
	return func(ctx context.Context, dial int, t task.Task, emit func(event) bool) {
		select {
		case <-gate:
			emit(event{r: f.engine.Process(context.Background(), t)})
		case <-ctx.Done():
		}
	}
}

// sleepCtx waits for d, or less if ctx ends first; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// delivery is one result the pool handed to a job.
type delivery struct {
	worker string
	job    string
	chunk  uint64
	failed bool // an error result
	merged bool // the job's chunks done went up: the result was merged
	at     time.Time
}

// mergeLog records every result the pool delivers to a job, and whether the
// job merged it. It is safe for concurrent use.
type mergeLog struct {
	mu      sync.Mutex // guards entries; held across each delivery, so that merged is exact
	entries []delivery
}

// hookMerges logs c's deliveries. Call it before the first worker is added:
// the sessions read pool.deliver.
func hookMerges(c *Coordinator) *mergeLog {
	l := &mergeLog{}
	deliver := c.pool.deliver
	c.pool.deliver = func(workerName string, t *unit, r task.Result) {
		l.mu.Lock()
		defer l.mu.Unlock()
		before := chunksDone(t.job)
		deliver(workerName, t, r)
		l.entries = append(l.entries, delivery{worker: workerName, job: t.job.id, chunk: t.id,
			failed: r.Err != nil, merged: chunksDone(t.job) > before, at: time.Now()})
	}
	return l
}

func chunksDone(j *job) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.progress.ChunksDone
}

// all returns the deliveries to job ("" for every job), in order.
func (l *mergeLog) all(job string) []delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []delivery
	for _, d := range l.entries {
		if job == "" || d.job == job {
			out = append(out, d)
		}
	}
	return out
}

// merged returns, for each chunk of job, the workers whose result was merged.
func (l *mergeLog) merged(job string) map[uint64][]string {
	out := map[uint64][]string{}
	for _, d := range l.all(job) {
		if d.merged {
			out[d.chunk] = append(out[d.chunk], d.worker)
		}
	}
	return out
}

// checkMergedOnce fails the test unless each of the job's n chunks was merged
// exactly once, and the job reports n chunks done.
func checkMergedOnce(tb testing.TB, l *mergeLog, cl *client.Client, job string, n int) {
	tb.Helper()
	m := l.merged(job)
	for id, ws := range m {
		if id >= uint64(n) || len(ws) != 1 {
			tb.Errorf("chunk %d: got it merged %d times (from %v), want once (the job has %d chunks)", id, len(ws), ws, n)
		}
	}
	if len(m) != n {
		tb.Errorf("got %d chunks merged, want %d", len(m), n)
	}
	if j := MustGetJob(tb, cl, job); j.GetProgress().GetChunksDone() != uint64(n) {
		tb.Errorf("got %d chunks done, want %d", j.GetProgress().GetChunksDone(), n)
	}
}

// MustResilient starts a coordinator whose workers are f's fakes (the test
// adds them: AddWorker(name, addr, ...)), a client for it, and a log of what
// its jobs merged. The drain is short, since fakes that hold answers would
// otherwise hold Close for the whole DrainTimeout.
func MustResilient(tb testing.TB, f *fleet, modify func(*Config)) (*Coordinator, *client.Client, *mergeLog) {
	tb.Helper()
	cfg := testConfig(tb)
	cfg.Dial = f.dial
	cfg.DrainTimeout = 250 * time.Millisecond
	if modify != nil {
		modify(&cfg)
	}
	c := MustStart(tb, cfg)
	l := hookMerges(c)
	return c, MustClient(tb, c), l
}

// MustGetJob returns the job's snapshot, with its result if it has one.
func MustGetJob(tb testing.TB, cl *client.Client, id string) *tallyv1.Job {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := cl.GetJob(ctx, id)
	if err != nil {
		tb.Fatalf("get job %s: %v", id, err)
	}
	return j
}

// startJob runs job in a goroutine and returns its id, found in ListJobs, and
// its outcome. Start one job at a time.
func startJob(tb testing.TB, ctx context.Context, cl *client.Client, job client.Job) (string, <-chan runResult) {
	tb.Helper()
	known := map[string]bool{}
	jobs, err := cl.Jobs(ctx)
	if err != nil {
		tb.Fatalf("list jobs: %v", err)
	}
	for _, j := range jobs {
		known[j.GetId()] = true
	}
	run := goRun(ctx, cl, job)
	var id string
	waitFor(tb, 10*time.Second, "the new job to be listed", func() bool {
		jobs, err := cl.Jobs(ctx)
		for _, j := range jobs {
			if err == nil && !known[j.GetId()] {
				id = j.GetId()
				return true
			}
		}
		return false
	})
	return id, run
}

// waitJob polls job id until cond holds.
func waitJob(tb testing.TB, cl *client.Client, id, what string, cond func(*tallyv1.Job) bool) *tallyv1.Job {
	tb.Helper()
	var got *tallyv1.Job
	waitFor(tb, 10*time.Second, what, func() bool {
		j, err := cl.GetJob(context.Background(), id)
		if err == nil && cond(j) {
			got = j
			return true
		}
		return false
	})
	return got
}

// resilDocs are about 20 KB of awkward text (CRLF, invalid UTF-8, empty and
// unterminated documents): some 300 chunks of faultChunk bytes.
func resilDocs(tb testing.TB) []doc {
	tb.Helper()
	gen := generatedText(1, 7)
	return append(faultDocs(tb), doc{"generated.txt", gen[:bytes.LastIndexByte(gen[:12<<10], '\n')+1]})
}

// chunkCount is how many chunks c cuts ds into for q at size.
func chunkCount(tb testing.TB, c *Coordinator, q query.Job, size int, ds []doc) int {
	tb.Helper()
	n := 0
	for _, d := range ds {
		n += len(cutChunks(tb, c, q, size, d.data))
	}
	return n
}

// cutChunks returns the chunks c cuts data into for q at size.
func cutChunks(tb testing.TB, c *Coordinator, q query.Job, size int, data []byte) []chunk.Chunk {
	tb.Helper()
	ccfg, err := c.chunkConfig(q, size)
	if err != nil {
		tb.Fatalf("chunk config: %v", err)
	}
	cr, err := chunk.NewReader(bytes.NewReader(data), ccfg)
	if err != nil {
		tb.Fatalf("chunk reader: %v", err)
	}
	var out []chunk.Chunk
	for ch, err := cr.Next(); err == nil; ch, err = cr.Next() {
		out = append(out, ch)
	}
	return out
}

// TestWorkerDiesMidJob breaks a worker's link while it holds chunks: they
// are counted by the live worker, exactly once, even when the dead worker's
// answers turn up late, after the chunks were sent again.
func TestWorkerDiesMidJob(t *testing.T) {
	q := countQ(query.Token, false, "the", "a", "Zen")
	ds := resilDocs(t)
	job := client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)}

	// dying holds the tasks of its first link; when it holds two, the link
	// drops. It returns them through held, and closes crashed after the drop.
	dying := func(held *[]task.Task, mu *sync.Mutex, crashed chan struct{}) func(ctx context.Context, t task.Task, emit func(event) bool) {
		return func(ctx context.Context, t task.Task, emit func(event) bool) {
			mu.Lock()
			*held = append(*held, t)
			n := len(*held)
			mu.Unlock()
			if n == 2 {
				emit(event{err: errors.New("connection reset by fake")})
				close(crashed)
			}
			<-ctx.Done()
		}
	}

	t.Run("held chunks go to the live worker", func(t *testing.T) {
		f := newFleet()
		crashed := make(chan struct{})
		var mu sync.Mutex
		var held []task.Task
		// Live holds its first answers until the crash, so that dying surely gets two chunks.
		f.add("live", 2, 0, f.heldUntil(crashed))
		die := dying(&held, &mu, crashed)
		f.add("dying", 2, 1, func(ctx context.Context, dial int, t task.Task, emit func(event) bool) { die(ctx, t, emit) })
		c, cl, ml := MustResilient(t, f, nil)
		c.AddWorker("live", "live", 2)
		c.AddWorker("dying", "dying", 2)
		waitFor(t, 10*time.Second, "both workers ready", func() bool { return c.pool.ready() == 2 })

		res := MustRun(t, testCtx(t, 20*time.Second), cl, job)
		checkExact(t, res, q, ds)
		checkMergedOnce(t, ml, cl, res.JobID, chunkCount(t, c, q, faultChunk, ds))
		merged := ml.merged(res.JobID)
		lost := f.sends(res.JobID, "dying")
		if len(lost) != 2 {
			t.Errorf("got %d tasks sent to the dying worker, want 2", len(lost))
		}
		for _, e := range lost {
			if ws := merged[e.chunk]; len(ws) != 1 || ws[0] != "live" {
				t.Errorf("chunk %d was on the dying worker's link: got it merged from %v, want from live", e.chunk, ws)
			}
		}
	})

	t.Run("late answers after the chunks were sent again", func(t *testing.T) {
		// The dying worker comes back. Its new link first delivers the
		// answers to the chunks the old link held, once those chunks were
		// sent to another link; live holds its first answers until then, so
		// that the old chunks are surely still wanted.
		f := newFleet()
		crashed, back := make(chan struct{}), make(chan struct{})
		var backOnce sync.Once
		var mu sync.Mutex
		var held []task.Task
		f.add("live", 2, 0, f.heldUntil(back))
		die := dying(&held, &mu, crashed)
		f.add("dying", 2, 0, func(ctx context.Context, dial int, t task.Task, emit func(event) bool) {
			if dial == 1 {
				die(ctx, t, emit)
				return
			}
			backOnce.Do(func() {
				close(back)
				mu.Lock()
				old := append([]task.Task(nil), held...)
				mu.Unlock()
				for _, o := range old {
					for len(f.events(func(e linkEvent) bool {
						return e.sent && e.job == o.JobID && e.chunk == o.ChunkID && (e.addr != "dying" || e.dial != 1)
					})) == 0 {
						if !sleepCtx(ctx, time.Millisecond) {
							return
						}
					}
					if !emit(event{r: f.engine.Process(context.Background(), o)}) {
						return
					}
				}
			})
			f.instant()(ctx, dial, t, emit)
		})
		c, cl, ml := MustResilient(t, f, nil)
		c.AddWorker("live", "live", 2)
		c.AddWorker("dying", "dying", 2)
		waitFor(t, 10*time.Second, "both workers ready", func() bool { return c.pool.ready() == 2 })

		res := MustRun(t, testCtx(t, 20*time.Second), cl, job)
		checkExact(t, res, q, ds)
		checkMergedOnce(t, ml, cl, res.JobID, chunkCount(t, c, q, faultChunk, ds))
		mu.Lock()
		old := append([]task.Task(nil), held...)
		mu.Unlock()
		for _, o := range old {
			late := f.events(func(e linkEvent) bool {
				return !e.sent && e.addr == "dying" && e.dial > 1 && e.job == o.JobID && e.chunk == o.ChunkID && e.attempt == o.Attempt
			})
			if len(late) != 1 {
				t.Errorf("chunk %d: got %d late answers from the old link delivered, want 1", o.ChunkID, len(late))
			}
		}
	})

	t.Run("every answer twice, the second late, and a link drop", func(t *testing.T) {
		f := newFleet()
		twice := func(ctx context.Context, dial int, t task.Task, emit func(event) bool) {
			r := f.engine.Process(context.Background(), t)
			if emit(event{r: r}) && sleepCtx(ctx, 10*time.Millisecond) {
				emit(event{r: r})
			}
		}
		var w1Tasks atomic.Int32
		f.add("w1", 2, 0, func(ctx context.Context, dial int, t task.Task, emit func(event) bool) {
			// The first link answers ten tasks, holds the next, and drops with the one after.
			if dial == 1 {
				switch n := w1Tasks.Add(1); {
				case n == 11:
					<-ctx.Done()
					return
				case n == 12:
					emit(event{err: errors.New("connection reset by fake")})
					return
				}
			}
			twice(ctx, dial, t, emit)
		})
		f.add("w2", 2, 0, twice)
		c, cl, ml := MustResilient(t, f, nil)
		c.AddWorker("w1", "w1", 2)
		c.AddWorker("w2", "w2", 2)
		waitFor(t, 10*time.Second, "both workers ready", func() bool { return c.pool.ready() == 2 })

		res := MustRun(t, testCtx(t, 20*time.Second), cl, job)
		checkExact(t, res, q, ds)
		checkMergedOnce(t, ml, cl, res.JobID, chunkCount(t, c, q, faultChunk, ds))
		drops := f.events(func(e linkEvent) bool { return !e.sent && e.addr == "w1" && e.dial == 1 && e.err != nil })
		if len(drops) != 1 {
			t.Errorf("got %d link drops, want 1", len(drops))
		}
	})
}

// TestWorkerJoinsMidJob adds a worker while a job runs on a slow one: the new
// worker takes chunks, and the answer is exact.
func TestWorkerJoinsMidJob(t *testing.T) {
	f := newFleet()
	f.add("slow", 1, 0, f.after(10*time.Millisecond))
	f.add("fast", 2, 0, f.instant())
	c, cl, ml := MustResilient(t, f, nil)
	c.AddWorker("slow", "slow", 1)
	ctx := testCtx(t, 30*time.Second)
	q := topQ(false, true, 20)
	ds := resilDocs(t)
	id, run := startJob(t, ctx, cl, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)})
	// About 300 chunks at 10 ms each: the job has seconds to go.
	waitJob(t, cl, id, "the slow worker to count a few chunks", func(j *tallyv1.Job) bool {
		return j.GetProgress().GetChunksDone() >= 3 && j.GetState() == tallyv1.JobState_JOB_STATE_RUNNING
	})
	c.AddWorker("fast", "fast", 2)

	r := <-run
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	checkExact(t, r.res, q, ds)
	checkMergedOnce(t, ml, cl, id, chunkCount(t, c, q, faultChunk, ds))
	if r.res.Workers != 2 {
		t.Errorf("got %d workers in the result, want 2", r.res.Workers)
	}
	ws, err := cl.Workers(ctx)
	if err != nil {
		t.Fatalf("list workers: %v", err)
	}
	var fastDone uint64
	for _, w := range ws.GetWorkers() {
		if w.GetName() == "fast" {
			fastDone = w.GetChunksDone()
		}
	}
	if fastDone == 0 {
		t.Errorf("worker fast: got %d chunks done in %v, want some", fastDone, ws.GetWorkers())
	}
	fast := 0
	for _, by := range ml.merged(id) {
		if by[0] == "fast" {
			fast++
		}
	}
	if fast == 0 {
		t.Errorf("got no chunk merged from the worker that joined, want some")
	}
}

// TestStragglers has one worker answer each chunk only after slowDelay and
// another at once: backups on the fast worker finish the job long before the
// slow one could have answered.
func TestStragglers(t *testing.T) {
	const slowDelay = 3 * time.Second
	f := newFleet()
	f.add("slow", 1, 0, f.after(slowDelay))
	f.add("fast", 2, 0, f.instant())
	// A short drain: Close does not wait for the slow worker's answers.
	c, cl, ml := MustResilient(t, f, func(c *Config) { c.DrainTimeout = 100 * time.Millisecond })
	c.AddWorker("slow", "slow", 1)
	c.AddWorker("fast", "fast", 2)
	waitFor(t, 10*time.Second, "both workers ready", func() bool { return c.pool.ready() == 2 })

	q := countQ(query.Word, true, "the", "zen", "é")
	ds := resilDocs(t)
	start := time.Now()
	res := MustRun(t, testCtx(t, 30*time.Second), cl, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)})
	elapsed := time.Since(start)
	checkExact(t, res, q, ds)
	checkMergedOnce(t, ml, cl, res.JobID, chunkCount(t, c, q, faultChunk, ds))

	slow := f.sends(res.JobID, "slow")
	if len(slow) == 0 {
		t.Fatalf("got no chunk sent to the slow worker, want at least one")
	}
	merged := ml.merged(res.JobID)
	backedUp := 0
	for _, e := range slow {
		if by := merged[e.chunk]; len(by) == 1 && by[0] == "fast" {
			backedUp++
		}
	}
	if backedUp == 0 {
		t.Errorf("none of the %d chunks the slow worker took was merged from the fast worker's backup, want some", len(slow))
	}
	// Waiting for the slow worker would take slowDelay per chunk it took.
	if limit := slowDelay * time.Duration(len(slow)); elapsed >= limit {
		t.Errorf("job took %v, want less than %v (the slow worker's time for its %d chunks)", elapsed, limit, len(slow))
	}
	t.Logf("job took %v; the slow worker took %d chunks, %d merged from a backup", elapsed, len(slow), backedUp)
}
