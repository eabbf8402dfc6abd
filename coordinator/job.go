package coordinator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
)

// document is one document's running result.
type document struct {
	name   string
	size   int64
	stats  query.Stats
	counts []int64
}

// job is one counting job. Its merge state has one owner at a time: every
// change goes through a method that holds mu.
type job struct {
	id       string
	client   string // who submitted the job (clientKey), "" for a caller in this process
	seq      uint64 // order of registration, for paging the history
	created  time.Time
	targets  targetStats     // of the query as submitted
	ctx      context.Context // ends when the job ends, for whatever reason
	cancel   context.CancelCauseFunc
	window   chan struct{}    // one token per chunk held: bounds the job's memory
	attempts int              // failures of one chunk before the job fails
	maxTop   int64            // bound of freq's memory; 0: none
	metrics  *metrics.Metrics // may be nil
	events   redispatches     // its tasks sent again, for the status page

	mu           sync.Mutex // guards every field below
	query        query.Job  // its targets summarized once the job ends
	state        State
	err          error
	docs         []*document
	freq         *count.Freq
	folding      int              // frequency tables being merged into freq outside mu
	pending      map[uint64]*unit // chunks not merged yet, by id
	nextID       uint64
	uploaded     bool // the last chunk has been created
	progress     Progress
	workers      map[string]struct{}
	finished     time.Time
	result       *Result       // without its frequency table:
	top          []query.Entry // the table, kept compact (see resultProto)
	topDropped   bool          // the history dropped top
	tableLen     int           // entries of the merged table when the job ended
	waitingSince time.Time     // when progress.Waiting was last set
	latency      time.Duration // sum of merged chunks' dispatch-to-result times
	merged       int           // chunks merged, for the mean latency
	changed      chan struct{} // closed and replaced on every change, for watchers
	done         chan struct{} // closed when the job ends
	fed          chan struct{} // closed when the goroutine feeding the job returns

	// foldMu serializes merges into freq. They run outside mu, which a
	// table merge (milliseconds) would otherwise hold from the reader
	// feeding the job and from other results.
	foldMu sync.Mutex
}

func newJob(parent context.Context, id string, q query.Job, window int, attempts int) *job {
	ctx, cancel := context.WithCancelCause(parent)
	j := &job{
		id: id, query: q, targets: statsOf(q), created: time.Now(), ctx: ctx, cancel: cancel,
		window: make(chan struct{}, window), attempts: attempts,
		state: Running, pending: map[uint64]*unit{},
		workers: map[string]struct{}{}, changed: make(chan struct{}), done: make(chan struct{}), fed: make(chan struct{}),
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
		j.progress.BytesTotal += size
	}
	j.notify()
	return len(j.docs) - 1
}

// received records n more uploaded bytes.
func (j *job) received(n int) {
	j.mu.Lock()
	j.progress.BytesReceived += int64(n)
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
func (j *job) addTask(doc int, c chunk.Chunk) (*unit, error) {
	return j.add(&unit{doc: doc, offset: c.Offset, data: c.Data, release: c.Release})
}

// addSplit creates the task for a split of a stored document, which the
// worker reads itself; the caller holds a window token for it.
func (j *job) addSplit(doc int, ref task.Ref) (*unit, error) {
	return j.add(&unit{doc: doc, offset: ref.Offset, ref: &ref})
}

// add registers t as the job's next task, which holds its bytes until it
// settles. A job that has ended takes no more tasks.
func (j *job) add(t *unit) (*unit, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != Running {
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
func (j *job) complete(workerName string, r task.Result) (retry *unit) {
	j.mu.Lock()
	defer j.mu.Unlock()
	t, ok := j.pending[r.ChunkID]
	if !ok || j.state != Running {
		if r.Err == nil {
			j.metrics.Duplicate() // the chunk was retried or backed up, or its job ended
		}
		return nil
	}
	d := j.docs[t.doc]
	t.stopped(workerName)
	if errors.Is(r.Err, task.ErrInput) {
		j.failLocked(r.Err) // a document that cannot be read, or a line too long: the same on any worker
		return nil
	}
	if errors.Is(r.Err, task.ErrMemory) {
		// Too large for the worker's memory: trying it on every worker in
		// turn would at best fail the same way, at worst kill each one.
		j.failLocked(fmt.Errorf("worker %s refused chunk %d: %w", workerName, t.id, r.Err))
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
	if t.ref != nil {
		j.progress.BytesReceived += size // read by the worker: received as counted
	}
	j.progress.BytesCounted += size
	j.metrics.Merged(int(size))
	if r.Partial.Freq != nil && j.freq != nil {
		if size, n := j.fold(j.freq, r.Partial.Freq, size); j.maxTop > 0 && size > j.maxTop && j.state == Running {
			j.failLocked(fmt.Errorf("%w: the job's frequency table would take %s (%d distinct tokens so far), above the limit of %s "+
				"(the coordinator's --max-top-memory); count fewer distinct tokens or raise the limit",
				errMemory, count.FormatBytes(size), n, count.FormatBytes(j.maxTop)))
			return nil
		}
	}
	j.maybeFinish()
	j.notify()
	return nil
}

// fold merges a chunk's frequency table, of seen bytes of text, into the
// job's, without holding j.mu meanwhile, and returns the most memory the
// job's table takes while merging and its entries. A merge that would take
// more than j.maxTop is not done: the caller fails the job. The job does
// not finish before every fold is done. If it ends otherwise meanwhile,
// into is dropped with it. j.mu is held on entry and on return.
func (j *job) fold(into, f *count.Freq, seen int64) (int64, int) {
	total := j.progress.BytesTotal
	j.folding++
	j.mu.Unlock()
	j.foldMu.Lock()
	j.reserve(into, f, seen, total)
	size := into.MergeBytes(f)
	if j.maxTop <= 0 || size <= j.maxTop {
		into.Merge(f)
	}
	n := into.Len()
	j.foldMu.Unlock()
	f.Release()
	j.mu.Lock()
	j.folding--
	return size, n
}

// reserve sizes the job's table, before the first chunk's table goes into
// it, for the distinct tokens that this chunk's projects over the job's
// known bytes (count.ExpectDistinct), rather than let it double its way
// there. A guess takes at most half of j.maxTop (of the default without
// one), so that it never fails a job which growing by doubling would
// finish, and at most maxReserve times the chunk's entries: a text that
// repeats itself (the same books twice) grows far less than the law
// says, and the doublings beyond are few for a job that large. foldMu is
// held.
func (j *job) reserve(into, f *count.Freq, seen, total int64) {
	if into.Len() > 0 {
		return
	}
	budget := cmp.Or(max(j.maxTop, 0), DefaultMaxTopMemory)
	n := min(count.ExpectDistinct(f.Len(), seen, total), maxReserve*f.Len())
	for n > 0 && into.ReserveBytes(n) > budget/2 {
		n /= 2
	}
	into.Reserve(n)
}

// maxReserve bounds a job table's reservation, in entries of the chunk
// table it is projected from: 16 covers a 52 MB corpus of many books from
// its first MiB (317k distinct tokens from 17k).
const maxReserve = 16

// lost records that workerName lost t (an error result, or a link that broke
// while it held t). It returns whether t should be dispatched again; when t
// has failed on too many workers, the job fails naming the chunk's place.
func (j *job) lost(t *unit, workerName string, cause error) (retry bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.pending[t.id]; !ok || j.state != Running {
		return false
	}
	t.stopped(workerName)
	return j.countFailure(t, workerName, cause)
}

// countFailure counts a failure of t on workerName and fails the job when t
// has failed MaxAttempts times. It reports whether t may be retried. j.mu is held.
func (j *job) countFailure(t *unit, workerName string, cause error) bool {
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
func (j *job) recordLatency(t *unit) {
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

// straggler returns a task that can take, in flight on another worker for
// longer than backupAfter and without a backup yet, oldest first, or nil.
func (j *job) straggler(workerName string, can func(*unit) bool) *unit {
	after := j.backupAfter()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != Running {
		return nil
	}
	var best *unit
	var bestAge time.Duration
	for _, t := range j.pending {
		if age, ok := t.backupCandidate(workerName); ok && age >= after && age > bestAge && can(t) {
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
	if j.state != Running || !j.uploaded || len(j.pending) > 0 || j.folding > 0 {
		return
	}
	j.result = j.buildResult()
	j.finishLocked(Succeeded, nil)
}

// undelivered records that a succeeded job's result never reached its
// client (err says why): the job ends failed and its result is dropped, so
// that nobody reads a job as done whose answer was lost.
func (j *job) undelivered(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != Succeeded {
		return
	}
	j.state, j.err, j.result = Failed, err, nil
	j.metrics.ResultUndelivered()
	j.notify()
}

// end stops a running job because cause ended its context: a cancel, a failure,
// or the client or coordinator going away.
func (j *job) end(cause error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state != Running {
		return
	}
	if errors.Is(cause, context.Canceled) {
		j.finishLocked(Canceled, cause)
		return
	}
	j.failLocked(cause)
}

// fail ends the job with err.
func (j *job) fail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state == Running {
		j.failLocked(err)
	}
}

func (j *job) failLocked(err error) { j.finishLocked(Failed, err) }

// finishLocked moves the job to a final state and frees its chunks. j.mu is held.
func (j *job) finishLocked(state State, err error) {
	j.state, j.err, j.finished = state, err, time.Now()
	j.progress.Waiting = ""
	j.metrics.JobEnded(state.String(), j.finished.Sub(j.created))
	for _, t := range j.pending {
		t.settle()
	}
	j.pending = nil
	j.freq = nil
	j.query = summarize(j.query) // a history of 40 MB target lists is gigabytes
	close(j.done)
	j.notify()
	j.cancel(errJobEnded)
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
	if j.progress.Waiting != reason || j.progress.Workers != workers {
		if j.progress.Waiting == "" {
			j.waitingSince = time.Now()
		}
		j.progress.Waiting, j.progress.Workers = reason, workers
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
func (j *job) buildResult() *Result {
	res := &Result{Workers: len(j.workers), Elapsed: time.Since(j.created), Stats: j.query.Spec.Stats}
	var total count.Partial
	for _, d := range j.docs {
		res.Documents = append(res.Documents, DocumentResult{Name: d.name, Stats: d.stats, Counts: d.counts})
		total.Merge(count.Partial{Stats: d.stats, Counts: d.counts})
	}
	if q := j.query.Spec.Count; q != nil && total.Counts == nil {
		total.Counts = make([]int64, len(q.Targets))
	}
	res.Total = DocumentResult{Name: "total", Stats: total.Stats, Counts: total.Counts}
	if j.freq != nil {
		j.top = topOf(j.freq, j.query.TopLimit)
		j.tableLen = j.freq.Len()
	}
	return res
}
