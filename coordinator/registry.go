package coordinator

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// registry remembers running jobs and the most recent finished ones.
type registry struct {
	history    int // finished jobs kept
	topEntries int // frequency-table entries kept across finished jobs

	mu    sync.Mutex // guards jobs, order and seq
	jobs  map[string]*job
	order []*job // oldest first
	seq   uint64 // the last job's sequence number
}

func newRegistry(history, topEntries int) *registry {
	return &registry{history: history, topEntries: topEntries, jobs: map[string]*job{}}
}

// newID returns a random job id; ids are random so that they never repeat
// across coordinator restarts.
func newID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// add registers j and forgets the oldest finished jobs beyond the history.
func (r *registry) add(j *job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	j.seq = r.seq
	r.jobs[j.id] = j
	r.order = append(r.order, j)
	finished := 0
	for _, o := range r.order {
		if o.ended() {
			finished++
		}
	}
	kept := r.order[:0]
	for _, o := range r.order {
		if finished > r.history && o.ended() {
			delete(r.jobs, o.id)
			finished--
			continue
		}
		kept = append(kept, o)
	}
	r.order = kept
	r.dropOldTables()
}

// trimTables drops the oldest frequency tables beyond the budget of
// entries: a job's own table is kept until its result is sent, and
// dropped (if too large for the history) at once after.
func (r *registry) trimTables() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropOldTables()
}

// dropOldTables keeps the frequency tables of the most recently finished
// jobs up to the budget of entries and drops the older ones'.
func (r *registry) dropOldTables() {
	type done struct {
		j        *job
		finished time.Time
		entries  int
	}
	var ds []done
	for _, o := range r.order {
		if finished, entries := o.finishedTable(); entries > 0 {
			ds = append(ds, done{o, finished, entries})
		}
	}
	slices.SortFunc(ds, func(a, b done) int { return b.finished.Compare(a.finished) })
	kept := 0
	for _, d := range ds {
		if kept+d.entries <= r.topEntries {
			kept += d.entries
			continue
		}
		d.j.dropTable()
	}
}

// get returns the job with id, or nil.
func (r *registry) get(id string) *job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jobs[id]
}

// list returns the jobs, newest first.
func (r *registry) list() []*job {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*job, len(r.order))
	for i, j := range r.order {
		out[len(out)-1-i] = j
	}
	return out
}

// running returns the jobs that have not ended.
func (r *registry) running() []*job {
	var out []*job
	for _, j := range r.list() {
		if !j.ended() {
			out = append(out, j)
		}
	}
	return out
}

// ended reports whether the job reached a final state.
func (j *job) ended() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}
