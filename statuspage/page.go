// Package statuspage serves the coordinator's live status page: its
// workers, its jobs and each job's progress, for a person to look at
// rather than a script to query. The pages are rendered on the server with
// html/template (every string from users is escaped there), and a little
// plain JavaScript, embedded like the rest, polls their JSON every second
// to keep them current. It is served on the coordinator's admin listener,
// behind the same credentials as /metrics, never on the gRPC port.
package statuspage

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/internal/buildinfo"
)

// Source is the coordinator state the pages show; *coordinator.Coordinator
// is one. Its methods are safe for concurrent use and return at once.
type Source interface {
	// Overview is the coordinator and its workers now.
	Overview() coordinator.Overview
	// Jobs are the running and remembered jobs, newest first.
	Jobs() []*coordinator.Job
	// Job is the job with id, or nil.
	Job(id string) *coordinator.Job
}

// Config configures a Page.
type Config struct {
	// SampleEvery is how often job progress and worker counters are
	// sampled, for rates and the throughput chart.
	SampleEvery time.Duration
	// KeepLeft is how long a worker that left the cluster (or was declared
	// dead) stays listed as "left".
	KeepLeft time.Duration
}

// DefaultConfig samples every second and lists a departed worker for 15 minutes.
func DefaultConfig() Config {
	return Config{SampleEvery: time.Second, KeepLeft: 15 * time.Minute}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.SampleEvery <= 0 {
		return errors.New("status page: SampleEvery must be positive")
	}
	if c.KeepLeft < 0 {
		return errors.New("status page: KeepLeft must not be negative")
	}
	return nil
}

// Page is the status page of one coordinator: an http.Handler for the
// paths under /status/ (and / , which leads there), and the sampler
// goroutine behind its rates, which Close stops.
type Page struct {
	src     Source
	cfg     Config
	build   buildinfo.Info
	hist    *history
	handler http.Handler

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// New returns the status page of src and starts sampling it.
func New(src Source, cfg Config) (*Page, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Page{src: src, cfg: cfg, build: buildinfo.Read(), hist: newHistory(cfg.KeepLeft), done: make(chan struct{})}
	p.handler = p.routes()
	ctx, stop := context.WithCancel(context.Background())
	p.stop = stop
	p.sample(time.Now())
	go func() {
		defer close(p.done)
		p.run(ctx)
	}()
	return p, nil
}

// ServeHTTP serves the pages, their JSON and their assets.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// Close stops the sampler and waits for it. It is safe to call more than once.
func (p *Page) Close() {
	p.closeOnce.Do(func() {
		p.stop()
		<-p.done
	})
}

// run samples the source every cfg.SampleEvery until ctx ends.
func (p *Page) run(ctx context.Context) {
	tick := time.NewTicker(p.cfg.SampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			p.sample(now)
		}
	}
}

// sample records the jobs' progress and the workers' counters at now.
func (p *Page) sample(now time.Time) {
	jobs := p.src.Jobs()
	snaps := make([]coordinator.Snapshot, len(jobs))
	for i, h := range jobs {
		snaps[i] = h.Snapshot(false)
	}
	p.hist.record(now, snaps, p.src.Overview().Workers)
}
