// Package testlog routes the logs of what a test starts (coordinators,
// workers, nodes) to the test's own log, until the test ends: a line
// logged into a finished test would panic, and a server may still log
// while it stops.
package testlog

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// writer writes each line to tb.Log until tb's cleanups run.
type writer struct {
	mu   sync.Mutex // guards done; held while logging, so nothing logs after the test ends
	tb   testing.TB
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// Writer returns a writer to tb.Log that goes quiet when tb's cleanups run.
// Make it before starting what logs: cleanups run last in, first out, so
// what the test started stops before the writer does.
func Writer(tb testing.TB) io.Writer {
	w := &writer{tb: tb}
	tb.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.done = true
	})
	return w
}

// New returns a text logger of records at level and above, to Writer(tb).
func New(tb testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(Writer(tb), &slog.HandlerOptions{Level: level}))
}
