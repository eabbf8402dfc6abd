package statuspage

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/tallyhq/tally/coordinator"
)

//go:embed assets
var assets embed.FS

// templates are the pages, each the layout with its own content, parsed
// at the first request: the CLI, which never serves them, would otherwise
// parse them at every start (0.6 ms).
var templates = sync.OnceValue(func() map[string]*template.Template {
	return map[string]*template.Template{
		"cluster": parsePage("cluster.html"),
		"jobs":    parsePage("jobs.html"),
		"job":     parsePage("job.html"),
	}
})

func parsePage(name string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/rows.html", "assets/"+name))
}

// pageData is what a page's template renders.
type pageData struct {
	Title   string
	Page    string // cluster, jobs or job: which parts live.js updates
	API     string // the JSON it polls
	Cluster clusterJSON
	Jobs    jobsJSON
	Job     *jobDetailJSON
	Chart   chartData
	// Blank rows are the <template> rows that live.js fills for new items.
	BlankWorker   workerJSON
	BlankJob      jobJSON
	BlankDocument documentJSON
	BlankRedisp   redispatchJSON
}

// cancelTimeout bounds how long a cancel waits for its job to end.
const cancelTimeout = 5 * time.Second

// routes serves the pages under /status/, their JSON under /status/api/
// and their assets, and leads / to /status/. State changes only by POST,
// which a page of another site cannot make (cross-origin protection: the
// browser's Sec-Fetch-Site or Origin must name this site).
func (p *Page) routes() http.Handler {
	mux := http.NewServeMux()
	to := func(path string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, path, http.StatusFound) }
	}
	mux.HandleFunc("GET /{$}", to("/status/"))
	mux.HandleFunc("GET /status", to("/status/"))
	mux.HandleFunc("GET /status/{$}", p.clusterPage)
	mux.HandleFunc("GET /status/jobs", p.jobsPage)
	mux.HandleFunc("GET /status/jobs/{id}", p.jobPage)
	mux.HandleFunc("POST /status/jobs/{id}/cancel", p.cancelForm)
	mux.HandleFunc("GET /status/api/cluster", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, p.cluster(time.Now())) })
	mux.HandleFunc("GET /status/api/jobs", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, p.jobs(time.Now())) })
	mux.HandleFunc("GET /status/api/jobs/{id}", p.jobJSON)
	mux.HandleFunc("POST /status/api/jobs/{id}/cancel", p.cancelJSON)
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /status/assets/", http.StripPrefix("/status/assets/", http.FileServerFS(static)))
	return secureHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// secureHeaders forbid what the pages never do: inline or foreign scripts
// and styles, framing, sniffing a JSON reply as HTML, caching live state.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (p *Page) clusterPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, "cluster", pageData{Title: "Cluster", API: "/status/api/cluster", Cluster: p.cluster(time.Now())})
}

func (p *Page) jobsPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, "jobs", pageData{Title: "Jobs", API: "/status/api/jobs", Jobs: p.jobs(time.Now())})
}

func (p *Page) jobPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d := p.detail(id, time.Now())
	if d == nil {
		notFound(w, id)
		return
	}
	p.render(w, "job", pageData{Title: "Job " + id, API: "/status/api/jobs/" + url.PathEscape(id), Job: d, Chart: chartPoints(d.Throughput)})
}

func (p *Page) jobJSON(w http.ResponseWriter, r *http.Request) {
	d := p.detail(r.PathValue("id"), time.Now())
	if d == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	writeJSON(w, d)
}

// cancelForm cancels a job from its page's button and shows the page again.
func (p *Page) cancelForm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if p.cancel(id) == nil {
		notFound(w, id)
		return
	}
	http.Redirect(w, r, "/status/jobs/"+url.PathEscape(id), http.StatusSeeOther)
}

// cancelJSON cancels a job and answers with its summary.
func (p *Page) cancelJSON(w http.ResponseWriter, r *http.Request) {
	h := p.cancel(r.PathValue("id"))
	if h == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	writeJSON(w, p.summary(h.Snapshot(false), h.Detail(1), time.Now()))
}

// cancel cancels the job with id and waits a little for it to end; nil if
// there is no such job. A job that has ended stays as it was.
func (p *Page) cancel(id string) *coordinator.Job {
	h := p.src.Job(id)
	if h == nil {
		return nil
	}
	h.CancelBecause("cancelled on the status page")
	select {
	case <-h.Done():
	case <-time.After(cancelTimeout):
	}
	return h
}

// render writes a page, or a 500 if its template fails (a bug).
func (p *Page) render(w http.ResponseWriter, name string, d pageData) {
	d.Page = name
	var b bytes.Buffer
	if err := templates()[name].ExecuteTemplate(&b, "layout", d); err != nil {
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) // escapes <, > and &: safe even if read as HTML
}

func notFound(w http.ResponseWriter, id string) {
	http.Error(w, "no job "+quote(text(id))+": the coordinator remembers only its most recent finished jobs", http.StatusNotFound)
}
