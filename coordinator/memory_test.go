package coordinator

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/worker"
)

// longTargets returns n distinct targets of size printable bytes.
func longTargets(n, size int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]string, n)
	for i := range out {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte('!' + r.IntN(94))
		}
		out[i] = string(b)
	}
	return out
}

// wantMessage fails the test unless err's message has every one of parts.
func wantMessage(tb testing.TB, err error, parts ...string) {
	tb.Helper()
	for _, p := range parts {
		if !strings.Contains(status.Convert(err).Message(), p) {
			tb.Errorf("got error %v, want it to mention %q", err, p)
		}
	}
}

// TestMatcherMemoryRefused: a job whose matcher the estimate puts above
// Config.MaxMatcherMemory is refused before it is registered or any task
// is sent, with ResourceExhausted naming the estimate, the limit and the flag.
func TestMatcherMemoryRefused(t *testing.T) {
	c := MustEmbedded(t, 1, 1, func(c *Config) { c.MaxMatcherMemory = 1 << 20 })
	cl := MustClient(t, c)
	ctx := testCtx(t, 20*time.Second)
	q := countQ(query.Substring, false, longTargets(60, 4096, 1)...)
	_, err := cl.Run(ctx, client.Job{Query: q, Documents: clientDocs([]doc{{"d", []byte("a b c\n")}})}, nil)
	wantCode(t, err, codes.ResourceExhausted)
	est := count.FormatBytes(count.MatcherBytes(*q.Spec.Count))
	wantMessage(t, err, est, "limit of 1.0 MiB", "--max-matcher-memory")
	_, err = cl.CountTexts(ctx, []string{"a"}, *q.Spec.Count, false)
	wantCode(t, err, codes.ResourceExhausted)
	if jobs := c.jobs.list(); len(jobs) != 0 {
		t.Errorf("got %d jobs registered, want none", len(jobs))
	}
	// Within the limit, the same number of short targets runs.
	short := countQ(query.Substring, false, longTargets(20, 8, 2)...)
	if _, err := cl.Run(ctx, client.Job{Query: short, Documents: clientDocs([]doc{{"d", []byte("a b c\n")}})}, nil); err != nil {
		t.Errorf("short targets: got %v, want success", err)
	}
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestWorkerMatcherBudget runs real workers whose matcher budget is below
// the coordinator's: the job fails at once, with ResourceExhausted naming
// the worker's limit, and no chunk is tried on a second worker; the
// workers stay up and count the next job exactly.
func TestWorkerMatcherBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a memberlist cluster")
	}
	ccfg := cluster.DefaultConfig()
	cfg := testConfig(t)
	cfg.Cluster = &ccfg
	var logs lockedBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(&logs, testWriter{t}), nil))
	c := MustStart(t, cfg)
	workers := make([]*worker.Worker, 2)
	for i := range workers {
		wcfg := worker.DefaultConfig()
		wcfg.Threads = 1
		wcfg.Cluster = cluster.DefaultConfig()
		wcfg.Cluster.Join = []string{c.GossipAddr()}
		wcfg.Logger = newTestLogger(t)
		wcfg.MaxMatcherMemory = 1 << 20
		w, err := worker.Start(wcfg)
		if err != nil {
			t.Fatalf("start worker: %v", err)
		}
		t.Cleanup(func() { w.Close() })
		workers[i] = w
	}
	cl := MustClient(t, c)
	ctx := testCtx(t, 50*time.Second)
	waitFor(t, 15*time.Second, "2 ready workers", func() bool { return len(readyWorkers(ctx, cl)) == 2 })

	data := generatedText(1<<20, 3)
	q := countQ(query.Substring, false, longTargets(60, 4096, 3)...)
	start := time.Now()
	_, err := cl.Run(ctx, client.Job{Query: q, ChunkSize: 64 << 10, Documents: clientDocs([]doc{{"gen", data}})}, nil)
	wantCode(t, err, codes.ResourceExhausted)
	wantMessage(t, err, "limit of 1.0 MiB", "worker's --max-matcher-memory", "refused chunk")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the job took %s to fail, want it to fail at once", d)
	}
	// No chunk was tried again: each appears at most once among the failures.
	seen := map[string]bool{}
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "chunk failed on worker") {
			continue
		}
		var chunk string
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "chunk=") {
				chunk = f
			}
		}
		if seen[chunk] {
			t.Errorf("%s failed twice: it was retried", chunk)
		}
		seen[chunk] = true
	}
	if len(seen) == 0 {
		t.Errorf("got no chunk failure logged, want the refusal")
	}

	if got := len(readyWorkers(ctx, cl)); got != 2 {
		t.Fatalf("got %d ready workers after the refusal, want 2", got)
	}
	normal := countQ(query.Substring, false, "the", "Alice", "ſtraße")
	res := MustRun(t, ctx, cl, client.Job{Query: normal, ChunkSize: 64 << 10, Documents: clientDocs([]doc{{"gen", data}})})
	checkExact(t, res, normal, []doc{{"gen", data}})
}

// testWriter writes to t.Log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// distinctTokens returns a text of n distinct tokens, a line of ten each.
func distinctTokens(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "tok%d", i)
		if i%10 == 9 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()
}

// TestTopMemoryBudget: a top job whose merged table grows beyond
// Config.MaxTopMemory fails with ResourceExhausted naming the limit and
// the flag; the next job runs.
func TestTopMemoryBudget(t *testing.T) {
	c := MustEmbedded(t, 1, 2, func(c *Config) { c.MaxTopMemory = 1 << 20 })
	cl := MustClient(t, c)
	ctx := testCtx(t, 30*time.Second)
	big := []doc{{"many", distinctTokens(200_000)}}
	_, err := cl.Run(ctx, client.Job{Query: topQ(false, false, 10), ChunkSize: 256 << 10, Documents: clientDocs(big)}, nil)
	wantCode(t, err, codes.ResourceExhausted)
	wantMessage(t, err, "frequency table", "limit of 1.0 MiB", "--max-top-memory")

	small := []doc{{"few", distinctTokens(1000)}}
	q := topQ(false, false, 0)
	checkExact(t, MustRun(t, ctx, cl, client.Job{Query: q, Documents: clientDocs(small)}), q, small)
}

// TestLargeTableLeavesHistory: a top job's table larger than the history
// keeps is dropped once its result is sent, not when the next job comes.
func TestLargeTableLeavesHistory(t *testing.T) {
	c := MustEmbedded(t, 1, 2, func(c *Config) { c.HistoryTopEntries = 1000 })
	cl := MustClient(t, c)
	ctx := testCtx(t, 30*time.Second)
	ds := []doc{{"many", distinctTokens(bigTable + 1000)}}
	q := topQ(false, false, 0)
	res := MustRun(t, ctx, cl, client.Job{Query: q, Documents: clientDocs(ds)})
	if len(res.Top) != bigTable+1000 {
		t.Fatalf("got %d entries, want %d", len(res.Top), bigTable+1000)
	}
	j := c.jobs.list()[0]
	waitFor(t, 5*time.Second, "the table to leave the history", func() bool {
		_, n := j.finishedTable()
		return n == 0
	})
}

// TestTopReserveWithinBudget: a job whose first chunk projects a table
// far larger than its budget (many distinct tokens, all repeated in every
// chunk) reserves only what the budget allows and finishes exactly.
func TestTopReserveWithinBudget(t *testing.T) {
	c := MustEmbedded(t, 1, 2, func(c *Config) { c.MaxTopMemory = 8 << 20 })
	cl := MustClient(t, c)
	ctx := testCtx(t, 30*time.Second)
	ds := []doc{{"repeated", bytes.Repeat(distinctTokens(20_000), 40)}}
	q := topQ(false, false, 0)
	res := MustRun(t, ctx, cl, client.Job{Query: q, ChunkSize: 256 << 10, Documents: clientDocs(ds)})
	checkExact(t, res, q, ds)
}
