package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
	"github.com/tallyhq/tally/wire/taskwire"
)

// Server offers an Engine as the gRPC WorkerService.
type Server struct {
	tallyv1.UnimplementedWorkerServiceServer
	name   string
	engine *Engine
	opts   ServerOptions
	key    []byte // link key: sessions must prove it; nil without a gossip key
	// running bounds the tasks counted at once across all sessions, so
	// that more sessions do not mean more memory.
	running chan struct{}

	mu         sync.Mutex // guards sessions and handshakes
	sessions   int        // proven (or, without a key, open) sessions
	handshakes int        // sessions still to prove the key

	drainOnce sync.Once
	draining  chan struct{} // closed by Drain
}

// ServerOptions are a WorkerService's limits and credentials.
type ServerOptions struct {
	// GossipKey, when set, is the cluster's key: a session must prove it
	// holds it (security.Prove) before the worker takes a task, and the
	// hello proves the worker holds it.
	GossipKey []byte
	// MaxSessions bounds the sessions open at once (one per coordinator,
	// and one more while a coordinator reconnects); 0 means DefaultMaxSessions.
	// Sessions count once they proved the key: strangers who never do
	// have a bound of their own (maxHandshakes) and cannot take these.
	MaxSessions int
	// Address is the gRPC address the worker advertises, which coordinators
	// dial: the proofs name it, so that a proof relayed from a session at
	// another address does not verify.
	Address string
}

// maxHandshakes bounds the sessions that have yet to prove the key.
const maxHandshakes = 32

// DefaultMaxSessions is the default bound on a worker's open sessions.
const DefaultMaxSessions = 4

// proofTimeout bounds how long a session may take to prove the key.
const proofTimeout = 10 * time.Second

// NonceHeader is the session metadata that carries the coordinator's
// nonce (binary, hence -bin), which the worker's hello answers.
const NonceHeader = "tally-nonce-bin"

// NewServer returns a WorkerService named name (its memberlist node name) over engine.
func NewServer(name string, engine *Engine, opts ServerOptions) *Server {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	return &Server{name: name, engine: engine, opts: opts, key: security.LinkKey(opts.GossipKey),
		running: make(chan struct{}, engine.Threads()), draining: make(chan struct{})}
}

// open counts a session in, unless MaxSessions are open.
func (s *Server) open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions >= s.opts.MaxSessions {
		return status.Errorf(codes.ResourceExhausted, "worker %s has %d sessions open, its limit", s.name, s.opts.MaxSessions)
	}
	s.sessions++
	return nil
}

func (s *Server) close() {
	s.mu.Lock()
	s.sessions--
	s.mu.Unlock()
}

// handshake counts in a session that has yet to prove the key, unless
// maxHandshakes are pending; done counts it out.
func (s *Server) handshake() (done func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handshakes >= maxHandshakes {
		return nil, status.Errorf(codes.ResourceExhausted, "worker %s has %d sessions proving the key, its limit", s.name, maxHandshakes)
	}
	s.handshakes++
	return func() {
		s.mu.Lock()
		s.handshakes--
		s.mu.Unlock()
	}, nil
}

// hello says who the worker is and, with a key, answers the coordinator's nonce.
func (s *Server) hello(ctx context.Context) (*tallyv1.WorkerHello, error) {
	slots := s.engine.Threads()
	storage := s.engine.Storage()
	h := &tallyv1.WorkerHello{Name: s.name, Slots: uint32(slots), SharedRoot: storage.SharedRoot, S3: storage.S3}
	if s.key == nil {
		return h, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	nonces := md.Get(NonceHeader)
	if len(nonces) != 1 || len(nonces[0]) < 16 {
		return nil, status.Error(codes.Unauthenticated, "this worker's cluster has a gossip key: a session must open with a nonce and prove the key")
	}
	h.Nonce = security.Nonce()
	h.Proof = security.Prove(s.key, security.ProofWorker, []byte(nonces[0]), s.name, s.opts.Address)
	return h, nil
}

// verify waits for the coordinator's proof of the key, for at most proofTimeout.
func (s *Server) verify(stream tallyv1.WorkerService_ProcessServer, nonce []byte) error {
	got := make(chan error, 1)
	go func() {
		req, err := stream.Recv()
		switch {
		case err != nil:
		case !security.VerifyProof(s.key, req.GetProof(), security.ProofCoordinator, nonce, s.name, s.opts.Address):
			err = status.Error(codes.PermissionDenied, "the session did not prove the cluster's gossip key")
		case req.GetTask() != nil:
			err = status.Error(codes.InvalidArgument, "the first request of a session carries only the proof")
		}
		got <- err
	}()
	select {
	case err := <-got:
		return err
	case <-time.After(proofTimeout):
		return status.Error(codes.DeadlineExceeded, fmt.Sprintf("the session did not prove the cluster's key within %v", proofTimeout))
	}
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
	if s.key == nil {
		if err := s.open(); err != nil {
			return err
		}
		defer s.close()
	}
	ctx := stream.Context()
	hello, err := s.hello(ctx)
	if err != nil {
		return err
	}
	if s.key != nil {
		done, err := s.handshake()
		if err != nil {
			return err
		}
		err = stream.Send(&tallyv1.ProcessResponse{Message: &tallyv1.ProcessResponse_Hello{Hello: hello}})
		if err == nil {
			err = s.verify(stream, hello.Nonce)
		}
		done()
		if err != nil {
			return err
		}
		if err := s.open(); err != nil {
			return err
		}
		defer s.close()
	} else if err := stream.Send(&tallyv1.ProcessResponse{Message: &tallyv1.ProcessResponse_Hello{Hello: hello}}); err != nil {
		return err
	}
	slots := int(hello.Slots)

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

// GRPCOptions are the options of a gRPC server that offers a Server: its
// codec receives each task into a pooled buffer that the Server gives
// back once the task is counted (wire.Codec), and its messages may be as
// large as a task; its flow control and write buffer are wire.ServerOptions.
func GRPCOptions() []grpc.ServerOption {
	return append([]grpc.ServerOption{
		grpc.ForceServerCodecV2(wire.Codec{}),
		experimental.BufferPool(wire.Buffers),
		grpc.MaxRecvMsgSize(task.MaxMessageBytes),
		grpc.MaxSendMsgSize(task.MaxMessageBytes),
	}, wire.ServerOptions()...)
}

// receive reads tasks until the stream ends or the server drains, starting
// one goroutine per task once a slot is free. It returns the error that
// ended the stream (io.EOF when clean).
func (s *Server) receive(stream tallyv1.WorkerService_ProcessServer, sem chan struct{}, out chan<- *tallyv1.ProcessResponse, started *tasks) error {
	ctx := stream.Context()
	for {
		req := &wire.ReceivedTask{}
		if err := stream.RecvMsg(req); err != nil {
			return err
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.draining:
			return io.EOF
		}
		select {
		case s.running <- struct{}{}:
		case <-ctx.Done():
			<-sem
			return ctx.Err()
		case <-s.draining:
			<-sem
			return io.EOF
		}
		ok := started.start(func() {
			defer func() { <-sem }()
			res := s.run(ctx, req.Request.GetTask())
			req.Release() // counted: its buffer serves a later chunk
			<-s.running   // before a send that a stalled coordinator may block: other sessions need the thread
			out <- &tallyv1.ProcessResponse{Message: &tallyv1.ProcessResponse_Result{Result: taskwire.ResultToProto(res)}}
		})
		if !ok {
			req.Release()
			<-s.running
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
	t, err := taskwire.TaskFromProto(m)
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
