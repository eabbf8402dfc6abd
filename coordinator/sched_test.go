package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/query"
)

// newTestJob returns a job for the scheduler tests, ended in t.Cleanup.
func newTestJob(tb testing.TB, id string) *job {
	tb.Helper()
	j := newJob(context.Background(), id, countQ(query.Token, false, "x"), 64, 3)
	tb.Cleanup(func() { j.cancel(errors.New("test over")) })
	return j
}

// pushTasks queues n new tasks of j and returns them.
func pushTasks(tb testing.TB, s *scheduler, j *job, n int) []*unit {
	tb.Helper()
	var ts []*unit
	for range n {
		t, err := j.addTask(0, chunk.Chunk{Data: []byte("x\n")})
		if err != nil {
			tb.Fatalf("add task to %s: %v", j.id, err)
		}
		s.push(t)
		ts = append(ts, t)
	}
	return ts
}

// name is a task's "job/chunk" for messages.
func name(t *unit) string {
	if t == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s/%d", t.job.id, t.id)
}

// nextN takes n tasks from s, failing if any take blocks.
func nextN(tb testing.TB, s *scheduler, n int) string {
	tb.Helper()
	var got []string
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t, err := s.next(ctx, nil, nil)
		cancel()
		if err != nil {
			tb.Fatalf("next after %v: %v", got, err)
		}
		got = append(got, name(t))
	}
	return strings.Join(got, " ")
}

func TestSchedulerFairness(t *testing.T) {
	t.Run("two jobs alternate", func(t *testing.T) {
		s := newScheduler()
		a, b := newTestJob(t, "a"), newTestJob(t, "b")
		pushTasks(t, s, a, 4)
		pushTasks(t, s, b, 2)
		if got, want := nextN(t, s, 6), "a/0 b/0 a/1 b/1 a/2 a/3"; got != want {
			t.Errorf("got order %q, want %q", got, want)
		}
	})
	t.Run("a job that arrives later gets its turn", func(t *testing.T) {
		s := newScheduler()
		a, b, c := newTestJob(t, "a"), newTestJob(t, "b"), newTestJob(t, "c")
		pushTasks(t, s, a, 3)
		pushTasks(t, s, b, 3)
		if got, want := nextN(t, s, 2), "a/0 b/0"; got != want {
			t.Fatalf("got order %q, want %q", got, want)
		}
		pushTasks(t, s, c, 2)
		// Every job takes one turn in each round of three, whoever starts the round.
		got := strings.Fields(nextN(t, s, 6))
		for i := 0; i < len(got); i += 3 {
			round := map[byte]bool{got[i][0]: true, got[i+1][0]: true, got[i+2][0]: true}
			if len(round) != 3 {
				t.Errorf("got order %v, want each of a, b, c once in %v", got, got[i:i+3])
			}
		}
	})
	t.Run("queued counts per job", func(t *testing.T) {
		s := newScheduler()
		a, b := newTestJob(t, "a"), newTestJob(t, "b")
		pushTasks(t, s, a, 3)
		pushTasks(t, s, b, 1)
		nextN(t, s, 2)
		if got := s.queued(a); got != 2 {
			t.Errorf("got %d queued for a, want 2", got)
		}
		if got := s.queued(b); got != 0 {
			t.Errorf("got %d queued for b, want 0", got)
		}
	})
}

func TestSchedulerRequeue(t *testing.T) {
	t.Run("first in its job", func(t *testing.T) {
		s := newScheduler()
		a := newTestJob(t, "a")
		ts := pushTasks(t, s, a, 3)
		if got := nextN(t, s, 2); got != "a/0 a/1" {
			t.Fatalf("got %q, want %q", got, "a/0 a/1")
		}
		s.requeue(ts[0])
		if got, want := nextN(t, s, 2), "a/0 a/2"; got != want {
			t.Errorf("after requeue: got order %q, want %q", got, want)
		}
	})
	t.Run("a job with nothing queued", func(t *testing.T) {
		s := newScheduler()
		a, b := newTestJob(t, "a"), newTestJob(t, "b")
		ta := pushTasks(t, s, a, 1)
		pushTasks(t, s, b, 2)
		if got := nextN(t, s, 1); got != "a/0" {
			t.Fatalf("got %q, want a/0", got)
		}
		s.requeue(ta[0])
		if got, want := nextN(t, s, 3), "b/0 a/0 b/1"; got != want {
			t.Errorf("after requeue: got order %q, want %q", got, want)
		}
	})
	t.Run("wakes a waiting next", func(t *testing.T) {
		s := newScheduler()
		a := newTestJob(t, "a")
		ts := pushTasks(t, s, a, 1)
		nextN(t, s, 1)
		got := make(chan string, 1)
		go func() {
			tk, err := s.next(context.Background(), nil, nil)
			if err != nil {
				got <- err.Error()
				return
			}
			got <- name(tk)
		}()
		s.requeue(ts[0])
		if g := <-got; g != "a/0" {
			t.Errorf("got %q, want a/0", g)
		}
	})
}

func TestSchedulerDrop(t *testing.T) {
	s := newScheduler()
	a, b := newTestJob(t, "a"), newTestJob(t, "b")
	pushTasks(t, s, a, 3)
	pushTasks(t, s, b, 2)
	nextN(t, s, 1) // a/0; b is next in turn
	s.drop(a)
	if got := s.queued(a); got != 0 {
		t.Errorf("got %d queued for a after drop, want 0", got)
	}
	if got, want := nextN(t, s, 2), "b/0 b/1"; got != want {
		t.Errorf("after drop: got order %q, want %q", got, want)
	}
	s.drop(a) // twice is fine
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if tk, err := s.next(ctx, nil, nil); err == nil {
		t.Errorf("after drop: got %s, want nothing queued", name(tk))
	}
}

func TestSchedulerSkipsEndedJobs(t *testing.T) {
	s := newScheduler()
	a, b := newTestJob(t, "a"), newTestJob(t, "b")
	pushTasks(t, s, a, 2)
	pushTasks(t, s, b, 2)
	a.fail(errors.New("gone"))
	if got, want := nextN(t, s, 2), "b/0 b/1"; got != want {
		t.Errorf("got order %q, want %q (a ended)", got, want)
	}
	if got := s.queued(a); got != 0 {
		t.Errorf("got %d queued for ended a, want 0", got)
	}
}

func TestSchedulerNextCancel(t *testing.T) {
	t.Run("already cancelled", func(t *testing.T) {
		s := newScheduler()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if tk, err := s.next(ctx, nil, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("got %s, %v; want context.Canceled", name(tk), err)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		s := newScheduler()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := s.next(ctx, nil, nil)
			errc <- err
		}()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
	t.Run("a push wakes every waiter", func(t *testing.T) {
		s := newScheduler()
		a := newTestJob(t, "a")
		got := make(chan string, 2)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for range 2 {
			go func() {
				tk, err := s.next(ctx, nil, nil)
				if err != nil {
					got <- "err: " + err.Error()
					return
				}
				got <- name(tk)
			}()
		}
		pushTasks(t, s, a, 2)
		seen := map[string]bool{<-got: true, <-got: true}
		if !seen["a/0"] || !seen["a/1"] {
			t.Errorf("got %v, want a/0 and a/1", seen)
		}
	})
}

// TestSchedulerAccept checks the filter a session passes to next: a chunk it
// refuses stays queued, in order, for a session that takes it.
func TestSchedulerAccept(t *testing.T) {
	s := newScheduler()
	a, b := newTestJob(t, "a"), newTestJob(t, "b")
	ta := pushTasks(t, s, a, 3)
	pushTasks(t, s, b, 1)
	notA1 := func(tk *unit) bool { return tk != ta[1] }
	var got []string
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		tk, err := s.next(ctx, notA1, nil)
		cancel()
		if err != nil {
			t.Fatalf("next after %v: %v", got, err)
		}
		got = append(got, name(tk))
	}
	if g, want := strings.Join(got, " "), "a/0 b/0 a/2"; g != want {
		t.Errorf("refusing a/1: got order %q, want %q", g, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if tk, err := s.next(ctx, notA1, nil); err == nil {
		t.Errorf("only a refused chunk queued: got %s, want none", name(tk))
	}
	if got := nextN(t, s, 1); got != "a/1" {
		t.Errorf("a session that takes it: got %q, want a/1", got)
	}
}
