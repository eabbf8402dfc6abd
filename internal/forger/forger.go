// Package forger is a WorkerService that is not a worker of the cluster
// but poses as one, for the tests and the soak that check strangers are
// kept out: it says hello under any name and answers every task with
// forged counts (the true ones plus 14000). A job whose answer it reached
// is visibly wrong, and Tasks says whether any reached it at all.
package forger

import (
	"sync/atomic"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/wire/taskwire"
	"github.com/tallyhq/tally/worker"
)

// Forger serves WorkerService sessions as the worker Name. It is safe
// for concurrent sessions.
type Forger struct {
	tallyv1.UnimplementedWorkerServiceServer
	Name string
	// Tasks counts the tasks it received; forgers may share one counter.
	Tasks *atomic.Int64
}

// Process says hello without proving any key, then forges an answer to
// every task until the session ends.
func (f *Forger) Process(stream tallyv1.WorkerService_ProcessServer) error {
	hello := &tallyv1.WorkerHello{Name: f.Name, Slots: 2}
	if err := stream.Send(&tallyv1.ProcessResponse{Message: &tallyv1.ProcessResponse_Hello{Hello: hello}}); err != nil {
		return err
	}
	engine := worker.NewEngine(1)
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil
		}
		if req.GetTask() == nil {
			continue
		}
		f.Tasks.Add(1)
		t, err := taskwire.TaskFromProto(req.GetTask())
		if err != nil {
			return err
		}
		res := engine.Process(stream.Context(), t)
		for i := range res.Partial.Counts {
			res.Partial.Counts[i] += 14000
		}
		if err := stream.Send(&tallyv1.ProcessResponse{Message: &tallyv1.ProcessResponse_Result{Result: taskwire.ResultToProto(res)}}); err != nil {
			return err
		}
	}
}
