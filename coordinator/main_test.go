package coordinator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/internal/leaktest"
	"github.com/tallyhq/tally/internal/testlog"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/worker"
)

// TestMain fails the package if a test leaves a goroutine behind: every
// Coordinator, Worker, client and fake a test starts is closed in t.Cleanup.
func TestMain(m *testing.M) { leaktest.Main(m) }

// newTestLogger returns a logger that writes to t.Log. Call it before starting
// what logs: cleanups run last-in first-out, so that closes first.
func newTestLogger(tb testing.TB) *slog.Logger { return testlog.New(tb, slog.LevelInfo) }

// testConfig is DefaultConfig with a test logger and short drain.
func testConfig(tb testing.TB) Config {
	cfg := DefaultConfig()
	cfg.Logger = newTestLogger(tb)
	cfg.DrainTimeout = 2 * time.Second
	cfg.Dial = worker.DialGRPC
	return cfg
}

// MustStart starts a coordinator and closes it in t.Cleanup.
func MustStart(tb testing.TB, cfg Config) *Coordinator {
	tb.Helper()
	c, err := Start(cfg)
	if err != nil {
		tb.Fatalf("start coordinator: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// MustEmbedded starts a coordinator with in-process workers, as the CLI's
// embedded mode does: Config.Dial is LocalDialer and workers are added by hand.
func MustEmbedded(tb testing.TB, workers, threads int, modify func(*Config)) *Coordinator {
	tb.Helper()
	cfg := testConfig(tb)
	engine := worker.NewEngine(threads)
	cfg.Dial = worker.LocalDialer(engine)
	if modify != nil {
		modify(&cfg)
	}
	c := MustStart(tb, cfg)
	for i := range workers {
		c.AddWorker(fmt.Sprintf("local-%d", i), "local", threads)
	}
	return c
}

// MustClient dials c with the client package and closes it in t.Cleanup.
func MustClient(tb testing.TB, c *Coordinator) *client.Client {
	tb.Helper()
	cl, err := client.Dial(c.Addr())
	if err != nil {
		tb.Fatalf("dial coordinator: %v", err)
	}
	tb.Cleanup(func() { cl.Close() })
	return cl
}

// testCtx is a context that ends with the test, or after d.
func testCtx(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// doc is one input document held in memory.
type doc struct {
	name string
	data []byte
}

func clientDocs(ds []doc) []client.Document {
	out := make([]client.Document, len(ds))
	for i, d := range ds {
		out[i] = client.Document{Name: d.name, Size: int64(len(d.data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(d.data)), nil
		}}
	}
	return out
}

// MustReadDocs reads the named shared test texts.
func MustReadDocs(tb testing.TB, names ...string) []doc {
	tb.Helper()
	var ds []doc
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("../testdata/text", n))
		if err != nil {
			tb.Fatalf("read test text: %v", err)
		}
		ds = append(ds, doc{n, b})
	}
	return ds
}

// MustCompile compiles a spec the test knows to be valid.
func MustCompile(tb testing.TB, s query.Spec) *count.Program {
	tb.Helper()
	p, err := count.Compile(s)
	if err != nil {
		tb.Fatalf("compile %+v: %v", s, err)
	}
	return p
}

// reference is the answer of one single pass over each whole document,
// count.Compile(spec).Run(data), merged into the totals as a job merges them.
func reference(tb testing.TB, q query.Job, ds []doc) *client.Result {
	tb.Helper()
	p := MustCompile(tb, q.Spec)
	res := &client.Result{Total: client.DocumentResult{Name: "total"}, Stats: q.Spec.Stats}
	var total count.Partial
	for _, d := range ds {
		part := p.Run(d.data)
		res.Documents = append(res.Documents, client.DocumentResult{Name: d.name, Stats: part.Stats, Counts: part.Counts})
		total.Merge(part)
	}
	res.Total.Stats, res.Total.Counts = total.Stats, total.Counts
	if q.Spec.Count != nil && res.Total.Counts == nil {
		res.Total.Counts = make([]int64, len(q.Spec.Count.Targets))
	}
	if q.Spec.Top != nil {
		if total.Freq == nil {
			total.Freq = count.NewFreq()
		}
		res.Top = total.Freq.Top(q.TopLimit)
	}
	return res
}

// diffResult describes how got's answer differs from want's, or returns "".
func diffResult(got, want *client.Result) string {
	var d []string
	if len(got.Documents) != len(want.Documents) {
		d = append(d, fmt.Sprintf("got %d documents, want %d", len(got.Documents), len(want.Documents)))
	}
	for i := range min(len(got.Documents), len(want.Documents)) {
		if s := diffDoc(got.Documents[i], want.Documents[i]); s != "" {
			d = append(d, "document "+want.Documents[i].Name+": "+s)
		}
	}
	if s := diffDoc(got.Total, want.Total); s != "" {
		d = append(d, "total: "+s)
	}
	if got.Stats != want.Stats {
		d = append(d, fmt.Sprintf("stats measured: got %t, want %t", got.Stats, want.Stats))
	}
	if !slices.Equal(got.Top, want.Top) {
		d = append(d, fmt.Sprintf("top: got %d entries %.300v, want %d entries %.300v", len(got.Top), got.Top, len(want.Top), want.Top))
	}
	return strings.Join(d, "\n")
}

func diffDoc(got, want client.DocumentResult) string {
	var d []string
	if got.Name != want.Name {
		d = append(d, fmt.Sprintf("name: got %q, want %q", got.Name, want.Name))
	}
	if got.Stats != want.Stats {
		d = append(d, fmt.Sprintf("stats: got %+v, want %+v", got.Stats, want.Stats))
	}
	if !slices.Equal(got.Counts, want.Counts) {
		d = append(d, fmt.Sprintf("counts: got %v, want %v", got.Counts, want.Counts))
	}
	return strings.Join(d, "; ")
}

// MustRun runs job through cl and fails the test on an error.
func MustRun(tb testing.TB, ctx context.Context, cl *client.Client, job client.Job) *client.Result {
	tb.Helper()
	res, err := cl.Run(ctx, job, nil)
	if err != nil {
		tb.Fatalf("run job: %v", err)
	}
	return res
}

// checkExact fails the test when res is not the reference answer for q over ds.
func checkExact(tb testing.TB, res *client.Result, q query.Job, ds []doc) {
	tb.Helper()
	if d := diffResult(res, reference(tb, q, ds)); d != "" {
		tb.Errorf("result differs from one pass over each document:\n%s", d)
	}
}

// wantCode fails the test unless err is a gRPC status with code want.
func wantCode(tb testing.TB, err error, want codes.Code) {
	tb.Helper()
	if got := status.Code(err); got != want {
		tb.Errorf("got code %v (err %v), want %v", got, err, want)
	}
}

// countQ asks for statistics too, so that the tests see them merged across
// chunks and workers; topQ does not, so that the tests see them left out.
func countQ(m query.Mode, ignoreCase bool, targets ...string) query.Job {
	return query.Job{Spec: query.Spec{Count: &query.Count{Mode: m, Targets: targets, IgnoreCase: ignoreCase}, Stats: true}}
}

func topQ(wordsOnly, lower bool, limit int) query.Job {
	return query.Job{Spec: query.Spec{Top: &query.Top{WordsOnly: wordsOnly, Lower: lower}}, TopLimit: limit}
}
