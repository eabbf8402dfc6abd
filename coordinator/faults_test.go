package coordinator

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/count"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/worker"
)

// faultDocs are small documents that make a few hundred chunks at faultChunk.
func faultDocs(tb testing.TB) []doc {
	tb.Helper()
	return append(MustReadDocs(tb, "zen.txt", "gen-crlf.txt", "gen-invalid.txt", "gen-nofinalnl.txt", "gen-empty.txt"),
		doc{"inline.txt", []byte("the cat the hat\nno final newline the")})
}

const faultChunk = 64

// MustFaultCoordinator starts a coordinator whose workers are the fakes in
// workers (name = address), and a client for it.
func MustFaultCoordinator(tb testing.TB, workers map[string]func() (task.Link, error), modify func(*Config)) (*Coordinator, *client.Client) {
	tb.Helper()
	cfg := testConfig(tb)
	cfg.Dial = fakeDialer(workers)
	if modify != nil {
		modify(&cfg)
	}
	c := MustStart(tb, cfg)
	for name := range workers {
		c.AddWorker(name, name, 2)
	}
	return c, MustClient(tb, c)
}

// TestExactlyOnceMerge runs jobs on fake workers that duplicate, lose or fail
// answers, and checks that the totals are still exactly one pass's.
func TestExactlyOnceMerge(t *testing.T) {
	engine := worker.NewEngine(4)
	queries := map[string]query.Job{
		"count": countQ(query.Token, false, "the", "a", "Zen"),
		"top":   topQ(false, true, 0),
	}
	for qname, q := range queries {
		t.Run(qname, func(t *testing.T) {
			t.Run("every result twice", func(t *testing.T) {
				log := &answerLog{}
				dup := func(r task.Result) []event { return []event{{r: r}, {r: r}} }
				workers := map[string]func() (task.Link, error){}
				for _, name := range []string{"dup-1", "dup-2"} {
					workers[name] = func() (task.Link, error) {
						return newScriptedLink(2, countingScript(name, engine, log, dup)), nil
					}
				}
				_, cl := MustFaultCoordinator(t, workers, nil)
				ds := faultDocs(t)
				res := MustRun(t, testCtx(t, 20*time.Second), cl, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)})
				checkExact(t, res, q, ds)
				if n := len(log.all()); n < 20 {
					t.Errorf("got %d answers, want at least 20 (each chunk twice)", n)
				}
			})

			t.Run("answer then drop the link", func(t *testing.T) {
				// Each link of "flaky" answers one task, then counts the next
				// but drops the link before the answer gets out: that chunk is
				// requeued and answered again, by "steady" or a new link.
				// Steady holds its first task until flaky has dropped a link,
				// so that flaky surely gets two tasks.
				log := &answerLog{}
				dropped := make(chan struct{})
				var dropOnce sync.Once
				drop := func() { dropOnce.Do(func() { close(dropped) }) }
				var steadyStarted atomic.Bool
				workers := map[string]func() (task.Link, error){
					"steady": func() (task.Link, error) {
						return newScriptedLink(1, countingScript("steady", engine, log, func(r task.Result) []event {
							if steadyStarted.CompareAndSwap(false, true) {
								<-dropped
							}
							return deliver(r)
						})), nil
					},
					"flaky": func() (task.Link, error) {
						var n atomic.Int32
						return newScriptedLink(2, countingScript("flaky", engine, log, func(r task.Result) []event {
							if n.Add(1) == 1 {
								return deliver(r)
							}
							drop()
							return []event{{err: errors.New("connection reset by fake")}}
						})), nil
					},
				}
				_, cl := MustFaultCoordinator(t, workers, func(c *Config) { c.MaxAttempts = 100 })
				t.Cleanup(drop) // before the coordinator closes: steady may wait in Send
				ds := faultDocs(t)
				res := MustRun(t, testCtx(t, 20*time.Second), cl, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)})
				checkExact(t, res, q, ds)
				lost, again := lostAndAnswered(log.all())
				if lost == 0 || again != lost {
					t.Errorf("got %d chunks lost with a link and %d of them answered later, want some, all answered", lost, again)
				}
			})
		})
	}
}

// lostAndAnswered counts the chunks whose answer was lost with a link, and of
// those the ones answered on a later attempt.
func lostAndAnswered(as []answer) (lost, again int) {
	type key struct {
		job   string
		chunk uint64
	}
	lostAt := map[key]uint32{}
	for _, a := range as {
		if a.lost {
			lostAt[key{a.task.JobID, a.task.ChunkID}] = a.task.Attempt
		}
	}
	for _, a := range as {
		k := key{a.task.JobID, a.task.ChunkID}
		if at, ok := lostAt[k]; ok && !a.lost && a.err == nil && a.task.Attempt > at {
			again++
			delete(lostAt, k)
		}
	}
	return again + len(lostAt), again
}

// TestRetryAfterErrorResult has one worker answer its first task with an error
// and then leave; the chunk must be counted again by the other worker. The
// good worker holds its first task until the bad one has failed, so that the
// bad one surely gets a task.
func TestRetryAfterErrorResult(t *testing.T) {
	engine := worker.NewEngine(4)
	q := countQ(query.Substring, false, "the", "e ")
	log := &answerLog{}
	var badDials atomic.Int32
	failedCh := make(chan struct{})
	var failOnce sync.Once
	fail := func() bool {
		first := false
		failOnce.Do(func() { first = true; close(failedCh) })
		return first
	}
	var goodStarted atomic.Bool
	workers := map[string]func() (task.Link, error){
		"good": func() (task.Link, error) {
			return newScriptedLink(2, countingScript("good", engine, log, func(r task.Result) []event {
				if goodStarted.CompareAndSwap(false, true) {
					<-failedCh
				}
				return deliver(r)
			})), nil
		},
		"bad": func() (task.Link, error) {
			if badDials.Add(1) > 1 {
				return nil, errors.New("bad worker is gone")
			}
			return newScriptedLink(2, countingScript("bad", engine, log, func(r task.Result) []event {
				if fail() {
					r.Partial, r.Err = count.Partial{}, errors.New("disk on fire")
					return []event{{r: r}, {err: errors.New("bad worker left")}}
				}
				return deliver(r)
			})), nil
		},
	}
	_, cl := MustFaultCoordinator(t, workers, nil)
	t.Cleanup(func() { fail() }) // before the coordinator closes: good may wait in Send
	ds := faultDocs(t)
	res := MustRun(t, testCtx(t, 20*time.Second), cl, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)})
	checkExact(t, res, q, ds)

	var errChunk *answer
	as := log.all()
	for i := range as {
		if as[i].err != nil {
			errChunk = &as[i]
		}
	}
	if errChunk == nil {
		t.Fatalf("got no error answer, want the bad worker's one")
	}
	var by []string
	for _, a := range as {
		if a.task.ChunkID == errChunk.task.ChunkID && a.err == nil && !a.lost {
			by = append(by, fmt.Sprintf("%s (attempt %d)", a.worker, a.task.Attempt))
		}
	}
	if len(by) != 1 || !strings.HasPrefix(by[0], "good") {
		t.Errorf("chunk %d failed on bad: got it answered by %v, want once by good", errChunk.task.ChunkID, by)
	}
}

// TestRetryErrorOnceStays has one of two workers fail one result and stay
// connected: the job is still exact, the chunk took a second attempt, and
// that attempt went to the other worker, since both were ready.
func TestRetryErrorOnceStays(t *testing.T) {
	engine := worker.NewEngine(4)
	q := topQ(true, false, 25)
	log := &answerLog{}
	var failed atomic.Bool
	once := func(r task.Result) []event {
		if failed.CompareAndSwap(false, true) {
			r.Partial, r.Err = count.Partial{}, errors.New("transient")
		}
		return deliver(r)
	}
	workers := map[string]func() (task.Link, error){
		"w1": func() (task.Link, error) { return newScriptedLink(1, countingScript("w1", engine, log, once)), nil },
		"w2": func() (task.Link, error) { return newScriptedLink(1, countingScript("w2", engine, log, once)), nil },
	}
	c, cl := MustFaultCoordinator(t, workers, nil)
	waitFor(t, 10*time.Second, "both workers ready", func() bool { return c.pool.ready() == 2 })
	ds := faultDocs(t)
	res := MustRun(t, testCtx(t, 20*time.Second), cl, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)})
	checkExact(t, res, q, ds)

	as := log.all()
	var bad *answer
	for i := range as {
		if as[i].err != nil {
			bad = &as[i]
		}
	}
	if bad == nil {
		t.Fatalf("got no error answer, want one")
	}
	if bad.task.Attempt != 1 {
		t.Errorf("error answer on attempt %d, want on attempt 1", bad.task.Attempt)
	}
	for _, a := range as {
		if a.task.ChunkID == bad.task.ChunkID && a.err == nil {
			if a.worker == bad.worker || a.task.Attempt != 2 {
				t.Errorf("chunk %d failed on %s: got it answered by %s on attempt %d, want by the other worker on attempt 2",
					bad.task.ChunkID, bad.worker, a.worker, a.task.Attempt)
			}
		}
	}
}

// TestChunkFailsEveryAttempt has every worker fail the chunk that holds a
// poison line: after MaxAttempts attempts the job fails with an error that
// names the document and the chunk's byte offset.
func TestChunkFailsEveryAttempt(t *testing.T) {
	engine := worker.NewEngine(4)
	q := countQ(query.Word, false, "the")
	log := &answerLog{}
	poison := func(r task.Result, t task.Task) []event {
		if bytes.Contains(t.Data, []byte("POISON")) {
			r.Partial, r.Err = count.Partial{}, errors.New("cannot count poison")
		}
		return deliver(r)
	}
	workers := map[string]func() (task.Link, error){}
	for _, name := range []string{"w1", "w2"} {
		workers[name] = func() (task.Link, error) {
			return newScriptedLink(2, func(t task.Task) []event {
				return countingScript(name, engine, log, func(r task.Result) []event { return poison(r, t) })(t)
			}), nil
		}
	}
	const attempts = 3
	c, cl := MustFaultCoordinator(t, workers, func(c *Config) { c.MaxAttempts = attempts })
	// The poison line ends the last document, so the job fails only after
	// its upload is over (a job that ended while its upload was still being
	// cut used to crash the coordinator: see TestBugJobEndsWhileChunking).
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "line %d of the document\n", i)
	}
	b.WriteString("a POISON line\n")
	ds := []doc{{"a.txt", []byte("the first document\n")}, {"b.txt", []byte(b.String())}}
	ctx := testCtx(t, 20*time.Second)
	_, err := cl.Run(ctx, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)}, nil)
	wantCode(t, err, codes.Aborted)

	// The chunk the coordinator cuts around the poison line, and its offset.
	ccfg, cerr := c.chunkConfig(q, faultChunk)
	if cerr != nil {
		t.Fatalf("chunk config: %v", cerr)
	}
	cr, cerr := chunk.NewReader(bytes.NewReader(ds[1].data), ccfg)
	if cerr != nil {
		t.Fatalf("chunk reader: %v", cerr)
	}
	offset := int64(-1)
	for ch, err := cr.Next(); err == nil; ch, err = cr.Next() {
		if bytes.Contains(ch.Data, []byte("POISON")) {
			offset = ch.Offset
		}
	}
	for _, want := range []string{`document "b.txt"`, fmt.Sprintf("byte offset %d", offset), fmt.Sprintf("failed %d times", attempts), "cannot count poison"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got error %q, want it to contain %q", err, want)
		}
	}

	var tries []uint32
	for _, a := range log.all() {
		if a.err != nil {
			tries = append(tries, a.task.Attempt)
		}
	}
	if len(tries) != attempts || tries[len(tries)-1] != attempts {
		t.Errorf("got poison chunk attempts %v, want 1..%d", tries, attempts)
	}

	jobs, err := cl.Jobs(ctx)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("list jobs: got %d jobs, err %v; want 1", len(jobs), err)
	}
	if jobs[0].GetState() != tallyv1.JobState_JOB_STATE_FAILED || !strings.Contains(jobs[0].GetError(), `document "b.txt"`) {
		t.Errorf("got job state %v error %q, want FAILED naming b.txt", jobs[0].GetState(), jobs[0].GetError())
	}
}

// TestJobCompleteDedupes drives the merge directly: a chunk's result merged
// twice, a result for no chunk, and a late error all leave the totals exact.
func TestJobCompleteDedupes(t *testing.T) {
	q := countQ(query.Token, false, "the", "cat")
	data := []byte("the cat sat\non the mat\nthe end")
	p := MustCompile(t, q.Spec)
	j := newJob(t.Context(), "j1", q, 8, 3)
	d := j.addDocument("d.txt", int64(len(data)))
	cuts := []int{0, 12, 23, len(data)}
	var tasks []*unit
	for i := range len(cuts) - 1 {
		if err := j.acquire(); err != nil {
			t.Fatalf("acquire window: %v", err)
		}
		tk, err := j.addTask(d, chunk.Chunk{Offset: int64(cuts[i]), Data: data[cuts[i]:cuts[i+1]]})
		if err != nil {
			t.Fatalf("add task: %v", err)
		}
		tasks = append(tasks, tk)
	}
	result := func(tk *unit) task.Result {
		wt := tk.workerTask()
		return task.Result{JobID: wt.JobID, ChunkID: wt.ChunkID, Attempt: wt.Attempt, Partial: p.Run(tk.data)}
	}
	r0 := result(tasks[0])
	if retry := j.complete("w1", r0); retry != nil {
		t.Errorf("first result: got retry of chunk %d, want none", retry.id)
	}
	if retry := j.complete("w2", r0); retry != nil {
		t.Errorf("duplicate result: got retry of chunk %d, want none", retry.id)
	}
	if retry := j.complete("w1", task.Result{JobID: "j1", ChunkID: 99, Partial: p.Run([]byte("the the\n"))}); retry != nil {
		t.Errorf("result for no chunk: got a retry, want none")
	}
	if retry := j.complete("w1", task.Result{JobID: "j1", ChunkID: r0.ChunkID, Err: errors.New("late")}); retry != nil {
		t.Errorf("late error for a merged chunk: got a retry, want none")
	}
	j.complete("w1", result(tasks[1]))
	j.complete("w1", result(tasks[2]))
	j.uploadDone()

	snap := jobToProto(j.snapshot(true), false)
	if snap.GetState() != tallyv1.JobState_JOB_STATE_SUCCEEDED {
		t.Fatalf("got state %v (error %q), want SUCCEEDED", snap.GetState(), snap.GetError())
	}
	got, err := client.ResultFromProto("j1", snap.GetResult())
	if err != nil {
		t.Fatal(err)
	}
	checkExact(t, got, q, []doc{{"d.txt", data}})
	if got.Workers != 1 {
		t.Errorf("got %d workers, want 1 (w2's duplicate was not merged)", got.Workers)
	}
	if n := snap.GetProgress().GetChunksDone(); n != 3 {
		t.Errorf("got %d chunks done, want 3", n)
	}
}

// TestJobCompleteRetries checks the retry budget of one chunk: an error
// result is retried until MaxAttempts dispatches, then the job fails.
func TestJobCompleteRetries(t *testing.T) {
	q := countQ(query.Token, false, "x")
	j := newJob(t.Context(), "j2", q, 4, 2)
	d := j.addDocument("doc", 0)
	if err := j.acquire(); err != nil {
		t.Fatalf("acquire window: %v", err)
	}
	tk, err := j.addTask(d, chunk.Chunk{Offset: 42, Data: []byte("x\n")})
	if err != nil {
		t.Fatalf("add task: %v", err)
	}
	fail := func() *unit {
		wt := tk.workerTask()
		return j.complete("w", task.Result{JobID: wt.JobID, ChunkID: wt.ChunkID, Attempt: wt.Attempt, Err: errors.New("boom")})
	}
	if retry := fail(); retry != tk {
		t.Fatalf("attempt 1 failed: got retry %v, want the chunk", retry)
	}
	if retry := fail(); retry != nil {
		t.Fatalf("attempt 2 failed: got retry of chunk %d, want none (2 attempts)", retry.id)
	}
	snap := jobToProto(j.snapshot(false), false)
	if snap.GetState() != tallyv1.JobState_JOB_STATE_FAILED {
		t.Fatalf("got state %v, want FAILED", snap.GetState())
	}
	for _, want := range []string{`document "doc"`, "byte offset 42", "failed 2 times", "boom"} {
		if !strings.Contains(snap.GetError(), want) {
			t.Errorf("got error %q, want it to contain %q", snap.GetError(), want)
		}
	}
	select {
	case <-j.done:
	default:
		t.Errorf("got job not done, want done")
	}
}
