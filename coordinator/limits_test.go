package coordinator

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tallyhq/tally/client"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/wire"
)

func TestLimits(t *testing.T) {
	c := MustEmbedded(t, 1, 1, func(c *Config) { c.MaxTargets, c.MaxTargetBytes, c.MaxJobs = 3, 8, 1 })
	cl := MustClient(t, c)
	ctx := testCtx(t, 20*time.Second)
	docs := []doc{{"d", []byte("a b c\n")}}

	t.Run("too many targets", func(t *testing.T) {
		_, err := cl.Run(ctx, client.Job{Query: countQ(query.Token, false, "a", "b", "c", "d"), Documents: clientDocs(docs)}, nil)
		wantCode(t, err, codes.InvalidArgument)
		_, err = cl.CountTexts(ctx, []string{"a"}, query.Count{Mode: query.Token, Targets: []string{"a", "b", "c", "d"}}, false)
		wantCode(t, err, codes.InvalidArgument)
	})
	t.Run("target too long", func(t *testing.T) {
		_, err := cl.Run(ctx, client.Job{Query: countQ(query.Substring, false, "abcdefghi"), Documents: clientDocs(docs)}, nil)
		wantCode(t, err, codes.InvalidArgument)
	})
	t.Run("unary request too large", func(t *testing.T) {
		_, err := cl.CountTexts(ctx, []string{strings.Repeat("a", maxClientMessage+1)}, query.Count{Mode: query.Token, Targets: []string{"a"}}, false)
		wantCode(t, err, codes.ResourceExhausted)
	})
	t.Run("too many jobs", func(t *testing.T) {
		// A job whose upload never ends holds the only slot.
		stream, err := cl.API().RunJob(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := &tallyv1.JobStart{Spec: wire.QueryToProto(countQ(query.Token, false, "a"))}
		if err := stream.Send(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Start{Start: start}}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the first job to run", func() bool { return len(c.jobs.running()) == 1 })
		_, err = cl.Run(ctx, client.Job{Query: countQ(query.Token, false, "a"), Documents: clientDocs(docs)}, nil)
		wantCode(t, err, codes.ResourceExhausted)
		stream.CloseSend()
		for {
			if _, err := stream.Recv(); err != nil {
				break
			}
		}
		waitFor(t, 5*time.Second, "the first job to end", func() bool { return len(c.jobs.running()) == 0 })
		if _, err := cl.Run(ctx, client.Job{Query: countQ(query.Token, false, "a"), Documents: clientDocs(docs)}, nil); err != nil {
			t.Errorf("after the first job ended: got %v, want success", err)
		}
	})
}
