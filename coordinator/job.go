package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"tally/chunk"
	"tally/count"
	"tally/metrics"
	tallyv1 "tally/proto/tally/v1"
	"tally/wire"
	"tally/worker"
)

// document is one document's running result.
type document struct {
	name   string
	size   int64
	stats  count.Stats
	counts []int64
}

// errInput marks a job that failed because of its input, not the cluster.
var errInput = errors.New("invalid input")

// job is one counting job. Its merge state has one owner at a time: every
// change goes through a method that holds mu.
type job struct {
	id       string
	query    wire.Query
	created  time.Time
	ctx      context.Context // ends when the job ends, for whatever reason
	cancel   context.CancelCauseFunc
	window   chan struct{}    // one token per chunk held: bounds the job's memory
	attempts int              // failures of one chunk before the job fails
	metrics  *metrics.Metrics // may be nil

	mu           sync.Mutex // guards every field below
	state        tallyv1.JobState
	err          error
	docs         []*document
	freq         *count.Freq
	folding      int              // frequency tables being merged into freq outside mu
	pending      map[uint64]*task // chunks not merged yet, by id
	nextID       uint64
	uploaded     bool // the last chunk has been created
	progress     *tallyv1.JobProgress
	workers      map[string]struct{}
	finished     time.Time
	result       *tallyv1.JobResult // without its frequency table:
	top          []count.Entry      // the table, converted for each reply (see resultProto)
	topDropped   bool               // the history dropped top
	waitingSince time.Time          // when progress.Waiting was last set
	latency      time.Duration      // sum of merged chunks' dispatch-to-result times
	merged       int                // chunks merged, for the mean latency
	changed      chan struct{}      // closed and replaced on every change, for watchers
	done         chan struct{}      // closed when the job ends

	// foldMu serializes merges into freq. They run outside mu, which a
	// table merge (milliseconds) would otherwise hold from the reader
	// feeding the job and from other results.
	foldMu sync.Mutex
}

func newJob(parent context.Context, id string, q wire.Query, window int, attempts int) *job {
	ctx, cancel := context.WithCancelCause(parent)
	j := &job{
		id: id, query: q, created: time.Now(), ctx: ctx, cancel: cancel,
		window: make(chan struct{}, window), attempts: attempts,
		state: tallyv1.JobState_JOB_STATE_RUNNING, pending: map[uint64]*task{},
		progress: &tallyv1.JobProgress{}, workers: map[string]struct{}{}, changed: make(chan struct{}), done: make(chan struct{}),
	}
	if q.Spec.Top != nil {
		j.freq = count.NewFreq()
	}
	// A parent that ends (client gone, coordinator stopping) ends the job.
	context.AfterFunc(ctx, func() { j.end(context.Cause(ctx)) })
	return j
}

// addDocument registers a document and returns its index.
func (j *job) addDocument(name string, size int64) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := &document{name: name, size: size}
	if q := j.query.Spec.Count; q != nil {
		d.counts = make([]int64, len(q.Targets))
	}
	j.docs = append(j.docs, d)
	if size > 0 {
		j.progress.BytesTotal += uint64(size)
	}
	j.notify()
	return len(j.docs) - 1
}

// received records n more uploaded bytes.
func (j *job) received(n int) {
	j.mu.Lock()
	j.progress.BytesReceived += uint64(n)
	j.mu.Unlock()
}

// acquire waits for room for one more chunk in the job's window.
func (j *job) acquire() error {
	if j.ctx.Err() != nil {
		return context.Cause(j.ctx) // select picks at random: check first
	}
	select {
	case j.window <- struct{}{}:
		return nil
	case <-j.ctx.Done():
		return context.Cause(j.ctx)
	}
}

// addTask creates the task for a chunk; the caller holds a window token for it.
func (j *job) addTask(doc int, c chunk.Chunk) (*task, error) {
	return j.add(&task{doc: doc, offset: c.Offset, data: c.Data, release: c.Release})
}

// addBlock creates the task for block k of a local file, which the worker
// reads itself; the caller holds a window token for it. The task holds f
// until it settles.
func (j *job) addBlock(doc int, name string, f *sharedFile, k int64, cfg chunk.Config) (*task, error) {
	read := func(buf []byte) ([]byte, []byte, error) {
		data, _, used, err := chunk.ReadBlock(f.file, f.size, k, cfg, buf)
		if err != nil {
			err = fmt.Errorf("%w: %s: %w", errInput, name, err)
		}
		return data, used, err
	}
	f.hold()
	t, err := j.add(&task{doc: doc, offset: k * int64(cfg.Size), read: read, release: f.unhold})
	if err != nil {
		f.unhold()
	}
	return t, err
}

// add registers t as the job's next task, which holds its bytes until it
// settles. A job that has ended takes no more tasks.
func (j *job) add(t *task) (*task, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != tallyv1.JobState_JOB_STATE_RUNNING {
		return nil, errJobEnded
	}
	t.job, t.id = j, j.nextID
	t.refs.Store(1)
	j.nextID++
	j.pending[t.id] = t
	return t, nil
}

// dispatched records that a worker was sent a chunk.
func (j *job) dispatched() {
	j.mu.Lock()
	j.progress.ChunksDispatched++
	j.mu.Unlock()
}

// uploadDone records that every chunk has been created.
func (j *job) uploadDone() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.uploaded = true
	j.maybeFinish()
}

// complete merges a worker's result exactly once per chunk. It returns the task
// to dispatch again when the worker failed on it and attempts remain.
func (j *job) complete(workerName string, r worker.Result) (retry *task) {
	j.mu.Lock()
	defer j.mu.Unlock()
	t, ok := j.pending[r.ChunkID]
	if !ok || j.state != tallyv1.JobState_JOB_STATE_RUNNING {
		if r.Err == nil {
			j.metrics.Duplicate() // the chunk was retried or backed up, or its job ended
		}
		return nil
	}
	d := j.docs[t.doc]
	t.stopped(workerName)
	if errors.Is(r.Err, errInput) {
		j.failLocked(r.Err) // a local file that cannot be read, or a line too long: the same on any worker
		return nil
	}
	if r.Err != nil {
		if j.countFailure(t, workerName, r.Err) {
			return t
		}
		return nil
	}
	if err := j.merge(d, r.Partial); err != nil {
		j.failLocked(fmt.Errorf("merge chunk %d of document %q from worker %s: %w", t.id, d.name, workerName, err))
		return nil
	}
	delete(j.pending, t.id)
	t.merged.Store(true)
	t.settle()
	j.recordLatency(t)
	<-j.window
	j.workers[workerName] = struct{}{}
	j.progress.ChunksDone++
	size := t.size(r)
	if t.read != nil {
		j.progress.BytesReceived += uint64(size) // read by the worker: received as counted
	}
	j.progress.BytesCounted += uint64(size)
	j.metrics.Merged(size)
	if r.Partial.Freq != nil && j.freq != nil {
		j.fold(j.freq, r.Partial.Freq)
	}
	j.maybeFinish()
	j.notify()
	return nil
}

// fold merges a chunk's frequency table into the job's, without holding
// j.mu meanwhile; the job does not finish before every fold is done. If it
// ends otherwise meanwhile, into is dropped with it. j.mu is held on entry
// and on return.
func (j *job) fold(into, f *count.Freq) {
	j.folding++
	j.mu.Unlock()
	j.foldMu.Lock()
	into.Merge(f)
	j.foldMu.Unlock()
	f.Release()
	j.mu.Lock()
	j.folding--
}

// lost records that workerName lost t (an error result, or a link that broke
// while it held t). It returns whether t should be dispatched again; when t
// has failed on too many workers, the job fails naming the chunk's place.
func (j *job) lost(t *task, workerName string, cause error) (retry bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.pending[t.id]; !ok || j.state != tallyv1.JobState_JOB_STATE_RUNNING {
		return false
	}
	t.stopped(workerName)
	return j.countFailure(t, workerName, cause)
}

// countFailure counts a failure of t on workerName and fails the job when t
// has failed MaxAttempts times. It reports whether t may be retried. j.mu is held.
func (j *job) countFailure(t *task, workerName string, cause error) bool {
	n := t.failed(workerName, cause)
	if n < j.attempts {
		return true
	}
	j.failLocked(fmt.Errorf("chunk %d of document %q at byte offset %d failed %d times, last on worker %s: %w",
		t.id, j.docs[t.doc].name, t.offset, n, workerName, cause))
	return false
}

// suspect returns the pending chunk that failed most often, with a description
// naming its place, or nil if none failed.
func (j *job) suspect() (int, string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	worst, desc := 0, ""
	for _, t := range j.pending {
		if n, cause := t.failedWorkers(); n > worst {
			worst = n
			desc = fmt.Sprintf("chunk %d of document %q at byte offset %d failed on %d workers, last: %v", t.id, j.docs[t.doc].name, t.offset, n, cause)
		}
	}
	return worst, desc
}

// recordLatency adds t's time in flight to the job's mean. j.mu is held.
func (j *job) recordLatency(t *task) {
	if d := t.firstSent(); !d.IsZero() {
		j.latency += time.Since(d)
		j.merged++
	}
}

// backupAfter is how long a chunk may stay in flight before an idle worker
// runs a backup copy. As in MapReduce, once every chunk exists (the end of the
// job) any chunk slower than the mean gets one, since idle workers would
// otherwise do nothing; before that, only clear outliers do, such as a chunk
// on a worker that hangs.
func (j *job) backupAfter() time.Duration {
	j.mu.Lock()
	defer j.mu.Unlock()
	mean := minBackupAge
	if j.merged > 0 {
		mean = max(minBackupAge, j.latency/time.Duration(j.merged))
	}
	if j.uploaded {
		return mean
	}
	return max(outlierAge, 3*mean)
}

// minBackupAge and outlierAge bound backupAfter from below, so that ordinary
// jitter on a busy machine starts no backups.
const (
	minBackupAge = 20 * time.Millisecond
	outlierAge   = 200 * time.Millisecond
)

// straggler returns a chunk in flight on another worker for longer than
// backupAfter and without a backup yet, oldest first, or nil.
func (j *job) straggler(workerName string) *task {
	after := j.backupAfter()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != tallyv1.JobState_JOB_STATE_RUNNING {
		return nil
	}
	var best *task
	var bestAge time.Duration
	for _, t := range j.pending {
		if age, ok := t.backupCandidate(workerName); ok && age >= after && age > bestAge {
			best, bestAge = t, age
		}
	}
	return best
}

// merge adds one chunk's partial into its document and the job. j.mu is held.
func (j *job) merge(d *document, p count.Partial) error {
	if len(p.Counts) != len(d.counts) {
		return fmt.Errorf("got %d counts, want %d", len(p.Counts), len(d.counts))
	}
	if j.freq != nil && p.Freq == nil {
		return errors.New("top result without a frequency table")
	}
	d.stats.Add(p.Stats)
	for i, n := range p.Counts {
		d.counts[i] += n
	}
	return nil // the frequency table is folded in by complete
}

// maybeFinish ends the job successfully once every chunk is merged. j.mu is held.
func (j *job) maybeFinish() {
	if j.state != tallyv1.JobState_JOB_STATE_RUNNING || !j.uploaded || len(j.pending) > 0 || j.folding > 0 {
		return
	}
	j.result = j.buildResult()
	j.finishLocked(tallyv1.JobState_JOB_STATE_SUCCEEDED, nil)
}

// end stops a running job because cause ended its context: a cancel, a failure,
// or the client or coordinator going away.
func (j *job) end(cause error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != tallyv1.JobState_JOB_STATE_RUNNING {
		return
	}
	if errors.Is(cause, context.Canceled) {
		j.finishLocked(tallyv1.JobState_JOB_STATE_CANCELED, cause)
		return
	}
	j.failLocked(cause)
}

// fail ends the job with err.
func (j *job) fail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state == tallyv1.JobState_JOB_STATE_RUNNING {
		j.failLocked(err)
	}
}

func (j *job) failLocked(err error) { j.finishLocked(tallyv1.JobState_JOB_STATE_FAILED, err) }

// finishLocked moves the job to a final state and frees its chunks. j.mu is held.
func (j *job) finishLocked(state tallyv1.JobState, err error) {
	j.state, j.err, j.finished = state, err, time.Now()
	j.progress.Waiting = ""
	j.metrics.JobEnded(outcomes[state])
	for _, t := range j.pending {
		t.settle()
	}
	j.pending = nil
	j.freq = nil
	close(j.done)
	j.notify()
	j.cancel(errJobEnded)
}

// outcomes name final states for metrics.
var outcomes = map[tallyv1.JobState]string{
	tallyv1.JobState_JOB_STATE_SUCCEEDED: "succeeded",
	tallyv1.JobState_JOB_STATE_FAILED:    "failed",
	tallyv1.JobState_JOB_STATE_CANCELED:  "canceled",
}

// errJobEnded is the cause of a job context that ended because the job did.
var errJobEnded = errors.New("job ended")

// notify wakes watchers. j.mu is held.
func (j *job) notify() {
	close(j.changed)
	j.changed = make(chan struct{})
}

// setWaiting records why the job is not progressing ("" when it is) and
// returns for how long it has been waiting.
func (j *job) setWaiting(reason string, workers int) time.Duration {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.progress.Waiting != reason || j.progress.Workers != uint32(workers) {
		if j.progress.Waiting == "" {
			j.waitingSince = time.Now()
		}
		j.progress.Waiting, j.progress.Workers = reason, uint32(workers)
		j.notify()
	}
	if reason == "" {
		return 0
	}
	return time.Since(j.waitingSince)
}

// finishedTable returns when j finished and how many frequency-table
// entries its result holds; none while it runs.
func (j *job) finishedTable() (time.Time, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.finished, len(j.top)
}

// dropTable forgets the frequency table of j's result.
func (j *job) dropTable() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.top, j.topDropped = nil, true
}

// buildResult assembles the final answer, but for the frequency table,
// which it keeps in j.top. j.mu is held.
func (j *job) buildResult() *tallyv1.JobResult {
	res := &tallyv1.JobResult{
		Workers:        uint32(len(j.workers)),
		ElapsedSeconds: time.Since(j.created).Seconds(),
	}
	var total count.Partial
	for _, d := range j.docs {
		res.Documents = append(res.Documents, docToProto(d.name, d.stats, d.counts))
		total.Merge(count.Partial{Stats: d.stats, Counts: d.counts})
	}
	if q := j.query.Spec.Count; q != nil && total.Counts == nil {
		total.Counts = make([]int64, len(q.Targets))
	}
	res.Total = docToProto("total", total.Stats, total.Counts)
	if j.freq != nil {
		j.top = j.freq.Top(j.query.TopLimit)
	}
	return res
}

// resultProto is j's result as sent: the frequency table, kept compact
// (its tokens share one string), becomes messages only for the reply, and
// one packed message when the client asked for that.
func resultProto(r *tallyv1.JobResult, top []count.Entry, dropped, packed bool) *tallyv1.JobResult {
	if r == nil {
		return nil
	}
	m := &tallyv1.JobResult{Documents: r.GetDocuments(), Total: r.GetTotal(), Workers: r.GetWorkers(),
		ElapsedSeconds: r.GetElapsedSeconds(), TopDropped: dropped}
	if packed && top != nil {
		m.TopTable = wire.TopToTable(top)
	} else {
		m.Top = wire.EntriesToProto(top)
	}
	return m
}

func docToProto(name string, s count.Stats, counts []int64) *tallyv1.DocumentResult {
	return &tallyv1.DocumentResult{Name: name, Stats: wire.StatsToProto(s), Counts: wire.CountsToProto(counts)}
}
