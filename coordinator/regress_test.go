package coordinator

// Regression tests for bugs found in the coordinator: each reproduced the bug
// before its fix and checks the behaviour that must hold now.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/cluster"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/worker"
)

// TestBugJobEndsWhileChunking: a job that ends (cancelled, failed, client
// gone, coordinator closing) while its upload is still being cut into chunks
// must take no more chunks. The bug: acquire selected between a free window
// slot and the job's ended context at random, so it often succeeded for an
// ended job, and addTask then wrote to j.pending, which finishLocked had set
// to nil: "assignment to entry in nil map" in job.addTask, called from
// feedDocument, killed the coordinator process.
func TestBugJobEndsWhileChunking(t *testing.T) {
	j := newJob(context.Background(), "ended", countQ(query.Token, false, "x"), 64, 3)
	d := j.addDocument("d", 0)
	j.fail(errors.New("a chunk failed"))

	acquired := 0
	for range 32 {
		if j.acquire() == nil {
			acquired++
		}
	}
	var addErr error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		_, addErr = j.addTask(d, chunk.Chunk{Data: []byte("x\n")})
		return nil
	}()
	if acquired > 0 || panicked != nil {
		t.Fatalf("regression: an ended job still hands out window slots (%d of 32 acquires succeeded) and addTask panics (%v); "+
			"in a running coordinator this kills the process when a job ends mid-upload", acquired, panicked)
	}
	if addErr == nil {
		t.Errorf("addTask on an ended job: got no error, want one")
	}
}

// TestBugCoordinatorCrashesOnCancelMidUpload is the same bug end to end:
// CancelJob while the coordinator cuts a large buffered upload into small
// chunks crashed the coordinator process (each try with a probability of
// about one half). It runs only on request, since with the bug the crash
// takes the test binary with it.
func TestBugCoordinatorCrashesOnCancelMidUpload(t *testing.T) {
	// A wide window keeps the upload cutting instead of waiting for the workers.
	c := MustEmbedded(t, 1, 2, func(c *Config) { c.Window = 1 << 20 })
	cl := MustClient(t, c)
	data := []byte(strings.Repeat("the quick brown fox\n", 200000)) // 4 MB, 250,000 chunks
	ctx := testCtx(t, 60*time.Second)
	for range 10 {
		run := goRun(ctx, cl, client.Job{Query: countQ(query.Token, false, "the"), ChunkSize: 16, Documents: clientDocs([]doc{{"d", data}})})
		var id string
		waitFor(t, 10*time.Second, "a running job", func() bool {
			jobs, err := cl.Jobs(ctx)
			if err != nil || len(jobs) == 0 || jobs[0].GetState() != tallyv1.JobState_JOB_STATE_RUNNING || jobs[0].GetProgress().GetBytesReceived() == 0 {
				return false
			}
			id = jobs[0].GetId()
			return true
		})
		if _, err := cl.CancelJob(ctx, id); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		<-run
	}
	// Still alive.
	if _, err := cl.Jobs(ctx); err != nil {
		t.Errorf("list jobs after the cancels: %v", err)
	}
}

// TestBugCancelDuringUploadEndsFailed: CancelJob on a job whose upload is
// still going ends it FAILED (RunJob answers Aborted "job ... failed:
// cancelled by a client"), not CANCELED, about half the time. The upload
// goroutine sees acquire fail with the job context's cause and calls j.fail,
// racing the AfterFunc that calls j.end with that same cause; when fail wins
// the job is FAILED. A client that cancels mid-upload hits the same race
// with the stream's Recv error (see TestClientCancelsMidUpload).
func TestBugCancelDuringUploadEndsFailed(t *testing.T) {
	for i := range 10 {
		var sent countingInt
		cfg := testConfig(t)
		cfg.Dial = stuckDialer(&sent) // workers that never answer: the window fills, the upload waits in acquire
		cfg.Window = 2
		c := MustStart(t, cfg)
		c.AddWorker("stuck", "stuck", 1)
		cl := MustClient(t, c)
		ctx := testCtx(t, 20*time.Second)
		run := goRun(ctx, cl, client.Job{Query: countQ(query.Token, false, "a"), ChunkSize: 4, Documents: clientDocs([]doc{{"d", []byte("a b\nc d\ne f\ng h\n")}})})
		j := MustOnlyJob(t, cl, func(j *tallyv1.Job) bool { return j.GetProgress().GetChunksDispatched() >= 1 })
		snap, err := cl.CancelJob(ctx, j.GetId())
		if err != nil {
			t.Fatalf("cancel: %v", err)
		}
		r := <-run
		if snap.GetState() == tallyv1.JobState_JOB_STATE_FAILED {
			t.Fatalf("regression: try %d: CancelJob during the upload ended the job FAILED (%q), RunJob code %v; want CANCELED and Canceled",
				i, snap.GetError(), status.Code(r.err))
		}
		if snap.GetState() != tallyv1.JobState_JOB_STATE_CANCELED {
			t.Fatalf("got state %v, want CANCELED", snap.GetState())
		}
		wantCode(t, r.err, codes.Canceled)
		c.Close()
	}
}

// TestBugFinishedJobsStayInMemory: Coordinator.newJob registers
// context.AfterFunc(c.ctx, ...) for every job and never stops it, so every
// job (its documents and result) stays reachable from the coordinator's
// context until Close, whatever JobHistory says. A long-running coordinator
// grows with every job it ever ran (CountTexts calls included).
func TestBugFinishedJobsStayInMemory(t *testing.T) {
	c := MustEmbedded(t, 1, 2, func(c *Config) { c.JobHistory = 1 })
	cl := MustClient(t, c)
	ctx := testCtx(t, 20*time.Second)
	q := countQ(query.Token, false, "the")
	ds := []doc{{"d", []byte("the end\n")}}
	first := MustRun(t, ctx, cl, client.Job{Query: q, Documents: clientDocs(ds)})
	wp := weak.Make(c.jobs.get(first.JobID))
	if wp.Value() == nil {
		t.Fatalf("got no job %s in the registry, want it", first.JobID)
	}
	for range 3 { // the registry forgets the first job when the third one starts
		MustRun(t, ctx, cl, client.Job{Query: q, Documents: clientDocs(ds)})
	}
	if _, err := cl.GetJob(ctx, first.JobID); status.Code(err) != codes.NotFound {
		t.Fatalf("first job: got code %v, want NotFound (forgotten by the registry)", status.Code(err))
	}
	if !collected(wp) {
		// Closing the coordinator ends c.ctx, which runs and drops the AfterFunc.
		c.Close()
		if collected(wp) {
			t.Fatal("regression: a job forgotten by the registry stays in memory until the coordinator closes " +
				"(context.AfterFunc(c.ctx, ...) in Coordinator.newJob is never stopped)")
		}
		t.Errorf("a job forgotten by the registry stays in memory even after Close")
	}
}

// collected reports whether wp's object is garbage collected within a few GCs.
func collected[T any](wp weak.Pointer[T]) bool {
	for range 5 {
		runtime.GC()
		if wp.Value() == nil {
			return true
		}
	}
	return false
}

// TestBugAddWorkerTwiceHangsClose: AddWorker with a name that already has a
// session replaces it in the pool's map without cancelling it, so the old
// session runs on, and Close waits for it forever (pool.close cancels only
// the sessions in the map, then waits for all of them).
func TestBugAddWorkerTwiceHangsClose(t *testing.T) {
	cfg := testConfig(t)
	cfg.Dial = worker.LocalDialer(worker.NewEngine(1))
	c, err := Start(cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { c.Close() }) // a no-op after the Close below, unless the test stops early
	c.AddWorker("w", "local", 1)
	c.pool.mu.Lock()
	orphan := c.pool.sessions["w"]
	c.pool.mu.Unlock()
	c.AddWorker("w", "local", 1)

	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
		if n := len(c.pool.list()); n != 0 {
			t.Errorf("got %d sessions after Close, want 0", n)
		}
	case <-time.After(1500 * time.Millisecond):
		orphan.cancel() // let Close finish, so nothing leaks
		<-closed
		t.Fatal("regression: AddWorker twice with one name leaves the first session running, and Close hangs waiting for it")
	}
}

// TestBugStalledUploadHidesCancel: after CancelJob, the RunJob caller must
// learn the job was cancelled. But RunJob returns only after its upload
// goroutine, which sits in stream.Recv while the client's upload is stalled
// (a slow pipe, stdin): the caller hangs until it sends more or gives up.
// The same wait holds Coordinator.Close for its 5 s GracefulStop timeout.
func TestBugStalledUploadHidesCancel(t *testing.T) {
	c := MustEmbedded(t, 1, 1, nil)
	cl := MustClient(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := cl.API().RunJob(ctx)
	if err != nil {
		t.Fatalf("open RunJob: %v", err)
	}
	start := &tallyv1.JobStart{Spec: &tallyv1.JobSpec{Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Targets: []string{"a"}}}}}
	for _, m := range []*tallyv1.RunJobRequest{
		{Message: &tallyv1.RunJobRequest_Start{Start: start}},
		{Message: &tallyv1.RunJobRequest_Document{Document: &tallyv1.DocumentHeader{Name: "stdin"}}},
	} {
		if err := stream.Send(m); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	m, err := stream.Recv()
	if err != nil || m.GetAccepted() == nil {
		t.Fatalf("got %v (err %v), want accepted", m, err)
	}
	if _, err := cl.CancelJob(testCtx(t, 10*time.Second), m.GetAccepted().GetJobId()); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				got <- err
				return
			}
		}
	}()
	select {
	case err := <-got:
		wantCode(t, err, codes.Canceled)
	case <-time.After(1500 * time.Millisecond):
		cancel() // give up on the stream, as a client would
		<-got
		t.Fatal("regression: RunJob does not report a cancelled job while the client's upload is stalled; it waits for more data")
	}
}

// TestBugRetryGoesBackToFailingWorker: a chunk whose worker answers with an
// error is queued again and taken by whichever session asks first, often the
// same worker (its slot was just freed). With one broken worker and one
// healthy but busy worker, the chunk spends all MaxAttempts on the broken
// one within milliseconds and the job fails, though the healthy worker could
// have counted it.
func TestBugRetryGoesBackToFailingWorker(t *testing.T) {
	engine := worker.NewEngine(2)
	release := make(chan struct{}) // ends the hold on both workers' first task
	releaseBad := make(chan struct{})
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	hold := func(gate <-chan struct{}) func() {
		first := true
		return func() {
			if first {
				first = false
				select {
				case <-gate:
				case <-release:
				}
			}
		}
	}
	goodHold, badHold := hold(release), hold(releaseBad)
	workers := map[string]func() (task.Link, error){
		"good": func() (task.Link, error) {
			return newScriptedLink(1, func(tk task.Task) []event { goodHold(); return deliver(engine.Process(context.Background(), tk)) }), nil
		},
		"bad": func() (task.Link, error) {
			return newScriptedLink(1, func(tk task.Task) []event {
				badHold()
				return deliver(task.Result{JobID: tk.JobID, ChunkID: tk.ChunkID, Attempt: tk.Attempt, Err: errors.New("broken worker")})
			}), nil
		},
	}
	_, cl := MustFaultCoordinator(t, workers, nil)
	t.Cleanup(releaseAll) // before the coordinator closes: its sessions wait in Send
	ds := []doc{{"d", []byte("the first line\nthe second line\n")}}
	ctx := testCtx(t, 20*time.Second)
	q := countQ(query.Token, false, "the")
	run := goRun(ctx, cl, client.Job{Query: q, ChunkSize: 16, Documents: clientDocs(ds)})
	// Both chunks are out (so the upload is over): one on each worker.
	MustOnlyJob(t, cl, func(j *tallyv1.Job) bool { return j.GetProgress().GetChunksDispatched() == 2 })
	close(releaseBad)
	// The bug fails the job within milliseconds; a fixed coordinator keeps the
	// chunk for the healthy worker, so give up watching after a while.
	var failed *tallyv1.Job
	deadline := time.Now().Add(500 * time.Millisecond)
	for failed == nil && time.Now().Before(deadline) {
		if jobs, err := cl.Jobs(ctx); err == nil && len(jobs) == 1 && jobs[0].GetState() == tallyv1.JobState_JOB_STATE_FAILED {
			failed = jobs[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	releaseAll()
	r := <-run
	if failed != nil {
		t.Fatal(fmt.Sprintf("regression: the chunk was retried on the failing worker until the job failed, while a healthy worker was busy: %s", failed.GetError()))
	}
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	checkExact(t, r.res, q, ds)
}

// TestCountTextsInvalidUTF8: CountTexts carries texts as proto strings, so a
// text that is not UTF-8 gets a clear error naming it before anything is sent,
// and the same bytes counted through Run give the exact answer.
func TestCountTextsInvalidUTF8(t *testing.T) {
	c := MustEmbedded(t, 1, 1, nil)
	cl := MustClient(t, c)
	ctx := testCtx(t, 10*time.Second)
	q := countQ(query.Token, false, "the")
	_, err := cl.CountTexts(ctx, []string{"ok", "\xffthe the\n"}, *q.Spec.Count, false)
	if err == nil || !strings.Contains(err.Error(), "text 1 is not valid UTF-8") {
		t.Fatalf("got error %v, want one naming text 1 as not valid UTF-8", err)
	}
	docs := []doc{{"0", []byte("\xffthe the\n")}}
	res, err := cl.Run(ctx, client.Job{Query: q, Documents: clientDocs(docs)}, nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	checkExact(t, res, q, docs)
}

// TestBugCancelledJobChunksStayQueued: a job cancelled while it waits for
// workers keeps its queued chunks (up to Window of them, with their data) in
// the scheduler until some worker pops them: scheduler.drop exists but
// nothing calls it.
func TestBugCancelledJobChunksStayQueued(t *testing.T) {
	c := MustEmbedded(t, 0, 1, nil)
	cl := MustClient(t, c)
	ctx := testCtx(t, 20*time.Second)
	run := goRun(ctx, cl, client.Job{Query: countQ(query.Token, false, "a"), Documents: clientDocs([]doc{{"d", []byte("a b\n")}})})
	j := MustOnlyJob(t, cl, func(j *tallyv1.Job) bool { return j.GetProgress().GetWaiting() != "" })
	if _, err := cl.CancelJob(ctx, j.GetId()); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	<-run
	if n := c.sched.queued(c.jobs.get(j.GetId())); n != 0 {
		t.Fatalf("regression: a cancelled job keeps %d chunk(s) queued in the scheduler until a worker pops them (scheduler.drop is never called)", n)
	}
}

// TestBugAddWorkerDroppedByGossip: a worker added with AddWorker ("not found
// through gossip") to a coordinator that also runs gossip is removed at the
// next membership change, because pool.sync ends every session whose name
// is not a gossip member. Latent: the CLI calls AddWorker only without gossip.
func TestBugAddWorkerDroppedByGossip(t *testing.T) {
	ccfg := cluster.DefaultConfig()
	cfg := testConfig(t)
	cfg.Cluster = &ccfg
	cfg.Dial = worker.LocalDialer(worker.NewEngine(1))
	c := MustStart(t, cfg)
	c.AddWorker("static", "local", 1)
	cl := MustClient(t, c)

	// Any member joining is a membership change.
	ocfg := cluster.DefaultConfig()
	ocfg.Meta = cluster.Meta{Role: "observer"}
	ocfg.Join = []string{c.GossipAddr()}
	node, err := cluster.Start(ocfg)
	if err != nil {
		t.Fatalf("start observer node: %v", err)
	}
	t.Cleanup(func() { node.Close() })
	waitFor(t, 10*time.Second, "the observer to join", func() bool {
		for _, m := range c.node.Members() {
			if m.Name == node.Name() {
				return true
			}
		}
		return false
	})
	// Sync runs on the change signal; give it a moment, then look.
	dropped := false
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !dropped; time.Sleep(10 * time.Millisecond) {
		resp, err := cl.Workers(context.Background())
		dropped = err == nil && len(resp.GetWorkers()) == 0
	}
	if dropped {
		t.Fatal("regression: a worker added with AddWorker is dropped when gossip membership changes (pool.sync removes sessions that are not gossip members)")
	}
	waitFor(t, 10*time.Second, "the static worker to be ready", func() bool {
		_, ok := readyWorkers(context.Background(), cl)["static"]
		return ok
	})
}
