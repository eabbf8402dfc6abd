package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/client"
)

func TestProgressNeverOnStdout(t *testing.T) {
	alice := filepath.Join(textDir, "alice.txt")
	r := runTally(t, "", "count", "--progress", "always", "--json", "-e", "the", alice)
	if r.code != 0 {
		t.Fatalf("got %v, want exit 0", r)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("got stdout %q, want exactly one JSON object", clip(r.stdout))
	}
	if !strings.Contains(r.stderr, "workers") || !strings.Contains(r.stderr, "MB") {
		t.Errorf("got stderr %q, want the progress line", clip(r.stderr))
	}
	for _, args := range [][]string{{"--quiet"}, {"--progress", "never"}, {}} {
		r := runTally(t, "", append([]string{"count", "--json", "-e", "the", alice}, args...)...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("count %q: got %v, want exit 0 and nothing on stderr (stderr is not a terminal)", args, r)
		}
	}
}

func TestFormatProgress(t *testing.T) {
	tests := []struct {
		p    client.Progress
		want []string
	}{
		{client.Progress{BytesCounted: 50e6, BytesTotal: 100e6, Workers: 3}, []string{"50.0 MB / 100.0 MB (50%)", "25 MB/s", "ETA 2s", "3 workers"}},
		{client.Progress{BytesCounted: 2e6, Workers: 1}, []string{"2.0 MB", "  1 worker"}},
		{client.Progress{Waiting: "waiting for workers"}, []string{"0 workers", "(waiting for workers)"}},
	}
	for _, tt := range tests {
		got := formatProgress(tt.p, 2*time.Second)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("got %q, want it to contain %q", got, w)
			}
		}
		if strings.Contains(got, " 1 workers") {
			t.Errorf("got %q, want \"1 worker\"", got)
		}
	}
}

// TestProgressKnownTotal: a job of local files shows their whole size from
// the start, not the documents the coordinator has seen so far.
func TestProgressKnownTotal(t *testing.T) {
	var b strings.Builder
	line := newProgressLine(&b, 830e6)
	line.show(client.Progress{BytesCounted: 371.2e6, BytesTotal: 415.1e6, Workers: 2})
	if !strings.Contains(b.String(), "371.2 MB / 830.0 MB (44%)") || !strings.Contains(b.String(), "2 workers") {
		t.Errorf("got %q, want 371.2 MB / 830.0 MB (44%%) and 2 workers", b.String())
	}
	dir := t.TempDir()
	a, c := writeFile(t, dir, "a.txt", []byte(strings.Repeat("the cat\n", 187500))), writeFile(t, dir, "c.txt", []byte(strings.Repeat("a hat\n", 250000)))
	r := runTally(t, "", "count", "--progress", "always", "-e", "the", a, c)
	if r.code != 0 || !strings.Contains(r.stderr, " / 3.0 MB (") {
		t.Errorf("got %v, want every progress line out of the files' 3.0 MB", r)
	}
}
