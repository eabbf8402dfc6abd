package statuspage_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/query"
)

// jobDetail is the part of /status/api/jobs/{id} the tests read.
type jobDetail struct {
	ID               string      `json:"id"`
	State            string      `json:"state"`
	Error            string      `json:"error"`
	Documents        json.Number `json:"documents"`
	BytesTotal       json.Number `json:"bytes_total"`
	BytesCounted     json.Number `json:"bytes_counted"`
	Progress         *float64    `json:"progress"`
	Workers          []string    `json:"workers"`
	DocumentProgress []struct {
		Name string      `json:"name"`
		Size json.Number `json:"size"`
	} `json:"document_progress"`
	Throughput []struct {
		AtSeconds      float64 `json:"at_seconds"`
		BytesPerSecond float64 `json:"bytes_per_second"`
	} `json:"throughput"`
	Result *struct {
		Total struct {
			Bytes  json.Number   `json:"bytes"`
			Counts []json.Number `json:"counts"`
		} `json:"total"`
		Top []struct {
			Token string      `json:"token"`
			Count json.Number `json:"count"`
		} `json:"top"`
	} `json:"result"`
}

// TestPagesWithARunningJob renders every page, and their JSON, from a real
// coordinator with two real workers and a job running on them, behind a
// token; then cancels the job with the page's POST.
func TestPagesWithARunningJob(t *testing.T) {
	tc := MustCluster(t, 2, 1<<20, "s3cret")
	text := generatedText(8<<20, 1) // 16 MB at 2 MB/s: running until cancelled
	h := tc.submit(t, countQuery(query.Substring, "</td><script>x()</script>", "the"), 64<<10, evilName, text, "plain.txt", text)
	id := h.ID()
	waitFor(t, 20*time.Second, "bytes counted", func() bool { return h.Snapshot(false).Progress.BytesCounted > 0 })

	t.Run("refused without the token", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"GET", "/status/"}, {"GET", "/status/jobs"}, {"GET", "/status/jobs/" + id}, {"GET", "/status/api/cluster"},
			{"GET", "/status/api/jobs/" + id}, {"GET", "/status/assets/live.js"}, {"POST", "/status/jobs/" + id + "/cancel"},
			{"POST", "/status/api/jobs/" + id + "/cancel"},
		} {
			code, _, resp := tc.do(t, r.method, r.path, false, nil)
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s without the token: got %d, want 401", r.method, r.path, code)
			}
			if got := resp.Header.Values("WWW-Authenticate"); len(got) != 2 {
				t.Errorf("%s %s: got challenges %q, want Bearer and Basic (which makes a browser ask)", r.method, r.path, got)
			}
			code, _, _ = tc.do(t, r.method, r.path, false, map[string]string{"Authorization": "Bearer guess"})
			if code != http.StatusUnauthorized {
				t.Errorf("%s %s with a wrong token: got %d, want 401", r.method, r.path, code)
			}
		}
		if s := h.Snapshot(false).State; s != coordinator.Running {
			t.Fatalf("job after refused cancels: got %s, want running", s)
		}
	})

	t.Run("cluster page", func(t *testing.T) {
		body := tc.get(t, "/status/")
		for _, w := range tc.workers {
			row := fmt.Sprintf(`<tr data-id="%s">`, html.EscapeString(w.Name()))
			if !strings.Contains(body, row) || !strings.Contains(body, w.Addr()) {
				t.Errorf("cluster page: no row %s with address %s", row, w.Addr())
			}
		}
		if got := strings.Count(body, `class="state st-alive"`); got != 2 {
			t.Errorf("cluster page: got %d alive workers, want 2", got)
		}
		for _, want := range []string{tc.c.Addr(), tc.c.GossipAddr(), "loopback only (TLS off, gossip key off)", `<script src="/status/assets/live.js">`} {
			if !strings.Contains(body, want) {
				t.Errorf("cluster page: no %q", want)
			}
		}
		var cl struct {
			Workers []struct {
				Name, State string
				Cores       json.Number `json:"cores"`
			} `json:"workers"`
			JobsRunning json.Number `json:"jobs_running"`
		}
		tc.getJSON(t, "/status/api/cluster", &cl)
		if len(cl.Workers) != 2 || cl.Workers[0].State != "alive" || cl.Workers[0].Cores != "1" || cl.JobsRunning != "1" {
			t.Errorf("cluster JSON: got %+v, want 2 alive workers of 1 core and 1 job running", cl)
		}
	})

	t.Run("jobs page", func(t *testing.T) {
		body := tc.get(t, "/status/jobs")
		if !strings.Contains(body, `href="/status/jobs/`+id+`"`) || !strings.Contains(body, `st-running`) {
			t.Errorf("jobs page: no running row linking to job %s", id)
		}
		assertEscaped(t, body, "</td><script>x()</script>")
		assertEscaped(t, body, evilName) // its inputs
	})

	t.Run("job page escapes names and targets", func(t *testing.T) {
		body := tc.get(t, "/status/jobs/"+id)
		assertEscaped(t, body, evilName)
		assertEscaped(t, body, "</td><script>x()</script>")
		if !strings.Contains(body, `<form method="post" action="/status/jobs/`+id+`/cancel"`) {
			t.Errorf("job page: no cancel form")
		}
		if got := strings.Count(body, "<script"); got != 1 {
			t.Errorf("job page: got %d <script elements, want 1 (live.js)", got)
		}
	})

	t.Run("job JSON", func(t *testing.T) {
		var d jobDetail
		tc.getJSON(t, "/status/api/jobs/"+id, &d)
		// Documents are announced as the job reads them: the second may not be yet.
		n := len(d.DocumentProgress)
		if d.ID != id || d.State != "running" || (n != 1 && n != 2) || d.Documents != json.Number(fmt.Sprint(n)) || d.BytesTotal != json.Number(fmt.Sprint(n*len(text))) {
			t.Errorf("job JSON: got id %s state %s documents %s (%d listed) bytes_total %s, want %s running, 1 or 2 of %d bytes each",
				d.ID, d.State, d.Documents, n, d.BytesTotal, id, len(text))
		}
		if n == 0 || d.DocumentProgress[0].Name != evilName || d.DocumentProgress[0].Size != json.Number(fmt.Sprint(len(text))) {
			t.Errorf("job JSON documents: got %+v, want %q first, of %d bytes", d.DocumentProgress, evilName, len(text))
		}
		if d.Progress == nil || *d.Progress <= 0 || *d.Progress >= 1 {
			t.Errorf("job JSON progress: got %v, want between 0 and 1", d.Progress)
		}
	})

	t.Run("no state change by GET or from another site", func(t *testing.T) {
		if code, _, _ := tc.do(t, "GET", "/status/jobs/"+id+"/cancel", true, nil); code != http.StatusMethodNotAllowed {
			t.Errorf("GET cancel: got %d, want 405", code)
		}
		code, _, _ := tc.do(t, "POST", "/status/jobs/"+id+"/cancel", true, map[string]string{"Sec-Fetch-Site": "cross-site"})
		if code != http.StatusForbidden {
			t.Errorf("cross-site POST: got %d, want 403", code)
		}
		code, _, _ = tc.do(t, "POST", "/status/api/jobs/"+id+"/cancel", true, map[string]string{"Origin": "https://evil.example"})
		if code != http.StatusForbidden {
			t.Errorf("POST from another origin: got %d, want 403", code)
		}
		if s := h.Snapshot(false).State; s != coordinator.Running {
			t.Fatalf("job: got %s, want still running", s)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		code, _, resp := tc.do(t, "POST", "/status/jobs/"+id+"/cancel", true, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if code != http.StatusSeeOther || resp.Header.Get("Location") != "/status/jobs/"+id {
			t.Fatalf("POST cancel: got %d to %q, want 303 to the job's page", code, resp.Header.Get("Location"))
		}
		select {
		case <-h.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("job still running 10 s after its cancel")
		}
		if _, err := h.Wait(); err == nil || !strings.Contains(err.Error(), "cancelled") {
			t.Errorf("job after cancel: got %v, want cancelled", err)
		}
		var d jobDetail
		tc.getJSON(t, "/status/api/jobs/"+id, &d)
		if d.State != "canceled" || !strings.Contains(d.Error, "cancelled on the status page") {
			t.Errorf("job JSON after cancel: got state %q error %q, want canceled on the status page", d.State, d.Error)
		}
		if body := tc.get(t, "/status/jobs/"+id); !strings.Contains(body, `data-when="state=running" hidden`) {
			t.Errorf("job page after cancel: the cancel form is not hidden")
		}
	})

	if code, _, _ := tc.do(t, "GET", "/status/jobs/nosuchjob", true, nil); code != http.StatusNotFound {
		t.Errorf("unknown job: got %d, want 404", code)
	}
}

// assertEscaped fails unless s appears in body only HTML-escaped.
func assertEscaped(t *testing.T, body, s string) {
	t.Helper()
	if strings.Contains(body, s) {
		t.Errorf("page holds %q unescaped", s)
	}
	if !strings.Contains(body, html.EscapeString(s)) && !strings.Contains(body, strings.ReplaceAll(html.EscapeString(s), "&#34;", "&quot;")) {
		t.Errorf("page does not show %q (escaped: %q)", s, html.EscapeString(s))
	}
}

// TestFinishedJobAndDepartedWorker checks a finished job's page (its
// result, the same as the coordinator's, and its chart) and that a worker
// that leaves is listed as left.
func TestFinishedJobAndDepartedWorker(t *testing.T) {
	const evilWorker = `w"><img src=x onerror=alert(1)>`
	tc := MustCluster(t, 2, 4<<20, "", "plain-worker", evilWorker)
	text := generatedText(2<<20, 2)
	h := tc.submit(t, countQuery(query.Token, "the", "Alice"), 64<<10, "a.txt", text)
	res, err := h.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var d jobDetail
	tc.getJSON(t, "/status/api/jobs/"+h.ID(), &d)
	if d.State != "succeeded" || d.Result == nil || d.Progress == nil || *d.Progress != 1 {
		t.Fatalf("finished job JSON: got state %s result %v progress %v, want succeeded with a result at 1", d.State, d.Result, d.Progress)
	}
	want := fmt.Sprint(res.Total.Counts)
	if got := fmt.Sprint(d.Result.Total.Counts); got != want || d.Result.Total.Bytes != json.Number(fmt.Sprint(len(text))) {
		t.Errorf("result total: got counts %s bytes %s, want %s and %d", got, d.Result.Total.Bytes, want, len(text))
	}
	if len(d.Throughput) == 0 {
		t.Errorf("throughput: got no samples, want at least the job's whole life")
	}
	body := tc.get(t, "/status/jobs/"+h.ID())
	for _, n := range res.Total.Counts {
		if !strings.Contains(body, fmt.Sprintf(`<td class="num">%d</td>`, n)) {
			t.Errorf("job page: no result cell %d", n)
		}
	}
	if !strings.Contains(body, `<polyline class="line" points="0.0,`) {
		t.Errorf("job page: no throughput line drawn")
	}

	assertEscaped(t, tc.get(t, "/status/"), evilWorker)
	if body := tc.get(t, "/status/jobs/"+h.ID()); strings.Contains(body, "<img") {
		t.Errorf("job page holds a worker's name unescaped")
	}
	gone := tc.workers[1]
	gone.Close() // leaves the cluster
	var cl struct {
		Workers []struct {
			Name   string  `json:"name"`
			State  string  `json:"state"`
			LeftAt *string `json:"left_at"`
		} `json:"workers"`
	}
	waitFor(t, 20*time.Second, "the departed worker listed as left", func() bool {
		tc.getJSON(t, "/status/api/cluster", &cl)
		for _, w := range cl.Workers {
			if w.Name == gone.Name() {
				return w.State == "left" && w.LeftAt != nil
			}
		}
		return false
	})
	if len(cl.Workers) != 2 {
		t.Errorf("workers: got %d, want 2 (one alive, one left)", len(cl.Workers))
	}
	assertEscaped(t, tc.get(t, "/status/"), evilWorker)
}
