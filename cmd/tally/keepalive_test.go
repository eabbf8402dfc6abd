package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/client"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
)

// stoppedBound is how long a client may wait for a coordinator that stopped
// answering: the client's keepalive pings find it within about 20 s.
const stoppedBound = 45 * time.Second

// TestStoppedCoordinator stops the coordinator process (SIGSTOP) in the
// middle of a job: the Go client's call must fail within stoppedBound with
// Unavailable and a message that says the coordinator stopped answering,
// instead of waiting forever (finding 8). It takes about 20 s: grpc-go
// pings no more often than every 10 s, and the client then waits 10 s for
// the answer.
func TestStoppedCoordinator(t *testing.T) {
	skipShort(t)
	coord, addr, gossip := startCoordinator(t)
	w := startProc(t, "worker1", "worker", "--join", gossip, "--threads", "1", "--throttle", "1MB", "--metrics", "127.0.0.1:0")
	// Its logs come through a pipe of their own: they may lag its first line.
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; time.Sleep(50 * time.Millisecond) {
		if m = metricsLine.FindStringSubmatch(w.stderr.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("worker1: no metrics address on stderr after 10s:\n%s", w.stderr)
		}
	}
	workerMetrics := "http://" + m[1] + "/metrics"
	waitReady(t, addr, 1, 30*time.Second)
	path, _ := genText(t, t.TempDir(), "big.txt", 32<<20, 5, "")

	cl, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*stoppedBound)
	defer cancel()
	counting := make(chan struct{})
	var once sync.Once
	onProgress := func(p client.Progress) {
		if p.BytesCounted > 0 {
			once.Do(func() { close(counting) })
		}
	}
	docs, err := client.FileDocuments([]string{path}, nil, client.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	job := client.Job{Query: query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"the"}}}}, Documents: docs}
	ended := make(chan error, 1)
	go func() {
		_, err := cl.Run(ctx, job, onProgress)
		ended <- err
	}()
	select {
	case <-counting:
	case err := <-ended:
		t.Fatalf("the job ended before it counted anything: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("gave up after 30s waiting for the job to count")
	}

	coord.signal(t, syscall.SIGSTOP)
	stopped := time.Now()
	defer coord.signal(t, syscall.SIGCONT) // before the cleanups stop the servers
	select {
	case err := <-ended:
		took := time.Since(stopped)
		t.Logf("the client's call failed %v after SIGSTOP: %v", took.Round(100*time.Millisecond), err)
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "stopped answering") || !strings.Contains(err.Error(), addr) {
			t.Errorf("got %v, want Unavailable saying that the coordinator at %s stopped answering", err, addr)
		}
	case <-time.After(stoppedBound):
		t.Fatalf("the client still waits %v after the coordinator stopped, want an error", stoppedBound)
	}
	// The worker drops the stopped coordinator's session too: its Process
	// call ends (with an error, not OK) while the coordinator is stopped.
	deadline := stopped.Add(stoppedBound)
	for {
		n := sessionsEnded(t, workerMetrics)
		if n > 0 {
			t.Logf("the worker ended the session %v after SIGSTOP", time.Since(stopped).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker still serves the stopped coordinator's session %v after SIGSTOP", stoppedBound)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// sessionsEnded is how many WorkerService.Process calls ended with an
// error, by the worker's metrics at url.
func sessionsEnded(t testing.TB, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "grpc_server_handled_total{") && strings.Contains(line, `grpc_method="Process"`) && !strings.Contains(line, `grpc_code="OK"`) {
			fields := strings.Fields(line)
			if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
				n += int(v)
			}
		}
	}
	return n
}

// TestStoppedClient stops a client process (SIGSTOP) whose job is
// counting: the coordinator's keepalive pings find it, and the job ends
// (cancelled, its slot freed) within stoppedBound instead of running for a
// client that will never read the answer. The idle timeout is off, so that
// only keepalive can end it. It takes about 25 s: the coordinator pings a
// connection silent for 15 s and waits 10 s for the answer.
func TestStoppedClient(t *testing.T) {
	skipShort(t)
	_, addr, gossip := startCoordinator(t, "--idle-timeout", "0")
	mustStart(t, "worker1", "worker", "--join", gossip, "--threads", "1", "--throttle", "512KB")
	waitReady(t, addr, 1, 30*time.Second)
	path, _ := genText(t, t.TempDir(), "big.txt", 32<<20, 6, "")
	job := startJob(t, addr, "count", "-e", "the", path)

	cl, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*stoppedBound)
	defer cancel()
	var id string
	for deadline := time.Now().Add(30 * time.Second); id == ""; time.Sleep(100 * time.Millisecond) {
		resp, err := cl.API().ListJobs(ctx, &tallyv1.ListJobsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range resp.GetJobs() {
			if j.GetState() == tallyv1.JobState_JOB_STATE_RUNNING && j.GetProgress().GetChunksDone() > 0 {
				id = j.GetId()
			}
		}
		if id == "" && time.Now().After(deadline) {
			t.Fatalf("no job counting after 30s: %v", resp.GetJobs())
		}
	}

	job.signal(t, syscall.SIGSTOP) // the cleanup kills it
	stopped := time.Now()
	for {
		resp, err := cl.API().GetJob(ctx, &tallyv1.GetJobRequest{JobId: id})
		if err != nil {
			t.Fatal(err)
		}
		if j := resp.GetJob(); j.GetState() != tallyv1.JobState_JOB_STATE_RUNNING {
			t.Logf("the job ended %v after its client stopped: %v %s", time.Since(stopped).Round(100*time.Millisecond), j.GetState(), j.GetError())
			if j.GetState() != tallyv1.JobState_JOB_STATE_CANCELED {
				t.Errorf("got job state %v, want cancelled", j.GetState())
			}
			break
		}
		if time.Since(stopped) > stoppedBound {
			t.Fatalf("the job still runs %v after its client stopped, want it cancelled", stoppedBound)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
