package coordinator

import "github.com/tallyhq/tally/task"

// send sends t on link, holding t's data (see unit.hold) until the link no
// longer reads it: until its transport has written it out for a gRPC link,
// until the worker is done for an in-process one, and until Send returns
// for any other.
// release gives back a buffer that t's data was read into for this send
// alone (a split read here), at the same time.
func send(link task.Link, t task.Task, u *unit, release func()) error {
	done := func() {
		release()
		u.unhold()
	}
	if a, ok := link.(task.AsyncLink); ok {
		return a.SendAsync(t, done)
	}
	defer done()
	return link.Send(t)
}
