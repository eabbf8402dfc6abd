package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	tallyv1 "tally/proto/tally/v1"
	"tally/worker"
)

// Link is a session with one worker. Send is called from one goroutine and Recv
// from another; they may run at the same time. CloseSend tells the worker that no
// more tasks come: Recv then returns the outstanding results and io.EOF. Close
// aborts the session and is safe to call more than once. Send must be done
// with the task's Data when it returns, for the buffer goes back to a pool;
// a link that reads it later (an in-process one) implements asyncLink.
type Link interface {
	// Slots is how many tasks the worker accepts at once.
	Slots() int
	Send(worker.Task) error
	Recv() (worker.Result, error)
	CloseSend() error
	Close()
}

// asyncLink is a Link whose Send returns before the worker is done reading
// the task's data: an in-process one, which reads it in place. It calls done
// once nothing reads the data any more.
type asyncLink interface {
	sendAsync(t worker.Task, done func()) error
}

// send sends t on link, holding t's data (see task.hold) until the link no
// longer reads it: until Send returns for a gRPC link, which serializes the
// message as it sends it.
func send(link Link, t *task) error {
	if a, ok := link.(asyncLink); ok {
		return a.sendAsync(t.workerTask(), t.unhold)
	}
	defer t.unhold()
	return link.Send(t.workerTask())
}

// Dialer opens a Link to the worker at a gRPC address.
type Dialer func(ctx context.Context, addr string) (Link, error)

// grpcLink is a Link over WorkerService.Process.
type grpcLink struct {
	conn   *grpc.ClientConn
	stream tallyv1.WorkerService_ProcessClient
	cancel context.CancelFunc
	slots  int
}

// DialGRPC opens a plaintext WorkerService session and waits for the worker's hello.
func DialGRPC(ctx context.Context, addr string) (Link, error) {
	return GRPCDialer(insecure.NewCredentials())(ctx, addr)
}

// GRPCDialer returns a Dialer whose links use creds (TLS for a secure cluster).
func GRPCDialer(creds credentials.TransportCredentials) Dialer {
	return func(ctx context.Context, addr string) (Link, error) { return dialGRPC(ctx, addr, creds) }
}

func dialGRPC(ctx context.Context, addr string, creds credentials.TransportCredentials) (Link, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(worker.MaxMessageBytes), grpc.MaxCallSendMsgSize(worker.MaxMessageBytes)),
		// Pings find a worker that hangs or whose network vanished without
		// closing the connection, within seconds (workers allow pings every 5 s).
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 5 * time.Second, Timeout: 4 * time.Second, PermitWithoutStream: true}),
	)
	if err != nil {
		return nil, fmt.Errorf("dial worker %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel) // the dial ctx bounds only the handshake below
	stream, err := tallyv1.NewWorkerServiceClient(conn).Process(sctx)
	var hello *tallyv1.ProcessResponse
	if err == nil {
		hello, err = stream.Recv()
	}
	if !stop() || err != nil {
		cancel()
		conn.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("open session with worker %s: %w", addr, err)
	}
	h := hello.GetHello()
	if h == nil || h.GetSlots() == 0 {
		cancel()
		conn.Close()
		return nil, fmt.Errorf("worker %s did not say hello with its slots", addr)
	}
	return &grpcLink{conn: conn, stream: stream, cancel: cancel, slots: int(h.GetSlots())}, nil
}

func (l *grpcLink) Slots() int { return l.slots }

func (l *grpcLink) Send(t worker.Task) error {
	if t.Data == nil && t.Read != nil {
		// A block of a local file goes to in-process workers only (the
		// embedded coordinator has no others); a remote one gets its bytes.
		data, _, err := t.Read(nil)
		if err != nil {
			return err
		}
		t.Data = data
	}
	return l.stream.Send(&tallyv1.ProcessRequest{Task: worker.TaskToProto(t)})
}

func (l *grpcLink) Recv() (worker.Result, error) {
	m, err := l.stream.Recv()
	if err != nil {
		return worker.Result{}, err
	}
	r := m.GetResult()
	if r == nil {
		return worker.Result{}, errors.New("worker sent a message that is not a result")
	}
	return worker.ResultFromProto(r), nil
}

func (l *grpcLink) CloseSend() error { return l.stream.CloseSend() }

func (l *grpcLink) Close() {
	l.cancel()
	l.conn.Close()
}

// localLink is a Link to an Engine in this process: the embedded mode's worker.
// It runs the same dispatch code as a remote worker, without the network.
type localLink struct {
	engine  *worker.Engine
	results chan worker.Result
	wg      sync.WaitGroup
	done    chan struct{}
	once    sync.Once
	closing sync.Once
}

// LocalDialer returns a Dialer whose Links count on engine in this process.
func LocalDialer(engine *worker.Engine) Dialer {
	return func(ctx context.Context, addr string) (Link, error) {
		return &localLink{
			engine: engine,
			// In-flight tasks never exceed Slots, so results never block.
			results: make(chan worker.Result, engine.Threads()),
			done:    make(chan struct{}),
		}, nil
	}
}

func (l *localLink) Slots() int { return l.engine.Threads() }

func (l *localLink) Send(t worker.Task) error { return l.sendAsync(t, func() {}) }

func (l *localLink) sendAsync(t worker.Task, done func()) error {
	select {
	case <-l.done:
		done()
		return errors.New("link closed")
	default:
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		r := l.engine.Process(t)
		done()
		l.results <- r
	}()
	return nil
}

func (l *localLink) Recv() (worker.Result, error) {
	select {
	case r, ok := <-l.results:
		if !ok {
			return worker.Result{}, io.EOF
		}
		return r, nil
	case <-l.done:
		return worker.Result{}, errors.New("link closed")
	}
}

func (l *localLink) CloseSend() error {
	l.closing.Do(func() {
		go func() { l.wg.Wait(); close(l.results) }()
	})
	return nil
}

func (l *localLink) Close() { l.once.Do(func() { close(l.done) }) }
