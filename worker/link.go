package worker

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
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
	"github.com/tallyhq/tally/wire/taskwire"
)

// This file is the coordinator's side of a worker: the Links it sends tasks
// over, to a WorkerService over gRPC or to an Engine in the same process.

// grpcLink is a task.Link over WorkerService.Process.
type grpcLink struct {
	name    string // as the worker's hello says
	conn    *grpc.ClientConn
	stream  tallyv1.WorkerService_ProcessClient
	cancel  context.CancelFunc
	slots   int
	storage task.Storage
}

// DialGRPC opens a plaintext WorkerService session and waits for the worker's hello.
func DialGRPC(ctx context.Context, addr string) (task.Link, error) {
	return GRPCDialer(insecure.NewCredentials())(ctx, addr)
}

// TLSDialer returns a task.Dialer whose links use t: a coordinator's
// certificate, presented to workers for mutual TLS, and the CA that their
// certificates must come from; a worker's certificate must name the worker
// role. Without TLS the links are plaintext.
func TLSDialer(t security.TLS) (task.Dialer, error) { return SecureDialer(t, nil) }

// SecureDialer is TLSDialer in a cluster with a gossip key: every link
// also proves both ends hold the key, before any task is sent, so a
// process that took a dead worker's port gets nothing even without TLS.
func SecureDialer(t security.TLS, gossipKey []byte) (task.Dialer, error) {
	creds, err := t.ClientCredentials(security.WorkerServerName, security.RoleWorker)
	if err != nil {
		return nil, fmt.Errorf("worker link TLS: %w", err)
	}
	key := security.LinkKey(gossipKey)
	return func(ctx context.Context, addr string) (task.Link, error) { return dialGRPC(ctx, addr, creds, key) }, nil
}

// GRPCDialer returns a task.Dialer whose links use creds (TLS for a secure cluster).
func GRPCDialer(creds credentials.TransportCredentials) task.Dialer {
	return func(ctx context.Context, addr string) (task.Link, error) { return dialGRPC(ctx, addr, creds, nil) }
}

func dialGRPC(ctx context.Context, addr string, creds credentials.TransportCredentials, key []byte) (task.Link, error) {
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(task.MaxMessageBytes), grpc.MaxCallSendMsgSize(task.MaxMessageBytes),
			grpc.ForceCodecV2(wire.Codec{})), // sends a chunk's bytes in place
		experimental.WithBufferPool(wire.Buffers),
		// Pings find a worker that hangs or whose network vanished without
		// closing the connection, within about 14 s: after 10 s of silence
		// (grpc-go's least; it raised the 5 s this once asked for to 10 s,
		// and workers allow pings every 5 s), and 4 s without an answer.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 4 * time.Second, PermitWithoutStream: true})},
		wire.DialOptions()...)...,
	)
	if err != nil {
		return nil, fmt.Errorf("dial worker %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, cancel) // the dial ctx bounds only the handshake below
	var nonce []byte
	if key != nil {
		nonce = security.Nonce()
		sctx = metadata.AppendToOutgoingContext(sctx, NonceHeader, string(nonce))
	}
	stream, err := tallyv1.NewWorkerServiceClient(conn).Process(sctx)
	var hello *tallyv1.ProcessResponse
	if err == nil {
		hello, err = stream.Recv()
	}
	if err == nil && hello.GetHello().GetName() == "" {
		err = errors.New("the hello names no worker")
	}
	if err == nil && key != nil {
		err = prove(stream, key, nonce, hello.GetHello(), addr)
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
	storage := task.Storage{SharedRoot: h.GetSharedRoot(), S3: h.GetS3()}
	return &grpcLink{name: h.GetName(), conn: conn, stream: stream, cancel: cancel, slots: int(h.GetSlots()), storage: storage}, nil
}

// prove checks that the worker's hello proves the key for the address
// dialled, and proves it back for the same address: a hello relayed from
// a worker at another address proves nothing, and gets no proof to relay.
func prove(stream tallyv1.WorkerService_ProcessClient, key, nonce []byte, h *tallyv1.WorkerHello, addr string) error {
	if !security.VerifyProof(key, h.GetProof(), security.ProofWorker, nonce, h.GetName(), addr) {
		return fmt.Errorf("worker %q did not prove the cluster's gossip key at %s: not a member there", h.GetName(), addr)
	}
	return stream.Send(&tallyv1.ProcessRequest{Proof: security.Prove(key, security.ProofCoordinator, h.GetNonce(), h.GetName(), addr)})
}

func (l *grpcLink) Slots() int            { return l.slots }
func (l *grpcLink) Name() string          { return l.name }
func (l *grpcLink) Storage() task.Storage { return l.storage }

func (l *grpcLink) Send(t task.Task) error {
	return l.stream.Send(&tallyv1.ProcessRequest{Task: taskwire.TaskToProto(t)})
}

// SendAsync sends t with its Data in place (wire.OutgoingTask): gRPC
// writes the bytes into its frames after SendAsync returns, and done is
// called once it no longer reads them.
func (l *grpcLink) SendAsync(t task.Task, done func()) error {
	m := taskwire.TaskToProto(t)
	if len(m.Data) == 0 {
		defer done()
		return l.stream.Send(&tallyv1.ProcessRequest{Task: m})
	}
	out := &wire.OutgoingTask{Task: m, Data: m.Data, Done: done}
	m.Data = nil
	err := l.stream.SendMsg(out)
	out.Abandon()
	return err
}

func (l *grpcLink) Recv() (task.Result, error) {
	m, err := l.stream.Recv()
	if err != nil {
		return task.Result{}, err
	}
	r := m.GetResult()
	if r == nil {
		return task.Result{}, errors.New("worker sent a message that is not a result")
	}
	return taskwire.ResultFromProto(r), nil
}

func (l *grpcLink) CloseSend() error { return l.stream.CloseSend() }

func (l *grpcLink) Close() {
	l.cancel()
	l.conn.Close()
}

// localLink is a task.Link to an Engine in this process: the embedded
// mode's worker. The coordinator runs the same dispatch code over it as
// over a remote worker, without the network: a task's Data is read in
// place, and refs are read by the engine's threads.
type localLink struct {
	engine  *Engine
	ctx     context.Context // ends with Close
	cancel  context.CancelFunc
	results chan task.Result
	wg      sync.WaitGroup
	closing sync.Once
}

// LocalDialer returns a task.Dialer whose Links count on engine in this process.
func LocalDialer(engine *Engine) task.Dialer {
	return func(ctx context.Context, addr string) (task.Link, error) {
		lctx, cancel := context.WithCancel(context.Background())
		return &localLink{
			engine: engine, ctx: lctx, cancel: cancel,
			// In-flight tasks never exceed Slots, so results never block.
			results: make(chan task.Result, engine.Threads()),
		}, nil
	}
}

func (l *localLink) Slots() int            { return l.engine.Threads() }
func (l *localLink) Name() string          { return "" }
func (l *localLink) Storage() task.Storage { return l.engine.Storage() }

func (l *localLink) Send(t task.Task) error { return l.SendAsync(t, func() {}) }

// SendAsync counts t on a goroutine of its own and calls done once the
// engine no longer reads t's Data.
func (l *localLink) SendAsync(t task.Task, done func()) error {
	if l.ctx.Err() != nil {
		done()
		return errors.New("link closed")
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		r := l.engine.Process(l.ctx, t)
		done()
		l.results <- r
	}()
	return nil
}

func (l *localLink) Recv() (task.Result, error) {
	select {
	case r, ok := <-l.results:
		if !ok {
			return task.Result{}, io.EOF
		}
		return r, nil
	case <-l.ctx.Done():
		return task.Result{}, errors.New("link closed")
	}
}

func (l *localLink) CloseSend() error {
	l.closing.Do(func() {
		go func() { l.wg.Wait(); close(l.results) }()
	})
	return nil
}

func (l *localLink) Close() { l.cancel() }
