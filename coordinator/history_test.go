package coordinator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/client"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
)

// TestHistoryStaysSmall runs jobs of many long targets: a finished job
// keeps only a summary of them, one ListJobs reply stays small, and the
// client follows the pages to list every job.
func TestHistoryStaysSmall(t *testing.T) {
	c := MustEmbedded(t, 1, 2, nil)
	cl := MustClient(t, c)
	ctx := testCtx(t, 60*time.Second)
	const jobs, targets = 12, 1000
	docs := []doc{{"d", []byte("a b c\n")}}
	for i := range jobs {
		q := countQ(query.Token, false, longTargets(targets, 4096, uint64(i))...)
		MustRun(t, ctx, cl, client.Job{Query: q, Documents: clientDocs(docs)})
	}

	for _, j := range c.jobs.list() {
		s := j.snapshot(true)
		kept := 0
		for _, tg := range s.Query.Spec.Count.Targets {
			kept += len(tg)
		}
		if kept > summaryTargets*summaryTargetBytes || s.Targets.count != targets || s.Targets.bytes != targets*4096 {
			t.Errorf("job %s keeps %d bytes of targets (of %d targets, %d bytes), want at most %d",
				s.ID, kept, s.Targets.count, s.Targets.bytes, summaryTargets*summaryTargetBytes)
		}
		if len(s.Result.Total.Counts) != targets {
			t.Errorf("job %s: got %d counts, want %d", s.ID, len(s.Result.Total.Counts), targets)
		}
	}

	var ids []string
	req := &tallyv1.ListJobsRequest{PageSize: 5}
	for pages := 0; ; pages++ {
		resp, err := cl.API().ListJobs(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if size := proto.Size(resp); size > 16<<10 {
			t.Errorf("a page of %d jobs is %d bytes, want at most 16 KiB", len(resp.GetJobs()), size)
		}
		if len(resp.GetJobs()) > 5 {
			t.Errorf("got a page of %d jobs, want at most 5", len(resp.GetJobs()))
		}
		for _, j := range resp.GetJobs() {
			ids = append(ids, j.GetId())
			if j.GetTargetCount() != targets || j.GetTargetBytes() != targets*4096 || !j.GetTargetsSummarized() {
				t.Errorf("job %s: got %d targets of %d bytes (summarized %t), want %d of %d, summarized",
					j.GetId(), j.GetTargetCount(), j.GetTargetBytes(), j.GetTargetsSummarized(), targets, targets*4096)
			}
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	all, err := cl.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, j := range c.jobs.list() {
		want = append(want, j.id)
	}
	if got := strings.Join(ids, ","); got != strings.Join(want, ",") || len(all) != jobs {
		t.Errorf("paged through %s (client: %d jobs), want %s", got, len(all), strings.Join(want, ","))
	}
	_, err = cl.API().ListJobs(ctx, &tallyv1.ListJobsRequest{PageToken: "x"})
	wantCode(t, err, codes.InvalidArgument)
}

// TestDescribe: the log's query summary names the kind and options, counts
// the targets and quotes the first few, cut short, so that a client's
// target cannot forge a log line.
func TestDescribe(t *testing.T) {
	targets := []string{"Holmes", "a\nfake=1", strings.Repeat("x", 100)}
	for i := range 10 {
		targets = append(targets, fmt.Sprint("t", i))
	}
	q := countQ(query.Word, true, targets...)
	got := describe(q)
	for _, want := range []string{"count mode=word ignore_case=true stats=true targets=13", `"Holmes"`, `"a\nfake=1"`, " and 5 more"} {
		if !strings.Contains(got, want) {
			t.Errorf("describe: got %s, want it to contain %s", got, want)
		}
	}
	if strings.Contains(got, "\n") || strings.Contains(got, strings.Repeat("x", 100)) {
		t.Errorf("describe: got %q, want one line with long targets cut", got)
	}
	if got, want := describe(topQ(true, false, 7)), "top n=7 words_only=true lower=false stats=false"; got != want {
		t.Errorf("describe(top): got %q, want %q", got, want)
	}
}
