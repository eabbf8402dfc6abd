package task

import "context"

// MaxMessageBytes bounds one gRPC message between coordinator and worker. It
// is above the coordinator's hard limit on a chunk (a line that cannot be
// cut) plus room for the frequency table that answers it.
const MaxMessageBytes = 256 << 20

// Link is a session with one worker. Send is called from one goroutine and
// Recv from another; they may run at the same time. CloseSend tells the
// worker that no more tasks come: Recv then returns the outstanding results
// and io.EOF. Close aborts the session and is safe to call more than once.
// Send must be done with the task's Data when it returns, for the buffer
// goes back to a pool; a link that reads it later (an in-process one)
// implements AsyncLink.
type Link interface {
	// Slots is how many tasks the worker accepts at once.
	Slots() int
	// Storage is what the worker can read by reference.
	Storage() Storage
	// Name is the worker's name as it said in its hello; "" for a link
	// that cannot say (one in this process). The coordinator checks it
	// against the member it meant to reach.
	Name() string
	Send(Task) error
	Recv() (Result, error)
	CloseSend() error
	Close()
}

// AsyncLink is a Link whose sends return before it is done reading the
// task's Data: an in-process one, whose worker reads it in place, or a gRPC
// one, whose transport writes it out after the send returns. SendAsync
// calls done once nothing reads Data any more.
type AsyncLink interface {
	Link
	SendAsync(t Task, done func()) error
}

// Dialer opens a Link to the worker at a gRPC address.
type Dialer func(ctx context.Context, addr string) (Link, error)
