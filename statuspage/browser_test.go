package statuspage_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test loads the pages in headless Chromium while a job runs
// and checks what the JavaScript made of them. Environment:
//
//	TALLY_BROWSER=require   fail, instead of skipping, when no Chromium is found (CI)
//	TALLY_STATUS_SCREENSHOTS=DIR   write the screenshots there as status-test-*.png (docs/ keeps the last run's)

// chromium returns the path of a Chromium (or Chrome) binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser opens, behind the token given as a basic-auth password, the
// job page of a running job on three workers, reads its progress at two
// moments of the same page load (so only the page's own polling can have
// changed it), then the cluster page (a row per worker), the job page on
// a phone-sized screen (no sideways scroll), and presses Cancel job.
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		if os.Getenv("TALLY_BROWSER") == "require" {
			t.Fatal("no chromium in PATH and TALLY_BROWSER=require (apt-get install chromium)")
		}
		t.Skip("no chromium in PATH (apt-get install chromium): the browser test needs a headless Chromium")
	}
	tc := MustCluster(t, 3, 512<<10, "s3cret")
	text := generatedText(16<<20, 3) // 32 MB at 1.5 MB/s: about 20 s, until cancelled
	h := tc.submit(t, topQuery(20), 128<<10, evilName, text, "second.txt", text)
	waitFor(t, 20*time.Second, "bytes counted", func() bool { return h.Snapshot(false).Progress.BytesCounted > 0 })

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.WindowSize(1200, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if dir := os.Getenv("TALLY_STATUS_SCREENSHOTS"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A person gives the token as the password the browser asks for, which
	// it then sends with every request of the page, its polls included; a
	// user name and password in the address do the same without the prompt.
	login, err := url.Parse(tc.base)
	if err != nil {
		t.Fatal(err)
	}
	login.User = url.UserPassword("anyone", tc.token)

	polls := "Number(document.body.dataset.polls || 0)"
	progress := "document.querySelector('.bar progress').value"
	do("open the job page", chromedp.Navigate(login.String()+"/status/jobs/"+h.ID()))
	waitFor(t, 20*time.Second, "the page's first poll", func() bool { return eval(polls) >= 1 })
	polls1, first := eval(polls), eval(progress)
	shot("status-test-job-1.png")
	do("wait", chromedp.Sleep(2500*time.Millisecond))
	polls2, second := eval(polls), eval(progress)
	shot("status-test-job-2.png")
	if polls2 < polls1+1 || !(second > first) {
		t.Errorf("job page: got progress %.4f then %.4f after %v more polls, want it to grow as the page polls", first, second, polls2-polls1)
	}
	if eval("document.scripts.length") != 1 {
		t.Errorf("job page: got %v scripts, want 1 (a document name ran as a script?)", eval("document.scripts.length"))
	}
	name, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.querySelector('tbody[data-list=document_progress] td.name').textContent"))
	if err != nil || name != evilName {
		t.Errorf("first document's name in the DOM: got %q (%v), want %q as text", name, err, evilName)
	}

	do("open the cluster page", chromedp.Navigate(tc.base+"/status/"))
	waitFor(t, 20*time.Second, "the page's first poll", func() bool { return eval(polls) >= 1 })
	if n := eval("document.querySelectorAll('tbody[data-list=workers] tr').length"); n != 3 {
		t.Errorf("cluster page: got %v worker rows, want 3", n)
	}
	if n := eval("document.querySelectorAll('tbody[data-list=workers] .st-alive').length"); n != 3 {
		t.Errorf("cluster page: got %v alive workers, want 3", n)
	}
	shot("status-test-cluster.png")

	do("a phone-sized screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(tc.base+"/status/jobs/"+h.ID()))
	waitFor(t, 20*time.Second, "the page's first poll", func() bool { return eval(polls) >= 1 })
	if w, inner := eval("document.documentElement.scrollWidth"), eval("window.innerWidth"); w > inner {
		t.Errorf("narrow screen: page is %v px wide in a %v px window, want no sideways scroll", w, inner)
	}
	shot("status-test-narrow.png")
	for _, path := range []string{"/status/", "/status/jobs"} {
		do("a phone-sized "+path, chromedp.Navigate(login.String()+path))
		waitFor(t, 20*time.Second, "the page's first poll", func() bool { return eval(polls) >= 1 })
		if w, inner := eval("document.documentElement.scrollWidth"), eval("window.innerWidth"); w > inner {
			t.Errorf("narrow screen, %s: page is %v px wide in a %v px window, want no sideways scroll", path, w, inner)
		}
	}
	do("back to the job", chromedp.Navigate(login.String()+"/status/jobs/"+h.ID()))
	waitFor(t, 20*time.Second, "the page's first poll", func() bool { return eval(polls) >= 1 })

	// The cancel button: a same-site POST with the browser's credentials.
	do("press Cancel job", chromedp.Click("form button"))
	select {
	case <-h.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("job still running 15 s after its Cancel button was pressed")
	}
	if s := h.Snapshot(false); s.State.String() != "canceled" || !strings.Contains(s.Err.Error(), "status page") {
		t.Errorf("job after Cancel: got %s (%v), want canceled on the status page", s.State, s.Err)
	}
	waitFor(t, 20*time.Second, "the job page to say canceled", func() bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.querySelector('h1 .state').textContent"))
		return err == nil && v == "canceled"
	})
}
