package cluster

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/leaktest"
)

// TestMain fails the package if a test leaves a goroutine behind: every Node is
// closed, and all of memberlist's goroutines must end once it has shut down.
func TestMain(m *testing.M) { leaktest.Main(m) }

// testLog routes a node's logs to t.Log and counts failed join attempts.
type testLog struct {
	mu   sync.Mutex // guards done; held while logging, so nothing logs after the test ends
	tb   testing.TB
	done bool

	joinFails atomic.Int32
}

// newTestLog returns a testLog that stops logging when the test's cleanups
// run. Call it before starting nodes: cleanups run last-in first-out, so the
// nodes close before it stops.
func newTestLog(tb testing.TB) *testLog {
	l := &testLog{tb: tb}
	tb.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.done = true
	})
	return l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.tb.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (l *testLog) logger() *slog.Logger {
	h := slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(countingHandler{h, l})
}

// countingHandler counts msgJoinFailed records on their way to the text handler.
type countingHandler struct {
	slog.Handler
	l *testLog
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == msgJoinFailed {
		h.l.joinFails.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return countingHandler{h.Handler.WithAttrs(attrs), h.l}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.Handler.WithGroup(name), h.l}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
