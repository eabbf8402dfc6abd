// Package specialtest makes special files (named pipes, unix sockets) for
// tests of the input paths that must refuse them, and bounds calls that
// would hang on one: opening a named pipe blocks until a writer comes, in
// a system call that no context can cancel.
package specialtest

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// MustFIFO makes a named pipe at path.
func MustFIFO(tb testing.TB, path string) string {
	tb.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		tb.Fatalf("mkfifo %s: %v", path, err)
	}
	return path
}

// MustSocket makes a listening unix socket at path, closed (and removed)
// in tb.Cleanup.
func MustSocket(tb testing.TB, path string) string {
	tb.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		tb.Fatalf("listen on %s: %v", path, err)
	}
	tb.Cleanup(func() { l.Close() })
	return path
}

// Within runs f and returns what it returns, failing the test when f has
// not returned after d: it blocked, on a named pipe if it is one of fifos.
// Each of fifos is then opened for writing, which lets a reader blocked in
// open(2) go on, so that the goroutine ends.
func Within[T any](tb testing.TB, d time.Duration, fifos []string, f func() T) T {
	tb.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
	}
	for _, p := range fifos {
		if w, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	tb.Fatalf("still running after %v: it blocked (on a named pipe?)", d)
	var zero T
	return zero
}
