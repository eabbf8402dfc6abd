package coordinator

import (
	"context"
	"sync"
)

// scheduler holds the chunks waiting for a worker. Jobs take turns, one chunk
// each, so that several jobs share the workers and none starves.
type scheduler struct {
	mu     sync.Mutex // guards queues, order, rr and wake
	queues map[*job][]*unit
	order  []*job // jobs with queued chunks, in turn order
	rr     int
	wake   chan struct{} // closed and replaced when a chunk is queued
}

func newScheduler() *scheduler {
	return &scheduler{queues: map[*job][]*unit{}, wake: make(chan struct{})}
}

// push queues t behind its job's other chunks.
func (s *scheduler) push(t *unit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueue(t.job)
	s.queues[t.job] = append(s.queues[t.job], t)
	s.signal()
}

// requeue puts t back at the head of its job's queue: a retried chunk goes first,
// because the job cannot finish without it.
func (s *scheduler) requeue(t *unit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueue(t.job)
	s.queues[t.job] = append([]*unit{t}, s.queues[t.job]...)
	s.signal()
}

// drop forgets the queued chunks of j (a job that ended).
func (s *scheduler) drop(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(j)
}

// find returns a queued chunk of j that match holds for, or nil. match is
// called with s.mu held and must not block.
func (s *scheduler) find(j *job, match func(*unit) bool) *unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.queues[j] {
		if match(t) {
			return t
		}
	}
	return nil
}

// queued is how many chunks of j wait for a worker.
func (s *scheduler) queued(j *job) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queues[j])
}

// next blocks until a chunk that accept takes is queued and returns it,
// taking jobs in turn. accept is called with s.mu held and must not block.
// When nothing is queued, fallback (if not nil) may offer a chunk instead: a
// backup copy of a straggler; it is asked again at every wake-up.
func (s *scheduler) next(ctx context.Context, accept func(*unit) bool, fallback func() *unit) (*unit, error) {
	for {
		s.mu.Lock()
		t := s.pop(accept)
		wake := s.wake
		s.mu.Unlock()
		if t == nil && fallback != nil {
			t = fallback()
		}
		if t != nil {
			return t, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// pop takes the first accepted chunk of the next job in turn, forgetting jobs
// that ended. s.mu is held.
func (s *scheduler) pop(accept func(*unit) bool) *unit {
	for tried := 0; tried < len(s.order); {
		if s.rr >= len(s.order) {
			s.rr = 0
		}
		j := s.order[s.rr]
		q := s.live(j)
		if len(q) == 0 || j.ctx.Err() != nil {
			s.remove(j)
			continue
		}
		for i, t := range q {
			if accept != nil && !accept(t) {
				continue
			}
			s.queues[j] = append(q[:i:i], q[i+1:]...)
			if len(q) == 1 {
				s.remove(j)
			} else {
				s.rr++
			}
			return t
		}
		s.rr++
		tried++
	}
	return nil
}

// live drops j's queued chunks that another copy already answered and
// returns the rest. s.mu is held.
func (s *scheduler) live(j *job) []*unit {
	q := s.queues[j]
	kept := q[:0]
	for _, t := range q {
		if !t.merged.Load() {
			kept = append(kept, t)
		}
	}
	clear(q[len(kept):])
	s.queues[j] = kept
	return kept
}

// wakeAll makes every waiting session look at the queue again.
func (s *scheduler) wakeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signal()
}

// enqueue adds j to the turn order if it is not there. s.mu is held.
func (s *scheduler) enqueue(j *job) {
	if _, ok := s.queues[j]; !ok {
		s.queues[j] = nil
		s.order = append(s.order, j)
	}
}

// remove takes j out of the turn order. s.mu is held.
func (s *scheduler) remove(j *job) {
	if _, ok := s.queues[j]; !ok {
		return
	}
	delete(s.queues, j)
	for i, o := range s.order {
		if o == j {
			s.order = append(s.order[:i], s.order[i+1:]...)
			if i < s.rr {
				s.rr--
			}
			break
		}
	}
}

// signal wakes the sessions waiting in next. s.mu is held.
func (s *scheduler) signal() {
	close(s.wake)
	s.wake = make(chan struct{})
}
