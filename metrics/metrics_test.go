package metrics_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/worker"
)

// scrape fetches a /metrics page.
func scrape(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// value returns the value of the series whose line starts with series.
func value(tb testing.TB, page, series string) float64 {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("no series %s in the page", series)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsAfterAJob(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cm, wm := metrics.New(metrics.Coordinator), metrics.New(metrics.Worker)
	caddr, err := cm.Serve(ctx, "127.0.0.1:0", metrics.ServeOptions{Pprof: true})
	if err != nil {
		t.Fatal(err)
	}
	waddr, err := wm.Serve(ctx, "127.0.0.1:0", metrics.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ccfg := cluster.DefaultConfig()
	cfg := coordinator.DefaultConfig()
	cfg.Cluster, cfg.Metrics, cfg.Dial = &ccfg, cm, worker.DialGRPC
	c, err := coordinator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wcfg := worker.DefaultConfig()
	wcfg.Cluster.Join, wcfg.Metrics, wcfg.Threads = []string{c.GossipAddr()}, wm, 2
	w, err := worker.Start(wcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cl, err := client.Dial(c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	text := strings.Repeat("the cat and the hat\n", 1000) // 20,000 bytes
	doc := client.Document{Name: "d", Size: int64(len(text)), Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}
	q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"the"}}}}
	for deadline := time.Now().Add(15 * time.Second); ; {
		res, err := cl.Run(ctx, client.Job{Query: q, ChunkSize: 1000, Documents: []client.Document{doc}}, nil)
		if err == nil {
			if res.Total.Counts[0] != 2000 {
				t.Fatalf("got %d, want 2000", res.Total.Counts[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}

	cpage := scrape(t, "http://"+caddr+"/metrics")
	if got := value(t, cpage, `tally_jobs_total{outcome="succeeded"}`); got != 1 {
		t.Errorf("jobs succeeded: got %v, want 1", got)
	}
	if got := value(t, cpage, `tally_chunks_merged_total`); got != 20 {
		t.Errorf("chunks merged: got %v, want 20", got)
	}
	if got := value(t, cpage, `tally_bytes_merged_total`); got != 20000 {
		t.Errorf("bytes merged: got %v, want 20000", got)
	}
	if got := value(t, cpage, `tally_coordinator_streamed_bytes_total`); got < 20000 {
		t.Errorf("bytes streamed (an upload): got %v, want at least 20000", got)
	}
	if got := value(t, cpage, `grpc_server_handled_total{grpc_code="OK",grpc_method="RunJob",grpc_service="tally.v1.CoordinatorService",grpc_type="bidi_stream"}`); got != 1 {
		t.Errorf("RunJob OK: got %v, want 1", got)
	}
	value(t, cpage, `tally_chunk_redispatches_total{reason="lost"}`)
	if got := value(t, cpage, `tally_jobs_running`); got != 0 {
		t.Errorf("jobs running after the job: got %v, want 0", got)
	}
	if got := value(t, cpage, `tally_job_duration_seconds_count{outcome="succeeded"}`); got != 1 {
		t.Errorf("job durations observed: got %v, want 1", got)
	}
	if got := value(t, cpage, `tally_job_duration_seconds_bucket{outcome="succeeded",le="+Inf"}`); got != 1 {
		t.Errorf("job duration +Inf bucket: got %v, want 1", got)
	}
	if !regexp.MustCompile(`(?m)^tally_build_info\{goversion="go[^"]+",revision="[^"]*",version="[^"]+"\} 1$`).MatchString(cpage) {
		t.Errorf("no tally_build_info series with version, revision and goversion in:\n%s", cpage)
	}
	if strings.Contains(cpage, "tally_worker_") {
		t.Error("the coordinator exports worker metrics")
	}
	wpage := scrape(t, "http://"+waddr+"/metrics")
	if got := value(t, wpage, `tally_worker_chunks_total{result="ok"}`); got < 20 {
		t.Errorf("worker chunks: got %v, want at least 20", got)
	}
	if got := value(t, wpage, `tally_worker_bytes_total`); got < 20000 {
		t.Errorf("worker bytes: got %v, want at least 20000", got)
	}
	if got := value(t, wpage, `tally_worker_read_bytes_total{store="s3"}`); got != 0 {
		t.Errorf("worker bytes read from S3 (an upload): got %v, want 0", got)
	}
	if resp, err := http.Get("http://" + caddr + "/debug/pprof/"); err != nil || resp.StatusCode != 200 {
		t.Errorf("pprof: got %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get("http://" + waddr + "/debug/pprof/"); err != nil || resp.StatusCode != 404 {
		t.Errorf("pprof without --pprof: got %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}
}
