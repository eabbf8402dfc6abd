package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/tallyhq/tally/cluster"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
	"github.com/tallyhq/tally/wire/taskwire"
)

// MustServe serves srv on a bufconn listener (the real gRPC stack without a
// port) and returns a client for it; both are stopped in t.Cleanup.
func MustServe(tb testing.TB, srv tallyv1.WorkerServiceServer) tallyv1.WorkerServiceClient {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(GRPCOptions()...)
	tallyv1.RegisterWorkerServiceServer(s, srv)
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(task.MaxMessageBytes), grpc.MaxCallSendMsgSize(task.MaxMessageBytes)),
	)
	if err != nil {
		tb.Fatalf("dial bufconn: %v", err)
	}
	tb.Cleanup(func() {
		conn.Close()
		s.Stop()
		if err := <-served; err != nil {
			tb.Errorf("serve: got %v, want nil", err)
		}
	})
	return tallyv1.NewWorkerServiceClient(conn)
}

// MustOpen opens a Process session, reads the hello and returns both. The
// session's context ends in t.Cleanup.
func MustOpen(tb testing.TB, c tallyv1.WorkerServiceClient) (tallyv1.WorkerService_ProcessClient, *tallyv1.WorkerHello) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	stream, err := c.Process(ctx)
	if err != nil {
		tb.Fatalf("open session: %v", err)
	}
	m, err := stream.Recv()
	if err != nil {
		tb.Fatalf("receive hello: %v", err)
	}
	if m.GetHello() == nil {
		tb.Fatalf("got first message %v, want a hello", m)
	}
	return stream, m.GetHello()
}

// MustSend sends one task.
func MustSend(tb testing.TB, stream tallyv1.WorkerService_ProcessClient, t task.Task) {
	tb.Helper()
	if err := stream.Send(&tallyv1.ProcessRequest{Task: taskwire.TaskToProto(t)}); err != nil {
		tb.Fatalf("send task %d: %v", t.ChunkID, err)
	}
}

// MustRecvResult receives one result.
func MustRecvResult(tb testing.TB, stream tallyv1.WorkerService_ProcessClient) *tallyv1.TaskResult {
	tb.Helper()
	m, err := stream.Recv()
	if err != nil {
		tb.Fatalf("receive result: %v", err)
	}
	if m.GetResult() == nil {
		tb.Fatalf("got %v, want a result", m)
	}
	return m.GetResult()
}

func countQuery(m query.Mode, targets ...string) query.Job {
	return query.Job{Spec: query.Spec{Count: &query.Count{Mode: m, Targets: targets}}}
}

func TestServerHello(t *testing.T) {
	for _, threads := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d threads", threads), func(t *testing.T) {
			c := MustServe(t, NewServer("w-test", NewEngine(threads), ServerOptions{}))
			_, hello := MustOpen(t, c)
			if hello.GetSlots() != uint32(threads) {
				t.Errorf("got %d slots, want %d", hello.GetSlots(), threads)
			}
			if hello.GetName() != "w-test" {
				t.Errorf("got name %q, want %q", hello.GetName(), "w-test")
			}
		})
	}
}

// TestServerResults sends tasks of two jobs and checks that each result echoes
// its task and holds the reference answer.
func TestServerResults(t *testing.T) {
	texts := MustReadTexts(t)
	c := MustServe(t, NewServer("w", NewEngine(2), ServerOptions{}))
	stream, _ := MustOpen(t, c)
	queries := testQueries()
	type sent struct {
		q    query.Job
		data []byte
	}
	want := map[uint64]sent{}
	id := uint64(100)
	for _, qn := range []string{"token", "top words lower", "substring"} {
		for _, name := range []string{"alice.txt", "gen-invalid.txt", "gen-crlf.txt", "gen-nofinalnl.txt"} {
			id++
			want[id] = sent{queries[qn], texts[name]}
			MustSend(t, stream, task.Task{JobID: "job-" + qn, ChunkID: id, Attempt: uint32(id % 3), Query: queries[qn], Data: texts[name]})
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("close send: %v", err)
	}
	for range len(want) {
		m := MustRecvResult(t, stream)
		s, ok := want[m.GetChunkId()]
		if !ok {
			t.Fatalf("got a result for chunk %d, want one of the chunks sent, once", m.GetChunkId())
		}
		delete(want, m.GetChunkId())
		r := taskwire.ResultFromProto(m)
		if r.Err != nil {
			t.Errorf("chunk %d: got error %v, want none", r.ChunkID, r.Err)
			continue
		}
		if wantJob := "job-" + queryName(queries, s.q); r.JobID != wantJob || r.Attempt != uint32(r.ChunkID%3) {
			t.Errorf("chunk %d: got job %q attempt %d, want %q attempt %d", r.ChunkID, r.JobID, r.Attempt, wantJob, r.ChunkID%3)
		}
		if d := diffPartial(r.Partial, MustRun(t, s.q.Spec, s.data)); d != "" {
			t.Errorf("chunk %d: %s", r.ChunkID, d)
		}
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last result: got %v, want io.EOF", err)
	}
}

func queryName(qs map[string]query.Job, q query.Job) string {
	for n, o := range qs {
		if o.Spec.Count == q.Spec.Count && o.Spec.Top == q.Spec.Top {
			return n
		}
	}
	return ""
}

// TestServerMalformedTask checks that a task the worker cannot run is answered
// with an error result that names it, and that the session goes on.
func TestServerMalformedTask(t *testing.T) {
	c := MustServe(t, NewServer("w", NewEngine(1), ServerOptions{}))
	stream, _ := MustOpen(t, c)
	bad := map[uint64]*tallyv1.Task{
		1: {JobId: "j", ChunkId: 1, Attempt: 1, Data: []byte("a\n")}, // no spec
		2: {JobId: "j", ChunkId: 2, Attempt: 2, Spec: wire.QueryToProto(countQuery(query.Token, "")), Data: []byte("a\n")},
		3: {JobId: "j", ChunkId: 3, Attempt: 3, Spec: wire.QueryToProto(countQuery(query.Token, "a b")), Data: []byte("a\n")},
		4: {JobId: "j", ChunkId: 4, Attempt: 1, Spec: &tallyv1.JobSpec{Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Mode: 99, Targets: []string{"a"}}}}},
	}
	for i := uint64(1); i <= 4; i++ {
		if err := stream.Send(&tallyv1.ProcessRequest{Task: bad[i]}); err != nil {
			t.Fatalf("send bad task %d: %v", i, err)
		}
	}
	if err := stream.Send(&tallyv1.ProcessRequest{}); err != nil { // no task at all
		t.Fatalf("send empty request: %v", err)
	}
	for range 5 {
		m := MustRecvResult(t, stream)
		if m.GetError() == "" {
			t.Errorf("chunk %d: got no error, want one", m.GetChunkId())
		}
		if b, ok := bad[m.GetChunkId()]; ok && (m.GetJobId() != b.GetJobId() || m.GetAttempt() != b.GetAttempt()) {
			t.Errorf("chunk %d: got job %q attempt %d, want %q attempt %d", m.GetChunkId(), m.GetJobId(), m.GetAttempt(), b.GetJobId(), b.GetAttempt())
		}
	}
	// The session still counts.
	MustSend(t, stream, task.Task{JobID: "j", ChunkID: 9, Query: countQuery(query.Token, "a"), Data: []byte("a a b\n")})
	m := MustRecvResult(t, stream)
	if r := taskwire.ResultFromProto(m); r.Err != nil || r.ChunkID != 9 || len(r.Partial.Counts) != 1 || r.Partial.Counts[0] != 2 {
		t.Errorf("good task after bad ones: got chunk %d counts %v err %v, want chunk 9 counts [2]", r.ChunkID, r.Partial.Counts, r.Err)
	}
}

// countingService wraps a Server to watch its session from the stream's side.
type countingService struct {
	tallyv1.UnimplementedWorkerServiceServer
	inner *Server
	// observe is called on every task received and result sent.
	observe func(recvs, sends int64)

	recvs, sends atomic.Int64
}

func (c *countingService) Process(stream tallyv1.WorkerService_ProcessServer) error {
	return c.inner.Process(&countingStream{WorkerService_ProcessServer: stream, c: c})
}

type countingStream struct {
	tallyv1.WorkerService_ProcessServer
	c *countingService
}

func (s *countingStream) Recv() (*tallyv1.ProcessRequest, error) {
	m, err := s.WorkerService_ProcessServer.Recv()
	if err == nil {
		s.c.observe(s.c.recvs.Add(1), s.c.sends.Load())
	}
	return m, err
}

// RecvMsg is how the Server receives tasks (into a wire.ReceivedTask).
func (s *countingStream) RecvMsg(m any) error {
	err := s.WorkerService_ProcessServer.RecvMsg(m)
	if err == nil {
		s.c.observe(s.c.recvs.Add(1), s.c.sends.Load())
	}
	return err
}

func (s *countingStream) Send(m *tallyv1.ProcessResponse) error {
	if m.GetResult() != nil {
		s.c.observe(s.c.recvs.Load(), s.c.sends.Add(1))
	}
	return s.WorkerService_ProcessServer.Send(m)
}

// TestServerFlowControl checks that a session never runs more than its slots'
// worth of tasks at once, however many the coordinator sends.
//
// Without timing: the Engine announces 1 thread but its own semaphore is made
// wide, so only the Server's slots limit the tasks inside Process, and
// len(e.sem) is exactly how many run. The test holds the program cache lock,
// so no task can finish: while it does, the Server may read the task that
// fills its slot and one more (which waits for the slot), never a third.
func TestServerFlowControl(t *testing.T) {
	e := NewEngine(1)
	e.sem = make(chan struct{}, 64) // the Server's slots are now the only limit
	const slots = 1
	var (
		mu          sync.Mutex // guards blocked, maxRunning and recvBlocked
		blocked     = true
		maxRunning  int
		recvBlocked int64
	)
	svc := &countingService{inner: NewServer("w", e, ServerOptions{})}
	svc.observe = func(recvs, sends int64) {
		mu.Lock()
		defer mu.Unlock()
		maxRunning = max(maxRunning, len(e.sem))
		if blocked {
			recvBlocked = max(recvBlocked, recvs)
		}
	}
	c := MustServe(t, svc)
	stream, hello := MustOpen(t, c)
	if hello.GetSlots() != slots {
		t.Fatalf("got %d slots, want %d", hello.GetSlots(), slots)
	}

	e.mu.Lock() // every task now stops inside Process, holding its engine token
	const tasks = 6
	for i := range tasks {
		MustSend(t, stream, task.Task{JobID: "j", ChunkID: uint64(i), Query: countQuery(query.Token, "a"), Data: []byte("a b a\n")})
	}
	waitFor(t, 5*time.Second, "the server to hold a task", func() bool { return svc.recvs.Load() >= slots+1 && len(e.sem) >= slots })
	if got := len(e.sem); got != slots {
		t.Errorf("while no task can finish: got %d tasks running, want %d", got, slots)
	}
	mu.Lock()
	blocked = false
	mu.Unlock()
	e.mu.Unlock()

	for range tasks {
		if r := taskwire.ResultFromProto(MustRecvResult(t, stream)); r.Err != nil || r.Partial.Counts[0] != 2 {
			t.Errorf("chunk %d: got counts %v err %v, want [2]", r.ChunkID, r.Partial.Counts, r.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if recvBlocked > slots+1 {
		t.Errorf("while no task could finish the server read %d tasks, want at most %d (slots + the one waiting)", recvBlocked, slots+1)
	}
	if maxRunning > slots {
		t.Errorf("got up to %d tasks running at once, want at most %d", maxRunning, slots)
	}
}

// TestServerCloseSendDrains checks that after CloseSend the tasks already sent
// are answered, and then the stream ends cleanly.
func TestServerCloseSendDrains(t *testing.T) {
	e := NewEngine(2)
	c := MustServe(t, NewServer("w", e, ServerOptions{}))
	stream, _ := MustOpen(t, c)
	e.mu.Lock() // hold every task until after CloseSend
	const tasks = 5
	for i := range tasks {
		MustSend(t, stream, task.Task{JobID: "j", ChunkID: uint64(i), Query: countQuery(query.Substring, "ab"), Data: []byte("abab\nab\n")})
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("close send: %v", err)
	}
	e.mu.Unlock()
	seen := map[uint64]bool{}
	for range tasks {
		r := taskwire.ResultFromProto(MustRecvResult(t, stream))
		if r.Err != nil || r.Partial.Counts[0] != 3 || seen[r.ChunkID] {
			t.Errorf("chunk %d: got counts %v err %v (seen before: %t), want [3] once", r.ChunkID, r.Partial.Counts, r.Err, seen[r.ChunkID])
		}
		seen[r.ChunkID] = true
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last result: got %v, want io.EOF (a clean end)", err)
	}
}

// TestServerDrain checks that a draining server answers the tasks it has
// started, starts no more, and ends the session cleanly although the
// coordinator never closed its side.
func TestServerDrain(t *testing.T) {
	for _, sent := range []int{2, 3} { // two start; a third waits for a slot, or the server waits for one
		t.Run(fmt.Sprintf("%d tasks sent", sent), func(t *testing.T) { testServerDrain(t, sent) })
	}
}

func testServerDrain(t *testing.T, sent int) {
	e := NewEngine(2)
	srv := NewServer("w", e, ServerOptions{})
	c := MustServe(t, srv)
	stream, _ := MustOpen(t, c)
	e.mu.Lock() // hold the started tasks until the server drains
	for i := range sent {
		MustSend(t, stream, task.Task{JobID: "j", ChunkID: uint64(i), Query: countQuery(query.Substring, "ab"), Data: []byte("abab\nab\n")})
	}
	for deadline := time.Now().Add(5 * time.Second); len(e.sem) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first two tasks did not start")
		}
	}
	srv.Drain()
	e.mu.Unlock()
	seen := map[uint64]bool{}
	for range 2 {
		r := taskwire.ResultFromProto(MustRecvResult(t, stream))
		if r.Err != nil || r.Partial.Counts[0] != 3 || r.ChunkID > 1 || seen[r.ChunkID] {
			t.Errorf("chunk %d: got counts %v err %v, want chunks 0 and 1 answered once with [3]", r.ChunkID, r.Partial.Counts, r.Err)
		}
		seen[r.ChunkID] = true
	}
	if m, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the started tasks: got %v, %v; want io.EOF (a clean end, the third task not started)", m, err)
	}
}

// TestServerSessionCancel checks that a coordinator that goes away mid-task
// ends the session without leaving goroutines behind (TestMain checks).
func TestServerSessionCancel(t *testing.T) {
	e := NewEngine(1)
	c := MustServe(t, NewServer("w", e, ServerOptions{}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.Process(ctx)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("receive hello: %v", err)
	}
	e.mu.Lock()
	for i := range 3 {
		MustSend(t, stream, task.Task{JobID: "j", ChunkID: uint64(i), Query: countQuery(query.Token, "a"), Data: []byte("a\n")})
	}
	cancel()
	e.mu.Unlock()
	if _, err := stream.Recv(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("after cancel: got %v, want a cancellation error", err)
	}
}

// TestStartAndClose starts a real Worker on 127.0.0.1 port 0, opens a session
// on its advertised address, and closes it twice.
func TestStartAndClose(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Threads = 2
	cfg.Cluster = cluster.DefaultConfig()
	cfg.DrainTimeout = 2 * time.Second
	w, err := Start(cfg)
	if err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	if w.Engine().Threads() != 2 {
		t.Errorf("got %d engine threads, want 2", w.Engine().Threads())
	}
	conn, err := grpc.NewClient(w.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial worker: %v", err)
	}
	defer conn.Close()
	stream, hello := MustOpen(t, tallyv1.NewWorkerServiceClient(conn))
	if hello.GetSlots() != 2 || hello.GetName() != w.Name() {
		t.Errorf("got hello %q with %d slots, want %q with 2", hello.GetName(), hello.GetSlots(), w.Name())
	}
	MustSend(t, stream, task.Task{JobID: "j", ChunkID: 1, Query: countQuery(query.Word, "x"), Data: []byte("x x-y xx\n")})
	if r := taskwire.ResultFromProto(MustRecvResult(t, stream)); r.Err != nil || r.Partial.Counts[0] != 2 {
		t.Errorf("got counts %v err %v, want [2]", r.Partial.Counts, r.Err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("close send: %v", err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after close send: got %v, want io.EOF", err)
	}
	first := w.Close()
	if second := w.Close(); !errors.Is(second, first) && second != first {
		t.Errorf("second Close: got %v, want the first's result %v", second, first)
	}
	if err := w.Wait(context.Background()); err != nil {
		t.Errorf("Wait after Close: got %v, want nil", err)
	}
}
