package coordinator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/worker"
)

// TestSilentWorkers: workers that take chunks and never answer (hung, or
// not real workers) cannot hold a job forever. Beside a real worker the
// job is exact; on its own the job fails within a bound, naming the silence.
func TestSilentWorkers(t *testing.T) {
	hole := func() (task.Link, error) {
		return newAsyncLink(2, func(ctx context.Context, t task.Task, emit func(event) bool) { <-ctx.Done() }), nil
	}
	fast := func(c *Config) {
		c.AnswerTimeout, c.MaxAttempts, c.WorkerWait = 300*time.Millisecond, 2, 30*time.Second
	}
	q := countQ(query.Token, false, "the", "a")

	t.Run("alone", func(t *testing.T) {
		_, cl := MustFaultCoordinator(t, map[string]func() (task.Link, error){"hole-1": hole, "hole-2": hole}, fast)
		ds := faultDocs(t)
		start := time.Now()
		_, err := cl.Run(testCtx(t, 30*time.Second), client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)}, nil)
		if err == nil || !strings.Contains(err.Error(), "answered nothing") {
			t.Fatalf("got %v, want the job failed for the workers' silence", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("the job failed after %v, want it bounded by a few answer timeouts", d)
		}
	})
	t.Run("beside a real worker", func(t *testing.T) {
		engine := worker.NewEngine(2)
		log := &answerLog{}
		workers := map[string]func() (task.Link, error){
			"hole": hole,
			"real": func() (task.Link, error) {
				return newScriptedLink(2, countingScript("real", engine, log, deliver)), nil
			},
		}
		_, cl := MustFaultCoordinator(t, workers, fast)
		ds := faultDocs(t)
		res := MustRun(t, testCtx(t, 30*time.Second), cl, client.Job{Query: q, ChunkSize: faultChunk, Documents: clientDocs(ds)})
		checkExact(t, res, q, ds)
	})
}
