package worker

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
)

// TestGRPCLinkHoldsDataUntilWritten checks that a gRPC link calls a send's
// done only once gRPC no longer reads the task's data: each done scribbles
// over its buffer at once, as a recycled chunk buffer would be read into,
// and every chunk must still be counted as it was sent (and -race must
// see no write while gRPC reads).
func TestGRPCLinkHoldsDataUntilWritten(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(GRPCOptions()...)
	tallyv1.RegisterWorkerServiceServer(s, NewServer("w", NewEngine(2), ServerOptions{}))
	go s.Serve(lis)
	t.Cleanup(s.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	link, err := DialGRPC(ctx, lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	async, ok := link.(task.AsyncLink)
	if !ok {
		t.Fatal("a gRPC link is not an AsyncLink")
	}

	const tasks = 16
	line := []byte("a b a\n")
	var dones atomic.Int32
	results := make(chan task.Result, tasks)
	go func() {
		for range tasks {
			r, err := link.Recv()
			if err != nil {
				r.Err = err
			}
			results <- r
		}
	}()
	for i := range tasks {
		data := bytes.Repeat(line, (256<<10)/len(line)+i) // above gRPC's 16 KiB frames
		done := func() {
			clear(data) // the buffer goes to the next chunk
			dones.Add(1)
		}
		q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"a"}}}}
		if err := async.SendAsync(task.Task{JobID: "j", ChunkID: uint64(i), Attempt: 1, Query: q, Data: data}, done); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	for range tasks {
		r := <-results
		want := int64(2 * ((256<<10)/len(line) + int(r.ChunkID)))
		if r.Err != nil || r.Partial.Counts[0] != want {
			t.Errorf("chunk %d: got %v (err %v), want %d", r.ChunkID, r.Partial.Counts, r.Err, want)
		}
	}
	waitFor(t, 5*time.Second, "every send's done", func() bool { return dones.Load() == tasks })
	if got := dones.Load(); got != tasks {
		t.Errorf("done called %d times, want %d", got, tasks)
	}
}
