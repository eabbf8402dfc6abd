package coordinator

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/cluster"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/worker"
)

// MustStartWorker starts a real worker (gRPC on 127.0.0.1 port 0, Threads 1)
// that joins the cluster at join, and closes it in t.Cleanup.
func MustStartWorker(tb testing.TB, join string) *worker.Worker {
	tb.Helper()
	cfg := worker.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.Threads = 1
	cfg.Cluster = cluster.DefaultConfig()
	cfg.Cluster.Join = []string{join}
	cfg.DrainTimeout = 5 * time.Second
	cfg.Logger = newTestLogger(tb)
	w, err := worker.Start(cfg)
	if err != nil {
		tb.Fatalf("start worker: %v", err)
	}
	tb.Cleanup(func() { w.Close() })
	return w
}

// readyWorkers returns the names of the workers the coordinator has a ready session with.
func readyWorkers(ctx context.Context, cl *client.Client) map[string]*tallyv1.Worker {
	resp, err := cl.Workers(ctx)
	if err != nil {
		return nil
	}
	out := map[string]*tallyv1.Worker{}
	for _, w := range resp.GetWorkers() {
		if w.GetState() == stateReady {
			out[w.GetName()] = w
		}
	}
	return out
}

// generatedText returns about size bytes of lines of random words, the same
// for the same seed.
func generatedText(size int, seed uint64) []byte {
	words := []string{"the", "The", "a", "tally", "count", "word", "ſtraße", "σ", "and", "of", "Alice", "rabbit", "x_y", "42"}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// A few distinct blocks repeated: random enough for the counts, cheap under -race.
	blocks := make([][]byte, 8)
	for i := range blocks {
		var b []byte
		for len(b) < 64<<10 {
			for n := 1 + r.IntN(12); n > 0; n-- {
				b = append(b, words[r.IntN(len(words))]...)
				b = append(b, " \t"[r.IntN(2)])
			}
			b = append(b, '\n')
		}
		blocks[i] = b
	}
	out := make([]byte, 0, size+64<<10)
	for len(out) < size {
		out = append(out, blocks[r.IntN(len(blocks))]...)
	}
	return out
}

// TestCluster runs a coordinator and three workers that find it by gossip,
// all on 127.0.0.1 with port 0, and checks the answers against the embedded
// mode's; then one worker leaves gracefully during a long job.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a memberlist cluster")
	}
	ccfg := cluster.DefaultConfig()
	cfg := testConfig(t)
	cfg.Cluster = &ccfg
	cfg.DrainTimeout = 5 * time.Second
	c := MustStart(t, cfg)
	if c.GossipAddr() == "" {
		t.Fatalf("got no gossip address, want one")
	}
	workers := make([]*worker.Worker, 3)
	for i := range workers {
		workers[i] = MustStartWorker(t, c.GossipAddr())
	}
	cl := MustClient(t, c)
	ctx := testCtx(t, 50*time.Second)

	waitFor(t, 15*time.Second, "3 ready workers found by gossip", func() bool { return len(readyWorkers(ctx, cl)) == 3 })
	ready := readyWorkers(ctx, cl)
	for _, w := range workers {
		got, ok := ready[w.Name()]
		if !ok || got.GetAddress() != w.Addr() || got.GetCores() != 1 {
			t.Errorf("worker %s: got %v, want ready at %s with 1 core", w.Name(), got, w.Addr())
		}
	}
	if resp, err := cl.Workers(ctx); err != nil || resp.GetCoordinator() == "" {
		t.Errorf("list workers: got coordinator %q (err %v), want its node name", resp.GetCoordinator(), err)
	}

	t.Run("same answer as embedded", func(t *testing.T) {
		embedded := MustClient(t, MustEmbedded(t, 1, 2, nil))
		ds := MustReadDocs(t, "alice.txt", "zen.txt", "gen-random.txt", "gen-crlf.txt", "gen-invalid.txt", "gen-nofinalnl.txt", "gen-empty.txt", "gen-fold.txt")
		for name, q := range map[string]query.Job{
			"count":           countQ(query.Substring, false, "the ", "Alice", "ſ"),
			"top words lower": topQ(true, true, 40),
		} {
			t.Run(name, func(t *testing.T) {
				job := client.Job{Query: q, ChunkSize: 4096, Documents: clientDocs(ds)}
				got := MustRun(t, ctx, cl, job)
				want := MustRun(t, ctx, embedded, job)
				if d := diffResult(got, want); d != "" {
					t.Errorf("cluster answer differs from the embedded one:\n%s", d)
				}
				checkExact(t, got, q, ds)
				// Hundreds of chunks arrive in bursts (1 MiB upload messages cut
				// into 4 KiB chunks), and each worker holds one chunk at a time,
				// so every ready worker takes part.
				if got.Workers != 3 {
					t.Errorf("got %d workers, want 3", got.Workers)
				}
			})
		}
	})

	t.Run("a worker leaves during a long job", func(t *testing.T) {
		data := generatedText(20<<20, 1)
		q := countQ(query.Token, false, "the", "Alice", "σ")
		open := make(chan struct{})
		const gate = 8 << 20
		job := client.Job{Query: q, ChunkSize: 16 << 10, Documents: []client.Document{gatedDoc(ctx, "generated", data, gate, open)}}
		run := goRun(ctx, cl, job)

		// Let the first 8 MB be counted by all three, then release the rest
		// of the upload and close a worker while chunks flow to it.
		waitFor(t, 20*time.Second, "the first part to be counted", func() bool {
			jobs, err := cl.Jobs(ctx)
			return err == nil && len(jobs) > 0 && jobs[0].GetState() == tallyv1.JobState_JOB_STATE_RUNNING &&
				jobs[0].GetProgress().GetBytesCounted() > gate/2
		})
		leaving := workers[0]
		before := readyWorkers(ctx, cl)[leaving.Name()].GetChunksDone()
		close(open)
		if err := leaving.Close(); err != nil {
			t.Errorf("close worker: %v", err)
		}
		r := <-run
		if r.err != nil {
			t.Fatalf("run: %v", r.err)
		}
		checkExact(t, r.res, q, []doc{{"generated", data}})
		if r.res.Workers < 2 {
			t.Errorf("got %d workers, want at least 2", r.res.Workers)
		}
		t.Logf("the leaving worker counted %d chunks before it was closed; %d workers took part", before, r.res.Workers)
		waitFor(t, 10*time.Second, "the coordinator to forget the worker that left", func() bool {
			resp, err := cl.Workers(ctx)
			if err != nil || len(resp.GetWorkers()) != 2 {
				return false
			}
			for _, w := range resp.GetWorkers() {
				if w.GetName() == leaving.Name() {
					return false
				}
			}
			return true
		})
	})
}
