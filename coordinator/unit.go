package coordinator

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tallyhq/tally/task"
)

// unit is one task of a job as the coordinator holds it, from its creation
// until its result is merged, so that it can be dispatched again if a worker
// fails or lags: a chunk of a stream, with its bytes, or a split of a stored
// document, by reference.
type unit struct {
	job      *job
	id       uint64
	doc      int
	offset   int64
	data     []byte        // a chunk's bytes; nil for a split
	ref      *task.Ref     // a split, which the worker reads itself; nil for a chunk
	release  func()        // gives back data's buffer once nothing reads it
	refs     atomic.Int32  // readers of data: the job until t settles, and each send
	settled  atomic.Bool   // the job no longer needs data (merged, or the job ended)
	attempts atomic.Uint32 // dispatches so far
	merged   atomic.Bool   // its result is in: copies still queued are skipped

	mu       sync.Mutex           // guards the fields below
	failures int                  // error results and broken links while held
	lastErr  error                // the last failure's cause
	failedOn map[string]bool      // workers that failed it, avoided on retry
	running  map[string]time.Time // workers holding a copy, since when
	sent     time.Time            // first dispatch
	// alone is set when t was in flight on a link that broke with other
	// chunks: any of them may have crashed the worker, so t runs next with
	// nothing beside it, and only a crash then counts against it.
	alone bool
}

// hold takes a reference to t's data for a send. It fails once the data's
// buffer has gone back to the pool for another chunk: t is settled and no
// send holds it, so there is nothing left to send.
func (t *unit) hold() bool {
	for {
		n := t.refs.Load()
		if n <= 0 {
			return false
		}
		if t.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// unhold drops a reference; the last one gives the buffer back.
func (t *unit) unhold() {
	if t.refs.Add(-1) == 0 && t.release != nil {
		t.release()
	}
}

// settle drops the job's reference, once: t is merged or its job is over.
func (t *unit) settle() {
	if t.settled.CompareAndSwap(false, true) {
		t.unhold()
	}
}

// isolate marks t to run alone on its next dispatch.
func (t *unit) isolate() {
	t.mu.Lock()
	t.alone = true
	t.mu.Unlock()
}

// runsAlone reports whether t must run with nothing beside it.
func (t *unit) runsAlone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.alone
}

// workerTask is what a worker receives for t on its next attempt.
func (t *unit) workerTask() task.Task {
	t.job.mu.Lock()
	q := t.job.query
	t.job.mu.Unlock()
	return task.Task{JobID: t.job.id, ChunkID: t.id, Attempt: t.attempts.Add(1), Query: q, Data: t.data, Ref: t.ref}
}

// size is how many bytes of its document t covers, given its result: a
// split's lines are only measured where it is read.
func (t *unit) size(r task.Result) int64 {
	if t.ref != nil {
		return r.Partial.Stats.Bytes
	}
	return int64(len(t.data))
}

// started records that workerName now holds a copy of t.
func (t *unit) started(workerName string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running == nil {
		t.running = map[string]time.Time{}
	}
	now := time.Now()
	t.running[workerName] = now
	if t.sent.IsZero() {
		t.sent = now
	}
}

// stopped records that workerName no longer holds t.
func (t *unit) stopped(workerName string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.running, workerName)
}

// firstSent is when t was first dispatched (zero if never).
func (t *unit) firstSent() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent
}

// failed counts a failure of t on workerName and returns the failures so far.
func (t *unit) failed(workerName string, cause error) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastErr = cause
	if t.failedOn == nil {
		t.failedOn = map[string]bool{}
	}
	t.failedOn[workerName] = true
	t.failures++
	return t.failures
}

// failedWorkers returns how many workers t failed on and the last cause.
func (t *unit) failedWorkers() (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.failedOn), t.lastErr
}

// avoids reports whether t should not go to workerName: it failed there, and
// there are other ready workers it has not failed on. ready is called only
// for a chunk that failed on workerName.
func (t *unit) avoids(workerName string, ready func() int) bool {
	t.mu.Lock()
	failedHere, failedWorkers := t.failedOn[workerName], len(t.failedOn)
	t.mu.Unlock()
	return failedHere && failedWorkers < ready()
}

// backupCandidate reports how long t's only copy has been in flight, and
// whether workerName may run a backup of it: exactly one copy runs, on another
// worker that has not failed it.
func (t *unit) backupCandidate(workerName string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.running) != 1 || t.failedOn[workerName] {
		return 0, false
	}
	for w, since := range t.running {
		if w == workerName {
			return 0, false
		}
		return time.Since(since), true
	}
	return 0, false
}
