package coordinator

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/client"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/wire"
)

// MustDialFrom dials c from the local address ip (127.0.0.2, ...), as a
// client on another machine would: the coordinator tells clients apart by
// address.
func MustDialFrom(tb testing.TB, c *Coordinator, ip string) *client.Client {
	tb.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	dial := func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	cl, err := client.Dial(c.Addr(), client.WithGRPCOptions(grpc.WithContextDialer(dial)))
	if err != nil {
		tb.Fatalf("dial coordinator: %v", err)
	}
	tb.Cleanup(func() { cl.Close() })
	return cl
}

// callEnd is how a RunJob call ended, and when.
type callEnd struct {
	err   error
	after time.Duration
}

// watchCall receives on stream until the call ends and reports how it ends.
func watchCall(stream tallyv1.CoordinatorService_RunJobClient, begin time.Time, ends chan<- callEnd) {
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				ends <- callEnd{err, time.Since(begin)}
				return
			}
		}
	}()
}

// TestIdleClients checks findings 7's case: one client opens 64 RunJob
// calls that send a job start and then nothing, and one more that sends
// nothing at all. Another client's job still runs, the first client gets
// no more than its share of the slots, and its idle calls are ended after
// the idle timeout, which frees their slots.
func TestIdleClients(t *testing.T) {
	const idle = time.Second
	c := MustEmbedded(t, 1, 2, func(cfg *Config) { cfg.IdleTimeout = idle })
	share := c.cfg.MaxJobsPerClient
	ctx := testCtx(t, 60*time.Second)
	hog := MustDialFrom(t, c, "127.0.0.2")
	q := countQ(query.Token, false, "a", "b")
	start := &tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Start{Start: &tallyv1.JobStart{Spec: wire.QueryToProto(q)}}}

	const calls = 64
	ends := make(chan callEnd, calls+1)
	begin := time.Now()
	for range calls {
		stream, err := hog.API().RunJob(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(start); err != nil {
			t.Fatal(err)
		}
		watchCall(stream, begin, ends)
	}
	silent, err := hog.API().RunJob(ctx)
	if err != nil {
		t.Fatal(err)
	}
	watchCall(silent, begin, ends)
	waitFor(t, 10*time.Second, "the first client's jobs to be admitted or refused", func() bool {
		return len(c.jobs.running())+len(ends) >= calls
	})

	docs := []doc{{"d1", []byte("a b a\nc a\n")}, {"d2", []byte("b b\n")}}
	res := MustRun(t, ctx, MustClient(t, c), client.Job{Query: q, Documents: clientDocs(docs)})
	checkExact(t, res, q, docs)

	var refused, cut int
	for range calls + 1 {
		var e callEnd
		select {
		case e = <-ends:
		case <-ctx.Done():
			t.Fatalf("got %d calls refused and %d cut, want %d and %d before the test's deadline", refused, cut, calls-share, share+1)
		}
		switch code := status.Code(e.err); {
		case code == codes.ResourceExhausted && strings.Contains(e.err.Error(), "--max-jobs-per-client"):
			refused++
		case code == codes.DeadlineExceeded && strings.Contains(e.err.Error(), "--idle-timeout"):
			cut++
			if e.after < idle || e.after > idle+5*time.Second {
				t.Errorf("an idle call was cut after %v, want %v to %v", e.after, idle, idle+5*time.Second)
			}
		default:
			t.Errorf("got %v, want ResourceExhausted naming --max-jobs-per-client or DeadlineExceeded naming --idle-timeout", e.err)
		}
	}
	if refused != calls-share || cut != share+1 {
		t.Errorf("got %d calls refused and %d cut, want %d and %d", refused, cut, calls-share, share+1)
	}
	waitFor(t, 5*time.Second, "the idle calls' slots to come back", func() bool { return len(c.jobs.running()) == 0 })
	res = MustRun(t, ctx, hog, client.Job{Query: q, Documents: clientDocs(docs)})
	checkExact(t, res, q, docs)
}

// slowReader yields its lines one at a time, a pause before each.
type slowReader struct {
	lines []string
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p, r.lines[0])
	r.lines = r.lines[1:]
	return n, nil
}

// TestIdleTimeoutSparesBusyJobs checks that only a client that makes the
// coordinator wait is idle: an upload slower than the timeout overall but
// with messages more often, a job whose upload has ended and waits for
// workers, and an upload the coordinator stops reading (its job's window is
// full) all run to their exact answer.
func TestIdleTimeoutSparesBusyJobs(t *testing.T) {
	const idle = time.Second
	ctx := testCtx(t, 60*time.Second)
	q := countQ(query.Token, false, "a", "b")

	t.Run("slow upload", func(t *testing.T) {
		c := MustEmbedded(t, 1, 1, func(cfg *Config) { cfg.IdleTimeout = idle })
		lines := []string{"a b\n", "a\n", "b b a\n", "a a\n", "b\n", "a\n"}
		d := client.Document{Name: "slow", Open: func() (io.ReadCloser, error) {
			return io.NopCloser(&slowReader{lines: lines, pause: idle / 3}), nil
		}}
		res := MustRun(t, ctx, MustClient(t, c), client.Job{Query: q, Documents: []client.Document{d}})
		checkExact(t, res, q, []doc{{"slow", []byte(strings.Join(lines, ""))}})
	})
	t.Run("waiting for workers with a full window", func(t *testing.T) {
		c := MustEmbedded(t, 0, 1, func(cfg *Config) { cfg.IdleTimeout, cfg.Window = idle, 1 })
		docs := []doc{{"d", []byte(strings.Repeat("a b a\nb b\n", 40))}}
		type answer struct {
			res *client.Result
			err error
		}
		got := make(chan answer, 1)
		cl := MustClient(t, c)
		go func() {
			res, err := cl.Run(ctx, client.Job{Query: q, ChunkSize: 16, Documents: clientDocs(docs)}, nil)
			got <- answer{res, err}
		}()
		select {
		case a := <-got:
			t.Fatalf("got %v before any worker joined, want a job that waits", a.err)
		case <-time.After(3 * idle):
		}
		c.AddWorker("late", "local", 1)
		var a answer
		select {
		case a = <-got:
		case <-time.After(20 * time.Second):
			t.Fatal("gave up after 20s waiting for the job to end once a worker joined")
		}
		if a.err != nil {
			t.Fatalf("got %v, want the job to succeed once a worker joined", a.err)
		}
		checkExact(t, a.res, q, docs)
	})
}
