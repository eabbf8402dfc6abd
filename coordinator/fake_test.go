package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/worker"
)

// fakeLink is a task.Link made of funcs, so that each test says only what differs
// (the style of WTF's mock package).
type fakeLink struct {
	name        string // as its hello would say: the address it was dialled at
	SlotsFn     func() int
	StorageFn   func() task.Storage // nil: the worker reads nothing by reference
	SendFn      func(task.Task) error
	RecvFn      func() (task.Result, error)
	CloseSendFn func() error
	CloseFn     func()
}

func (l *fakeLink) Slots() int   { return l.SlotsFn() }
func (l *fakeLink) Name() string { return l.name }
func (l *fakeLink) Storage() task.Storage {
	if l.StorageFn == nil {
		return task.Storage{}
	}
	return l.StorageFn()
}
func (l *fakeLink) Send(t task.Task) error     { return l.SendFn(t) }
func (l *fakeLink) Recv() (task.Result, error) { return l.RecvFn() }
func (l *fakeLink) CloseSend() error           { return l.CloseSendFn() }
func (l *fakeLink) Close()                     { l.CloseFn() }

// event is what one Recv returns: a result, or an error that ends the link.
type event struct {
	r   task.Result
	err error
}

// newScriptedLink returns a fakeLink that answers each task it is sent with
// the events script returns for it (none, one, several, or an error that
// drops the link), in order. Send runs script at once, so that CloseSend can
// queue io.EOF behind every answer. Recv blocks until an event or Close.
func newScriptedLink(slots int, script func(task.Task) []event) *fakeLink {
	events := make(chan event, 1<<12)
	closed := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex // guards dead
	dead := false
	push := func(e event) {
		select {
		case events <- e:
		case <-closed:
		}
	}
	return &fakeLink{
		SlotsFn: func() int { return slots },
		SendFn: func(t task.Task) error {
			mu.Lock()
			defer mu.Unlock()
			if dead {
				return errors.New("fake link is down")
			}
			for _, e := range script(t) {
				if e.err != nil {
					dead = true // nothing after a dropped link reaches the coordinator
				}
				push(e)
				if dead {
					break
				}
			}
			return nil
		},
		RecvFn: func() (task.Result, error) {
			select {
			case e := <-events:
				return e.r, e.err
			case <-closed:
				return task.Result{}, errors.New("fake link closed")
			}
		},
		CloseSendFn: func() error {
			push(event{err: io.EOF})
			return nil
		},
		CloseFn: func() { once.Do(func() { close(closed) }) },
	}
}

// fakeDialer dials the fake workers by address. A worker's func is called
// once per dial, and may return an error to refuse the connection.
func fakeDialer(workers map[string]func() (task.Link, error)) task.Dialer {
	return func(ctx context.Context, addr string) (task.Link, error) {
		dial, ok := workers[addr]
		if !ok {
			return nil, fmt.Errorf("no fake worker at %q", addr)
		}
		l, err := dial()
		if fl, ok := l.(*fakeLink); ok && fl.name == "" {
			fl.name = addr // fake workers are named by their address
		}
		return l, err
	}
}

// answer is one result a fake worker produced, for the test to inspect.
type answer struct {
	worker string
	task   task.Task
	err    error
	lost   bool // counted but never delivered (the link dropped)
}

// answerLog records what the fake workers did. It is safe for concurrent use.
type answerLog struct {
	mu      sync.Mutex // guards answers
	answers []answer
}

func (l *answerLog) add(a answer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a.task.Data = nil
	l.answers = append(l.answers, a)
}

func (l *answerLog) all() []answer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]answer(nil), l.answers...)
}

// countingScript answers each task with engine's result, passes the result
// through shape (which returns the events to deliver), and logs what it did.
func countingScript(name string, engine *worker.Engine, log *answerLog, shape func(r task.Result) []event) func(task.Task) []event {
	return func(t task.Task) []event {
		r := engine.Process(context.Background(), t)
		evs := shape(r)
		delivered := false
		for _, e := range evs {
			if e.err != nil {
				break
			}
			delivered = true
			log.add(answer{worker: name, task: t, err: e.r.Err})
		}
		if !delivered {
			log.add(answer{worker: name, task: t, lost: true})
		}
		return evs
	}
}

func deliver(r task.Result) []event { return []event{{r: r}} }

// newAsyncLink returns a fakeLink that answers each task on a goroutine of its
// own, so that a test can hold answers back (a slow, hung or dying worker)
// without holding the coordinator's dispatch loop in Send, as a blocking
// newScriptedLink script would. answer calls emit for each event to deliver,
// at its own pace, and must return once ctx ends (the link is closed). emit
// reports whether the coordinator received the event: after an error event
// (a dropped link) nothing more gets through. CloseSend lets the answers under
// way finish, then Recv returns io.EOF, as a worker does when the coordinator
// ends a session gracefully. Close ends ctx and waits for every goroutine.
func newAsyncLink(slots int, answer func(ctx context.Context, t task.Task, emit func(event) bool)) *fakeLink {
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan event)
	eof := make(chan struct{})
	var (
		answers sync.WaitGroup // answer goroutines
		waiter  sync.WaitGroup // the goroutine that closes eof after CloseSend
		mu      sync.Mutex     // guards down, closing and closed
		down    bool           // an error event was delivered
		closing bool           // CloseSend was called
		closed  bool           // Close was called
	)
	emit := func(e event) bool {
		mu.Lock()
		isDown := down
		mu.Unlock()
		if isDown {
			return false
		}
		select {
		case events <- e:
			if e.err != nil {
				mu.Lock()
				down = true
				mu.Unlock()
			}
			return true
		case <-ctx.Done():
			return false
		}
	}
	return &fakeLink{
		SlotsFn: func() int { return slots },
		SendFn: func(t task.Task) error {
			mu.Lock()
			defer mu.Unlock()
			if down || closing || closed {
				return errors.New("fake link is down")
			}
			answers.Add(1)
			go func() {
				defer answers.Done()
				answer(ctx, t, emit)
			}()
			return nil
		},
		RecvFn: func() (task.Result, error) {
			select {
			case e := <-events:
				return e.r, e.err
			case <-eof:
				return task.Result{}, io.EOF
			case <-ctx.Done():
				return task.Result{}, errors.New("fake link closed")
			}
		},
		CloseSendFn: func() error {
			mu.Lock()
			defer mu.Unlock()
			if !closing && !closed {
				closing = true
				waiter.Add(1)
				go func() {
					defer waiter.Done()
					answers.Wait()
					close(eof)
				}()
			}
			return nil
		},
		CloseFn: func() {
			mu.Lock()
			closed = true
			mu.Unlock()
			cancel()
			answers.Wait()
			waiter.Wait()
		},
	}
}
