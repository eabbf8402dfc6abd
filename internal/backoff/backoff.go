// Package backoff spaces out retries: exponentially growing waits with
// jitter, so that many workers retrying one failed store, or one
// coordinator redialling a worker, do not retry in lockstep.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff hands out the waits between attempts. The zero value is not
// usable; build one with New. It is not safe for concurrent use.
type Backoff struct {
	base, max time.Duration
	next      time.Duration
}

// New returns a Backoff whose waits start near base and double up to max.
func New(base, max time.Duration) *Backoff {
	return &Backoff{base: base, max: max, next: base}
}

// Next returns the next wait: the current step, less up to a quarter of
// it at random, and doubles the step up to max.
func (b *Backoff) Next() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.max)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// Reset starts the waits again from base, after a success.
func (b *Backoff) Reset() { b.next = b.base }

// Wait sleeps for the next wait, or until ctx ends; it reports whether the
// wait ran its course.
func (b *Backoff) Wait(ctx context.Context) bool {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
