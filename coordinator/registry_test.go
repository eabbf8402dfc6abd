package coordinator

import (
	"testing"
	"time"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
)

// TestHistoryDropsOldTables: finished jobs keep their frequency tables up
// to the history's budget of entries, newest first; older ones keep their
// statistics, and say that their table was dropped.
func TestHistoryDropsOldTables(t *testing.T) {
	ds := MustReadDocs(t, "alice.txt")
	q := topQ(false, false, 0)
	q.Spec.Stats = true
	entries := len(reference(t, q, ds).Top)
	c := MustEmbedded(t, 1, 2, func(cfg *Config) { cfg.HistoryTopEntries = entries + entries/2 })
	cl := MustClient(t, c)
	var ids []string
	for range 3 {
		res := MustRun(t, testCtx(t, 30*time.Second), cl, client.Job{Query: q, Documents: clientDocs(ds)})
		if len(res.Top) != entries {
			t.Fatalf("job %s answered %d entries, want %d: a client always gets the whole table", res.JobID, len(res.Top), entries)
		}
		ids = append(ids, res.JobID)
	}
	MustRun(t, testCtx(t, 30*time.Second), cl, client.Job{Query: countQ(query.Token, false, "the"), Documents: clientDocs(ds)})
	for i, id := range ids {
		j, err := cl.GetJob(testCtx(t, 5*time.Second), id)
		if err != nil {
			t.Fatal(err)
		}
		r := j.GetResult()
		kept := i == len(ids)-1 // only the newest fits the budget
		if got := len(r.GetTop()) == entries && !r.GetTopDropped(); got != kept {
			t.Errorf("job %d: %d entries, top_dropped %t; want the table kept: %t", i, len(r.GetTop()), r.GetTopDropped(), kept)
		}
		if r.GetTotal().GetStats().GetTokens() == 0 {
			t.Errorf("job %d: lost its statistics with its table", i)
		}
	}
}
