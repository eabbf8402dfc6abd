package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/task"
)

// Worker states shown by ListWorkers.
const (
	stateConnecting = "connecting"
	stateReady      = "ready"
	stateFailed     = "failed"
)

// member is a worker as membership reports it.
type member struct {
	name, addr, gossip string
	cores              int
	static             bool // added by AddWorker, not by gossip: sync leaves it alone
	insecure           bool // runs with --insecure, as its metadata says
}

// pool keeps one session per live worker. Each session takes chunks from the
// scheduler while the worker has free slots and hands results to deliver.
type pool struct {
	log     *slog.Logger
	dial    task.Dialer
	sched   *scheduler
	deliver func(workerName string, t *unit, r task.Result)
	backup  func(workerName string, can func(*unit) bool) *unit // a straggler to copy, or nil
	// read reads a split for a worker that cannot reach its store;
	// release, if not nil, takes the buffer back once nothing reads it.
	read  func(ctx context.Context, ref task.Ref) (data []byte, release func(), err error)
	drain time.Duration
	// silence is how long a worker holding chunks may go without
	// answering any before its link is cut; 0 waits forever.
	silence time.Duration
	metrics *metrics.Metrics // may be nil

	mu       sync.Mutex // guards sessions
	sessions map[string]*session
	wg       sync.WaitGroup
}

// session is the coordinator's side of one worker.
type session struct {
	member
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex // guards state, inflight, slots, storage, done, bytes, heard and silent
	state    string
	inflight map[*unit]struct{}
	heard    time.Time // the last answer, or when the worker last got work while idle
	silent   bool      // the link was cut for silence
	slots    int
	storage  task.Storage // what the worker reads by reference, as its link says
	done     uint64
	bytes    int64 // bytes the successful done results covered
}

// sync makes the sessions match members: new workers get a session, workers
// gone (or moved to a new address) lose theirs.
func (p *pool) sync(members []member) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range members {
		seen[m.name] = true
		if s, ok := p.sessions[m.name]; ok && s.addr == m.addr {
			continue
		}
		p.startLocked(m)
	}
	for name, s := range p.sessions {
		if !seen[name] && !s.static {
			p.log.Info("worker left", "worker", name)
			s.cancel()
			delete(p.sessions, name)
		}
	}
}

// startLocked starts a session for m, replacing any session of the same name. p.mu is held.
func (p *pool) startLocked(m member) {
	if old, ok := p.sessions[m.name]; ok {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{member: m, ctx: ctx, cancel: cancel, state: stateConnecting, inflight: map[*unit]struct{}{}}
	p.sessions[m.name] = s
	p.log.Info("worker joined", "worker", m.name, "addr", m.addr)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.run(s)
	}()
}

// close ends every session and waits for them.
func (p *pool) close() {
	p.mu.Lock()
	for name, s := range p.sessions {
		s.cancel()
		delete(p.sessions, name)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// ready is how many workers have a working session.
func (p *pool) ready() int {
	n := 0
	for _, s := range p.list() {
		if s.getState() == stateReady {
			n++
		}
	}
	return n
}

// list returns the sessions sorted by worker name.
func (p *pool) list() []*session {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*session, 0, len(p.sessions))
	for _, s := range p.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	return out
}

// run keeps a session with the worker until the session is cancelled,
// reconnecting with backoff when the link fails.
func (p *pool) run(s *session) {
	backoff := 100 * time.Millisecond
	for s.ctx.Err() == nil {
		link, err := p.dial(s.ctx, s.addr)
		if err == nil && !s.static && link.Name() != s.name {
			// Another process holds the member's address (the member died
			// and its port was taken): with a gossip key or TLS it could
			// not have got this far; without them the name is all there is.
			link.Close()
			err = fmt.Errorf("the server at %s says it is %q, not the member %q", s.addr, link.Name(), s.name)
		}
		if err != nil {
			s.setState(stateFailed)
			p.log.Warn("worker unreachable", "worker", s.name, "err", err)
		} else {
			backoff = 100 * time.Millisecond
			if p.serve(s, link) {
				// A worker that went silent waits before it gets work again.
				backoff = p.silence
			}
		}
		select {
		case <-time.After(backoff):
		case <-s.ctx.Done():
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// serve dispatches chunks over one link until it fails or the session ends. On
// a graceful end the worker finishes what it holds; whatever is still in flight
// when the link goes is queued again for other workers. It reports whether
// the link was cut because the worker went silent.
func (p *pool) serve(s *session, link task.Link) (silent bool) {
	free := make(chan struct{}, link.Slots())
	for range link.Slots() {
		free <- struct{}{}
	}
	s.mu.Lock()
	s.state, s.slots, s.storage, s.silent = stateReady, link.Slots(), link.Storage(), false
	s.mu.Unlock()

	lctx, lcancel := context.WithCancel(s.ctx)
	go p.watchSilence(lctx, s, func() { link.Close(); lcancel() })
	recvDone := make(chan error, 1)
	go func() {
		recvDone <- p.receive(s, link, free)
		lcancel()
	}()

	for {
		select {
		case <-free:
		case <-lctx.Done():
		}
		if lctx.Err() != nil {
			break
		}
		takes := func(t *unit) bool { return p.takes(s, t) }
		t, err := p.sched.next(lctx,
			func(t *unit) bool { return !t.avoids(s.name, p.ready) && takes(t) },
			func() *unit {
				t := p.backup(s.name, takes)
				if t != nil {
					p.metrics.Redispatched("backup")
					t.redispatched("backup", s.name, nil)
				}
				return t
			})
		if err != nil {
			break
		}
		if !t.hold() { // merged, or its job ended: nothing to send
			free <- struct{}{}
			continue
		}
		wt, release, err := p.prepare(lctx, s, t)
		if err != nil {
			t.unhold()
			free <- struct{}{}
			p.deliver(s.name, t, task.Result{JobID: t.job.id, ChunkID: t.id, Attempt: wt.Attempt, Err: err})
			continue
		}
		alone := t.runsAlone() && link.Slots() > 1
		if alone && !takeAll(lctx, free, link.Slots()-1) {
			release()
			t.unhold()
			p.sched.requeue(t)
			break
		}
		s.mu.Lock()
		if len(s.inflight) == 0 {
			s.heard = time.Now()
		}
		s.inflight[t] = struct{}{}
		s.mu.Unlock()
		t.started(s.name)
		t.job.dispatched()
		if err := send(link, wt, t, release); err != nil {
			p.log.Warn("send to worker failed", "worker", s.name, "err", err)
			break
		}
		p.metrics.Streamed(len(wt.Data))
		if alone {
			// Nothing else goes on this link until t is answered.
			if !takeAll(lctx, free, 1) {
				break
			}
			for range link.Slots() {
				free <- struct{}{}
			}
		}
	}

	var err error
	received, handedBack := false, false
	if s.ctx.Err() != nil {
		// The worker left (or was declared dead), or we are stopping. Its
		// chunks go back to the queue at once, so other workers need not wait;
		// meanwhile the worker may still answer them, and the first answer wins.
		p.handBack(s)
		handedBack = true
		link.CloseSend()
		select {
		case err = <-recvDone:
			received = true
		case <-time.After(p.drain):
		}
	}
	link.Close()
	lcancel()
	if !received {
		err = <-recvDone
	}
	s.setState(stateFailed)
	if handedBack {
		s.forget()
		return false
	}
	s.mu.Lock()
	silent = s.silent
	s.mu.Unlock()
	if silent {
		// As a crash: the chunks go to others, and one that meets only
		// silence fails its job after MaxAttempts instead of waiting forever.
		err = fmt.Errorf("worker answered nothing for %v with chunks in flight (--answer-timeout)", p.silence)
	} else if err == nil || errors.Is(err, io.EOF) {
		err = errors.New("worker closed the session")
	}
	p.log.Warn("worker link failed", "worker", s.name, "err", err)
	p.requeueLost(s, err)
	return silent
}

// wholeRate is the slowest a worker is expected to read a whole document
// (one task, decompressed on the way, with no answer until its end).
const wholeRate = 4 << 20 // bytes per second

// wholeTime is the time the whole documents in flight on s may take
// beyond the answer timeout. s.mu is held.
func (s *session) wholeTime() time.Duration {
	var bytes int64
	for t := range s.inflight {
		if t.ref != nil && t.ref.Whole {
			bytes += t.ref.Size
		}
	}
	return time.Duration(bytes / wholeRate * int64(time.Second))
}

// watchSilence cuts the link (cut) when s holds chunks and has answered
// none for p.silence: a worker that takes chunks and never answers (hung,
// or not a real worker) cannot hold a job forever.
func (p *pool) watchSilence(ctx context.Context, s *session, cut func()) {
	if p.silence <= 0 {
		return
	}
	tick := time.NewTicker(min(p.silence/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		quiet := len(s.inflight) > 0 && time.Since(s.heard) > p.silence+s.wholeTime()
		s.silent = s.silent || quiet
		s.mu.Unlock()
		if quiet {
			cut()
			return
		}
	}
}

// takes reports whether s may run t: a chunk; a split that s's worker reads
// itself; or a split that no ready worker reads, which the coordinator then
// reads for it (prepare). A whole document (compressed) goes only to a
// worker that reads it. It is called with the scheduler's lock held.
func (p *pool) takes(s *session, t *unit) bool {
	if t.ref == nil || s.reads(t.ref.URL) {
		return true
	}
	return !t.ref.Whole && !p.someoneReads(t.ref.URL)
}

// unreadable reports whether no ready worker can take t: a whole document
// that none reads.
func (p *pool) unreadable(t *unit) bool {
	return t.ref != nil && t.ref.Whole && !p.someoneReads(t.ref.URL)
}

// someoneReads reports whether a ready worker reads url by reference.
func (p *pool) someoneReads(url string) bool {
	for _, s := range p.list() {
		if s.getState() == stateReady && s.reads(url) {
			return true
		}
	}
	return false
}

// prepare returns the task to send s for t: a split that s's worker cannot
// read goes with its bytes, which the coordinator reads from the store
// into a buffer that release gives back once the send is done with it.
func (p *pool) prepare(ctx context.Context, s *session, t *unit) (wt task.Task, release func(), err error) {
	wt = t.workerTask()
	if t.ref == nil || s.reads(t.ref.URL) {
		return wt, func() {}, nil
	}
	data, release, err := p.read(ctx, *t.ref)
	if err != nil {
		return wt, nil, err
	}
	wt.Data, wt.Ref = data, nil
	return wt, release, nil
}

// reads reports whether s's worker reads url by reference.
func (s *session) reads(url string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storage.CanRead(url)
}

// takeAll takes n slots from free, or returns false when ctx ends first.
func takeAll(ctx context.Context, free <-chan struct{}, n int) bool {
	for range n {
		select {
		case <-free:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// receive delivers results until the link ends, freeing a slot for each.
func (p *pool) receive(s *session, link task.Link, free chan<- struct{}) error {
	for {
		r, err := link.Recv()
		if err != nil {
			return err
		}
		// A result that answers nothing in flight is ignored and frees no slot.
		if t := s.take(r); t != nil {
			free <- struct{}{}
			p.deliver(s.name, t, r)
		}
	}
}

// take removes the in-flight task that r answers; nil if r answers none.
func (s *session) take(r task.Result) *unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heard = time.Now()
	for t := range s.inflight {
		if t.id == r.ChunkID && t.job.id == r.JobID {
			delete(s.inflight, t)
			s.done++
			if r.Err == nil {
				s.bytes += t.size(r)
			}
			return t
		}
	}
	return nil
}

// handBack queues copies of the session's chunks for other workers without
// counting a failure: the worker is leaving, not failing.
func (p *pool) handBack(s *session) {
	s.mu.Lock()
	held := make([]*unit, 0, len(s.inflight))
	for t := range s.inflight {
		held = append(held, t)
	}
	s.mu.Unlock()
	for _, t := range held {
		if t.job.ctx.Err() == nil && !t.merged.Load() {
			p.metrics.Redispatched("handback")
			t.redispatched("handback", s.name, nil)
			p.sched.requeue(t)
		}
	}
}

// forget drops the session's unanswered chunks, which handBack already queued.
func (s *session) forget() {
	s.mu.Lock()
	lost := s.inflight
	s.inflight = map[*unit]struct{}{}
	s.mu.Unlock()
	for t := range lost {
		t.stopped(s.name)
	}
}

// requeueLost sends the chunks of a session whose link broke back to the
// queue. A chunk that was alone on the link is blamed: a chunk that crashes
// every worker it reaches then fails its job instead of the cluster. Chunks
// lost together are not blamed, since any one of them may be the culprit;
// each runs alone next time, where a crash tells.
func (p *pool) requeueLost(s *session, cause error) {
	s.mu.Lock()
	lost := s.inflight
	s.inflight = map[*unit]struct{}{}
	s.mu.Unlock()
	for t := range lost {
		if len(lost) > 1 {
			t.stopped(s.name)
			t.isolate()
			if t.job.ctx.Err() == nil && !t.merged.Load() {
				p.metrics.Redispatched("lost")
				t.redispatched("lost", s.name, cause)
				p.sched.requeue(t)
			}
			continue
		}
		if t.job.lost(t, s.name, fmt.Errorf("link lost: %w", cause)) {
			p.metrics.Redispatched("lost")
			t.redispatched("lost", s.name, cause)
			p.sched.requeue(t)
		}
	}
}

func (s *session) setState(state string) {
	s.mu.Lock()
	s.state = state
	s.mu.Unlock()
}

func (s *session) getState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}
