package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/status"
)

func TestWithDefaultPort(t *testing.T) {
	for in, want := range map[string]string{
		"tally-1":         "tally-1:7070",
		"10.0.0.5":        "10.0.0.5:7070",
		"::1":             "[::1]:7070",
		"[::1]":           "[::1]:7070",
		"tally-1:7100":    "tally-1:7100",
		"[::1]:7100":      "[::1]:7100",
		"127.0.0.1:0":     "127.0.0.1:0",
		"dns:///tally:70": "dns:///tally:70",
		"unix:/tmp/s":     "unix:/tmp/s",
	} {
		if got := withDefaultPort(in); got != want {
			t.Errorf("withDefaultPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWatchEnded: Ctrl-C during jobs watch says the job keeps running; any
// other end of the watch is reported as it is.
func TestWatchEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	other := errors.New("coordinator unavailable")
	if err := watchEnded(ctx, "abc", other); err != other {
		t.Errorf("not interrupted: got %v, want %v", err, other)
	}
	if err := watchEnded(ctx, "abc", nil); err != nil {
		t.Errorf("job ended: got %v, want nil", err)
	}
	cancel()
	err := watchEnded(ctx, "abc", status.FromContextError(ctx.Err()).Err())
	if err == nil || !strings.Contains(err.Error(), "job abc, which keeps running") || !strings.Contains(err.Error(), "tally jobs cancel abc") {
		t.Errorf("interrupted: got %v, want that job abc keeps running and how to cancel it", err)
	}
	if got := describe(err); strings.Contains(got, "cancelled") {
		t.Errorf("described as %q: the job was not cancelled", got)
	}
}

// TestJSONLogDurations: JSON logs give durations as seconds, text logs as
// Go writes them.
func TestJSONLogDurations(t *testing.T) {
	var out bytes.Buffer
	log, err := (&gossipFlags{logLevel: "info", logFormat: "json"}).logger(env{stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("job ended", "elapsed", 1500*time.Millisecond)
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if rec["elapsed"] != 1.5 {
		t.Errorf("JSON elapsed: got %v, want 1.5 (seconds)", rec["elapsed"])
	}
	out.Reset()
	log, _ = (&gossipFlags{logLevel: "info", logFormat: "text"}).logger(env{stderr: &out})
	log.Info("job ended", "elapsed", 1500*time.Millisecond)
	if !strings.Contains(out.String(), "elapsed=1.5s") {
		t.Errorf("text log: got %q, want elapsed=1.5s", out.String())
	}
}
