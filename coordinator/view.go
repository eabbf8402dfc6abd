package coordinator

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/task"
)

// This file gives read-only views of the coordinator for pages and tools
// in this process (the status page): copies taken under the owners' locks,
// never pointers into the live state.

// WorkerInfo is a worker as the coordinator's session with it sees it.
type WorkerInfo struct {
	Name       string
	Addr       string // gRPC
	GossipAddr string // "" for a worker added without gossip
	Cores      int    // chunks it counts at once
	// State is "connecting", "ready", or "failed" (its link broke and is
	// being dialled again; gossip still lists it).
	State      string
	InFlight   int
	ChunksDone uint64 // results received over this session
	BytesDone  int64  // bytes those results covered
	Storage    task.Storage
	Insecure   bool
}

// Overview is the coordinator and its workers at one moment.
type Overview struct {
	Name       string // the memberlist node name, "" without a cluster
	Addr       string // the client API, "" without one
	GossipAddr string
	Posture    security.Posture
	Started    time.Time
	Workers    []WorkerInfo // by name
}

// Overview returns the coordinator and its workers as they are now.
func (c *Coordinator) Overview() Overview {
	o := Overview{Addr: c.Addr(), GossipAddr: c.GossipAddr(), Posture: c.posture(), Started: c.started}
	if c.node != nil {
		o.Name = c.node.Name()
	}
	for _, s := range c.pool.list() {
		o.Workers = append(o.Workers, s.info())
	}
	return o
}

// info describes the session's worker.
func (s *session) info() WorkerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	cores := s.cores
	if s.slots > 0 {
		cores = s.slots
	}
	return WorkerInfo{Name: s.name, Addr: s.addr, GossipAddr: s.gossip, Cores: cores, State: s.state, InFlight: len(s.inflight),
		ChunksDone: s.done, BytesDone: s.bytes, Storage: s.storage, Insecure: s.insecure}
}

// Jobs returns handles to the running and remembered jobs, newest first.
func (c *Coordinator) Jobs() []*Job {
	all := c.jobs.list()
	out := make([]*Job, len(all))
	for i, j := range all {
		out[i] = &Job{j}
	}
	return out
}

// Job returns a handle to the job with id, or nil if there is none (or it
// has been forgotten).
func (c *Coordinator) Job(id string) *Job {
	if j := c.jobs.get(id); j != nil {
		return &Job{j}
	}
	return nil
}

// CancelBecause cancels the job with why as its reason; it is a no-op once
// the job has ended.
func (h *Job) CancelBecause(why string) {
	h.j.cancel(fmt.Errorf("%s: %w", why, context.Canceled))
}

// DocumentProgress is how far one document of a job is.
type DocumentProgress struct {
	Name         string
	Size         int64 // 0 when unknown (a stream)
	BytesCounted int64 // counted and merged
}

// Redispatch is a task of a job sent again, and why.
type Redispatch struct {
	Seq      int // 1 for the job's first re-dispatch
	At       time.Time
	Chunk    uint64
	Document string
	Offset   int64
	// Reason is "error" (the worker answered an error), "lost" (its link
	// broke), "handback" (it left) or "backup" (a copy of a straggler).
	Reason string
	Worker string // the worker that failed, lost or held it; for a backup, the one running the copy
	Cause  string // the error, or what made it a straggler
}

// Detail is what a job's page shows besides its Snapshot.
type Detail struct {
	// Documents are the first documents of the job, in order, at most as
	// many as asked; DocumentCount is how many it has.
	Documents     []DocumentProgress
	DocumentCount int
	// WorkersUsed are the workers whose results were merged, by name.
	WorkersUsed []string
	// Redispatches are the most recent ones (at most keptRedispatches),
	// oldest first; RedispatchCount counts them all.
	Redispatches    []Redispatch
	RedispatchCount int
}

// Detail returns the job's per-document progress (the first maxDocs
// documents), the workers it used and its recent re-dispatches.
func (h *Job) Detail(maxDocs int) Detail {
	j := h.j
	j.mu.Lock()
	d := Detail{DocumentCount: len(j.docs)}
	for _, doc := range j.docs[:min(max(maxDocs, 0), len(j.docs))] {
		d.Documents = append(d.Documents, DocumentProgress{Name: doc.name, Size: doc.size, BytesCounted: doc.stats.Bytes})
	}
	for w := range j.workers {
		d.WorkersUsed = append(d.WorkersUsed, w)
	}
	j.mu.Unlock()
	slices.Sort(d.WorkersUsed)
	d.Redispatches, d.RedispatchCount = j.events.list()
	return d
}

// keptRedispatches bounds the re-dispatches a job remembers: a job on a
// flapping cluster may have thousands.
const keptRedispatches = 100

// redispatches is a job's record of its tasks sent again.
type redispatches struct {
	mu     sync.Mutex   // guards recent and total
	recent []Redispatch // the most recent, oldest first
	total  int
}

func (r *redispatches) add(e Redispatch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	e.Seq = r.total
	if len(r.recent) == keptRedispatches {
		r.recent = append(r.recent[:0], r.recent[1:]...)
	}
	r.recent = append(r.recent, e)
}

func (r *redispatches) list() ([]Redispatch, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Redispatch(nil), r.recent...), r.total
}

// redispatched records that t is sent again for reason, because of what
// happened on workerName. Neither j.mu nor t.mu may be held.
func (t *unit) redispatched(reason, workerName string, cause error) {
	j := t.job
	e := Redispatch{At: time.Now(), Chunk: t.id, Offset: t.offset, Reason: reason, Worker: workerName}
	if cause != nil {
		e.Cause = cause.Error()
	}
	if reason == "backup" {
		e.Cause = t.holders()
	}
	j.mu.Lock()
	if t.doc < len(j.docs) {
		e.Document = j.docs[t.doc].name
	}
	j.mu.Unlock()
	j.events.add(e)
}

// holders says which workers hold t and since when, for a backup's reason.
func (t *unit) holders() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for w, since := range t.running {
		return fmt.Sprintf("in flight on %s for %s", w, time.Since(since).Round(time.Millisecond))
	}
	return "in flight on no worker"
}

// Summarized returns s with only the first few targets of its query, cut
// short, as ListJobs shows them: a running job's targets may be megabytes.
func (s Snapshot) Summarized() Snapshot {
	s.Query = summarize(s.Query)
	return s
}

// TargetCount is how many targets the count query was submitted with.
func (s Snapshot) TargetCount() int { return s.Targets.count }

// TargetsSummarized reports whether Query holds fewer targets than were
// submitted, or some cut short.
func (s Snapshot) TargetsSummarized() bool {
	cq := s.Query.Spec.Count
	return cq != nil && (len(cq.Targets) != s.Targets.count || s.Targets.cut)
}
