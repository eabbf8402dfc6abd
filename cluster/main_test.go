package cluster

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/leaktest"
	"github.com/tallyhq/tally/internal/testlog"
)

// TestMain fails the package if a test leaves a goroutine behind: every Node is
// closed, and all of memberlist's goroutines must end once it has shut down.
func TestMain(m *testing.M) { leaktest.Main(m) }

// testLog routes a node's logs to t.Log and counts failed join attempts.
type testLog struct {
	out       io.Writer // testlog.Writer
	joinFails atomic.Int32
}

// newTestLog returns a testLog that stops logging when the test's cleanups
// run. Call it before starting nodes: cleanups run last-in first-out, so the
// nodes close before it stops.
func newTestLog(tb testing.TB) *testLog { return &testLog{out: testlog.Writer(tb)} }

func (l *testLog) logger() *slog.Logger {
	h := slog.NewTextHandler(l.out, &slog.HandlerOptions{Level: slog.LevelDebug})
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
