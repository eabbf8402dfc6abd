package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
)

// TestEmbeddedIsInProcess checks that embedded mode is only the job code:
// no client API, no gossip, and nothing left running once it is closed;
// and that it counts exactly from an empty file to one of many splits.
func TestEmbeddedIsInProcess(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e, err := startEmbedded(storeFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if addr := e.coord.Addr(); addr != "" {
		t.Errorf("embedded coordinator listens on %s, want no listener", addr)
	}
	if addr := e.coord.GossipAddr(); addr != "" {
		t.Errorf("embedded coordinator gossips on %s, want no cluster", addr)
	}
	dir := t.TempDir()
	many := strings.Repeat("x y\nxx x\n", 40000) // 360,000 bytes: six 64 KiB splits
	for _, tc := range []struct {
		name, text string
		want       int64
	}{
		{"empty", "", 0},
		{"one byte", "x", 1},
		{"no final newline", "x\nx x", 3},
		{"many splits", many, 80000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := client.FileDocuments([]string{writeFile(t, dir, tc.name, []byte(tc.text))}, nil, client.FileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"x"}}}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := e.Run(ctx, client.Job{Query: q, ChunkSize: 64 << 10, Documents: docs}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Total.Counts; len(got) != 1 || got[0] != tc.want {
				t.Errorf("counts %v, want [%d]", got, tc.want)
			}
		})
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEmbeddedBlock: a count job's local files are split about eight times
// per thread, between a chunk and the cluster's default split.
func TestEmbeddedBlock(t *testing.T) {
	for _, tc := range []struct {
		total          int64
		least, threads int
		want           int
	}{
		{415_144_456, 1 << 20, 2, 16 << 20},  // capped at coordinator.DefaultBlockSize
		{51_893_057, 1 << 20, 2, 3_243_316},  // 16 splits
		{51_893_057, 1 << 20, 1, 6_486_632},  // 8 splits
		{2 << 20, 1 << 20, 2, 1 << 20},       // small: a chunk each
		{0, 64 << 10, 2, 64 << 10},           // sizes unknown (stdin)
		{51_893_057, 1 << 20, 0, 6_486_632},  // no thread count: one
		{415_144_456, 32 << 20, 2, 16 << 20}, // never above the default
	} {
		if got := embeddedBlock(tc.total, tc.least, tc.threads); got != tc.want {
			t.Errorf("embeddedBlock(%d, %d, %d): got %d, want %d", tc.total, tc.least, tc.threads, got, tc.want)
		}
	}
}

// TestEmbeddedBlockOf: only a count job of local files and server paths
// gets splits sized to it; a job with URLs keeps the coordinator's splits, which its objects
// share (one request each), and a top job keeps the chunk size.
func TestEmbeddedBlockOf(t *testing.T) {
	e := &embedded{chunk: 1 << 20, threads: 2}
	countQ := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"x"}}}}
	topQ := query.Job{Spec: query.Spec{Top: &query.Top{}}}
	big := []client.Document{{Name: "big.txt", Size: 415_144_456}}
	for _, tc := range []struct {
		name   string
		job    client.Job
		stored int64
		want   int
	}{
		{"count, local files", client.Job{Query: countQ, Documents: big}, 0, 16 << 20},
		{"count, a server path", client.Job{Query: countQ, ServerPaths: []string{"big.txt"}}, 415_144_456, 16 << 20},
		{"count, a small server path and a file", client.Job{Query: countQ, ServerPaths: []string{"a.txt"}, Documents: []client.Document{{Name: "b.txt", Size: 32 << 20}}}, 32 << 20, 4 << 20},
		{"count with a URL", client.Job{Query: countQ, Documents: big, URLs: []string{"s3://b/k"}}, 0, 0},
		{"count with a URL and a chunk size", client.Job{Query: countQ, URLs: []string{"s3://b/k"}, ChunkSize: 256 << 10}, 0, 256 << 10},
		{"top, local files", client.Job{Query: topQ, Documents: big}, 0, 0},
		{"top with a chunk size", client.Job{Query: topQ, Documents: big, ChunkSize: 16 << 10}, 0, 64 << 10},
	} {
		if got := e.blockOf(tc.job, tc.stored); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}
