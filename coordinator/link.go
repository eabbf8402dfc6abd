package coordinator

import "tally/task"

// send sends t on link, holding t's data (see unit.hold) until the link no
// longer reads it: until its transport has written it out for a gRPC link,
// until the worker is done for an in-process one, and until Send returns
// for any other.
func send(link task.Link, t task.Task, u *unit) error {
	if a, ok := link.(task.AsyncLink); ok {
		return a.SendAsync(t, u.unhold)
	}
	defer u.unhold()
	return link.Send(t)
}
