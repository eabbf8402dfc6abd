package worker

import (
	"context"
	"errors"
	"io"
	"sync"

	tallyv1 "tally/proto/tally/v1"
	"tally/task"
	"tally/wire"
)

// Server offers an Engine as the gRPC WorkerService.
type Server struct {
	tallyv1.UnimplementedWorkerServiceServer
	name   string
	engine *Engine

	drainOnce sync.Once
	draining  chan struct{} // closed by Drain
}

// NewServer returns a WorkerService named name (its memberlist node name) over engine.
func NewServer(name string, engine *Engine) *Server {
	return &Server{name: name, engine: engine, draining: make(chan struct{})}
}

// Drain makes every session finish and answer the tasks it has started,
// take no more, and end, without waiting for the coordinator to close its
// side: a worker that is leaving stops in the time its chunks take, even if
// the coordinator has not noticed. The coordinator queues again whatever
// it sent that was not started.
func (s *Server) Drain() { s.drainOnce.Do(func() { close(s.draining) }) }

// Process serves one coordinator session. It announces Threads slots and counts
// at most that many tasks of this session at once: a coordinator that sends more
// is slowed by gRPC flow control, not buffered. When the coordinator closes its
// side, the tasks already received are finished and answered before returning.
func (s *Server) Process(stream tallyv1.WorkerService_ProcessServer) error {
	ctx := stream.Context()
	slots := s.engine.Threads()
	storage := s.engine.Storage()
	hello := &tallyv1.WorkerHello{Name: s.name, Slots: uint32(slots), SharedRoot: storage.SharedRoot, S3: storage.S3}
	if err := stream.Send(&tallyv1.ProcessResponse{Message: &tallyv1.ProcessResponse_Hello{Hello: hello}}); err != nil {
		return err
	}

	out := make(chan *tallyv1.ProcessResponse, slots)
	sendErr := make(chan error, 1)
	go func() { sendErr <- sendAll(stream, out) }()

	sem := make(chan struct{}, slots)
	var started tasks
	recvDone := make(chan error, 1)
	go func() { recvDone <- s.receive(stream, sem, out, &started) }()
	var recvErr error
	select {
	case recvErr = <-recvDone:
	case <-s.draining:
		recvErr = io.EOF // the receiver ends with the stream, after this returns
	}
	started.stop()
	close(out)
	if err := <-sendErr; err != nil {
		return err
	}
	if errors.Is(recvErr, io.EOF) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return recvErr
}

// receive reads tasks until the stream ends or the server drains, starting
// one goroutine per task once a slot is free. It returns the error that
// ended the stream (io.EOF when clean).
func (s *Server) receive(stream tallyv1.WorkerService_ProcessServer, sem chan struct{}, out chan<- *tallyv1.ProcessResponse, started *tasks) error {
	ctx := stream.Context()
	for {
		req, err := stream.Recv()
		if err != nil {
			return err
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.draining:
			return io.EOF
		}
		ok := started.start(func() {
			defer func() { <-sem }()
			res := s.run(ctx, req.GetTask())
			out <- &tallyv1.ProcessResponse{Message: &tallyv1.ProcessResponse_Result{Result: wire.ResultToProto(res)}}
		})
		if !ok {
			return io.EOF // the session ended meanwhile: the task is not started
		}
	}
}

// tasks are the running tasks of a session. Once stop has been called no
// task starts, and stop returns when the started ones are done: the session
// may then close their output.
type tasks struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

func (t *tasks) start(fn func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		fn()
	}()
	return true
}

func (t *tasks) stop() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.wg.Wait()
}

// run converts and counts one task; a malformed task is answered with an error.
func (s *Server) run(ctx context.Context, m *tallyv1.Task) task.Result {
	t, err := wire.TaskFromProto(m)
	if err != nil {
		return task.Result{JobID: m.GetJobId(), ChunkID: m.GetChunkId(), Attempt: m.GetAttempt(), Err: err}
	}
	return s.engine.Process(ctx, t)
}

// sendAll sends every response from out. After a send error it keeps draining
// out, so that task goroutines never block, and returns the first error.
func sendAll(stream tallyv1.WorkerService_ProcessServer, out <-chan *tallyv1.ProcessResponse) error {
	var first error
	for r := range out {
		if first != nil {
			continue
		}
		first = stream.Send(r)
	}
	return first
}
