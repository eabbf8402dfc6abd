package statuspage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/internal/leaktest"
	"github.com/tallyhq/tally/internal/testlog"
	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/statuspage"
	"github.com/tallyhq/tally/worker"
)

// TestMain fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) { leaktest.Main(m) }

// evilName is a document name that would run a script if a page put it
// into HTML unescaped.
const evilName = "<script>alert(1)</script>.txt"

func newTestLogger(tb testing.TB) *slog.Logger { return testlog.New(tb, slog.LevelWarn) }

// testCluster is a coordinator with real workers found by gossip, all on
// 127.0.0.1, and its status page served on a real admin listener.
type testCluster struct {
	c       *coordinator.Coordinator
	workers []*worker.Worker
	base    string // http://127.0.0.1:PORT
	token   string
}

// MustCluster starts a coordinator, n workers of one thread each slowed
// to throttle bytes per second (so that a job lasts), named as names says
// (the rest by default), and the status page behind token (none if "");
// all are closed in t.Cleanup.
func MustCluster(t *testing.T, n, throttle int, token string, names ...string) *testCluster {
	t.Helper()
	log := newTestLogger(t)
	ccfg := cluster.DefaultConfig()
	cfg := coordinator.DefaultConfig()
	cfg.Cluster, cfg.Dial, cfg.Logger, cfg.DrainTimeout = &ccfg, worker.DialGRPC, log, 2*time.Second
	c, err := coordinator.Start(cfg)
	if err != nil {
		t.Fatalf("start coordinator: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	tc := &testCluster{c: c, token: token}
	for i := range n {
		wcfg := worker.DefaultConfig()
		if i < len(names) {
			wcfg.Cluster.NodeName = names[i]
		}
		wcfg.Threads, wcfg.Logger, wcfg.DrainTimeout = 1, log, 2*time.Second
		wcfg.Cluster.Join = []string{c.GossipAddr()}
		wcfg.Faults.Throttle = throttle
		w, err := worker.Start(wcfg)
		if err != nil {
			t.Fatalf("start worker: %v", err)
		}
		t.Cleanup(func() { w.Close() })
		tc.workers = append(tc.workers, w)
	}
	waitFor(t, 20*time.Second, "every worker ready", func() bool { return ready(c) == n })

	scfg := statuspage.DefaultConfig()
	scfg.SampleEvery = 200 * time.Millisecond
	page, err := statuspage.New(c, scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(page.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr, err := metrics.New(metrics.Coordinator).Serve(ctx, "127.0.0.1:0", metrics.ServeOptions{Token: token, Pages: page})
	if err != nil {
		t.Fatal(err)
	}
	tc.base = "http://" + addr
	return tc
}

// ready is how many workers the coordinator has a ready session with.
func ready(c *coordinator.Coordinator) int {
	n := 0
	for _, w := range c.Overview().Workers {
		if w.State == "ready" {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// generatedText returns about size bytes of lines of words, the same for the same seed.
func generatedText(size int, seed uint64) []byte {
	words := []string{"the", "The", "a", "tally", "count", "word", "ſtraße", "σ", "and", "of", "Alice", "<td>", "x&y"}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b bytes.Buffer
	for b.Len() < size {
		for n := 1 + r.IntN(12); n > 0; n-- {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(" \t"[r.IntN(2)])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// submit starts a job over docs (name, text pairs), in chunks of chunk
// bytes, and cancels it when the test ends.
func (tc *testCluster) submit(t *testing.T, q query.Job, chunk int, docs ...any) *coordinator.Job {
	t.Helper()
	var in []coordinator.Input
	for i := 0; i < len(docs); i += 2 {
		text := docs[i+1].([]byte)
		in = append(in, coordinator.Input{Name: docs[i].(string), Reader: bytes.NewReader(text), Size: int64(len(text))})
	}
	h, err := tc.c.Submit(context.Background(), coordinator.Request{Query: q, ChunkSize: chunk, Inputs: coordinator.List(in, nil)})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	t.Cleanup(func() {
		h.Cancel()
		<-h.Done()
	})
	return h
}

func topQuery(n int) query.Job {
	return query.Job{Spec: query.Spec{Top: &query.Top{}}, TopLimit: n}
}

func countQuery(mode query.Mode, targets ...string) query.Job {
	return query.Job{Spec: query.Spec{Count: &query.Count{Mode: mode, Targets: targets}, Stats: true}}
}

// do sends a request to the status page, with the token as a bearer token
// when auth is set, and returns the status, the body and the response.
func (tc *testCluster) do(t *testing.T, method, path string, auth bool, header map[string]string) (int, string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, tc.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth && tc.token != "" {
		req.Header.Set("Authorization", "Bearer "+tc.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	cl := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, string(b), resp
}

// get fetches path with the token and fails the test unless it answers 200.
func (tc *testCluster) get(t *testing.T, path string) string {
	t.Helper()
	code, body, _ := tc.do(t, "GET", path, true, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: got %d %q, want 200", path, code, body)
	}
	return body
}

// getJSON fetches path and decodes it, numbers as json.Number.
func (tc *testCluster) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(tc.get(t, path)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: not JSON: %v", path, err)
	}
}
