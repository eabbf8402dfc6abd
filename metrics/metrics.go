// Package metrics holds tally's Prometheus metrics and serves them, with
// optional pprof, on an HTTP address. Services take a *Metrics that may be
// nil (no metrics), so that tests and embedded mode pay nothing.
package metrics

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"

	"google.golang.org/grpc"

	"github.com/tallyhq/tally/internal/buildinfo"
	"github.com/tallyhq/tally/security"
)

// Metrics are the counters of one process (a coordinator or a worker).
type Metrics struct {
	registry *registry
	grpc     *grpcMetrics

	// Coordinator.
	jobs          *family // by outcome: succeeded, failed, canceled
	jobsRunning   *series
	jobSeconds    *family // by outcome
	undelivered   *series // succeeded jobs whose result never reached the client
	chunksMerged  *series
	duplicates    *series // results dropped because their chunk was already merged
	retries       *family // by reason: error, lost, handback, backup
	bytesMerged   *series
	liveWorkers   *series
	bytesStreamed *series // uploads, streamed documents, ranges read for a worker; zero for a job read by reference

	// Worker.
	chunksCounted *family // by result: ok, error
	bytesCounted  *series
	inFlight      *series
	storeBytes    *family // by store: file, s3
	storeRetries  *family // by store
}

// Roles of a process, which decide the metrics it exports.
const (
	Coordinator = "coordinator"
	Worker      = "worker"
)

// New returns the metrics of a process of role (Coordinator or Worker),
// with a few of the Go runtime's and the process's figures.
func New(role string) *Metrics {
	m := &Metrics{registry: &registry{}, grpc: newGRPCMetrics()}
	m.registry.register(m.grpc.families()...)
	m.registry.register(buildInfo())
	m.registry.collect(runtimeFamilies)
	single := func(name, help string, k kind) (*family, *series) {
		f := newFamily(name, help, k)
		return f, f.with()
	}
	if role == Coordinator {
		m.jobs = newFamily("tally_jobs_total", "Jobs that ended, by outcome.", counterKind, "outcome")
		merged, chunksMerged := single("tally_chunks_merged_total", "Chunk results merged into their job (once per chunk).", counterKind)
		dups, duplicates := single("tally_chunk_duplicates_total", "Chunk results dropped because another copy was merged first.", counterKind)
		m.retries = newFamily("tally_chunk_redispatches_total", "Chunks dispatched again, by reason: error (worker answered an error), lost (link broke), handback (worker left), backup (straggler copy).", counterKind, "reason")
		bytes, bytesMerged := single("tally_bytes_merged_total", "Bytes of text counted and merged.", counterKind)
		live, liveWorkers := single("tally_live_workers", "Workers with a ready session.", gaugeKind)
		streamed, bytesStreamed := single("tally_coordinator_streamed_bytes_total", "Bytes of text the coordinator sent to workers itself (uploads, streamed documents, ranges read for a worker that cannot reach their store); zero for jobs read by reference.", counterKind)
		m.chunksMerged, m.duplicates, m.bytesMerged, m.liveWorkers, m.bytesStreamed = chunksMerged, duplicates, bytesMerged, liveWorkers, bytesStreamed
		running, jobsRunning := single("tally_jobs_running", "Jobs running now.", gaugeKind)
		m.jobSeconds = newFamily("tally_job_duration_seconds", "How long jobs ran, from submission to their end, by outcome.", histogramKind, "outcome")
		m.jobSeconds.buckets = []float64{.01, .1, .5, 1, 5, 30, 120, 600, 3600}
		lost, undelivered := single("tally_job_results_undelivered_total", "Jobs counted as succeeded in tally_jobs_total whose result never reached the client (too large for it, or the stream broke); their state is failed.", counterKind)
		m.jobsRunning, m.undelivered = jobsRunning, undelivered
		m.registry.register(m.jobs, running, m.jobSeconds, lost, merged, dups, m.retries, bytes, live, streamed)
		for _, o := range []string{"succeeded", "failed", "canceled"} {
			m.jobs.with(o)
			m.jobSeconds.with(o)
		}
		for _, r := range []string{"error", "lost", "handback", "backup"} {
			m.retries.with(r)
		}
		return m
	}
	m.chunksCounted = newFamily("tally_worker_chunks_total", "Chunks this worker counted, by result.", counterKind, "result")
	counted, bytesCounted := single("tally_worker_bytes_total", "Bytes of text this worker counted.", counterKind)
	flight, inFlight := single("tally_worker_chunks_in_flight", "Chunks this worker holds now.", gaugeKind)
	m.storeBytes = newFamily("tally_worker_read_bytes_total", "Bytes this worker read from stores itself, by store (file, s3).", counterKind, "store")
	m.storeRetries = newFamily("tally_worker_store_retries_total", "Reads of a store tried again after a transient error, by store.", counterKind, "store")
	m.bytesCounted, m.inFlight = bytesCounted, inFlight
	m.registry.register(m.chunksCounted, counted, flight, m.storeBytes, m.storeRetries)
	m.chunksCounted.with("ok")
	m.chunksCounted.with("error")
	for _, s := range []string{"file", "s3"} {
		m.storeBytes.with(s)
		m.storeRetries.with(s)
	}
	return m
}

// ServerOptions returns the gRPC server options that record RPC metrics; none for nil m.
func (m *Metrics) ServerOptions() []grpc.ServerOption {
	if m == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(m.grpc.unary), grpc.ChainStreamInterceptor(m.grpc.stream)}
}

// InitGRPC pre-creates the RPC series of s's services, so they show before the first call.
func (m *Metrics) InitGRPC(s *grpc.Server) {
	if m != nil {
		m.grpc.initialize(s)
	}
}

// ServeOptions say what the admin listener serves and to whom.
type ServeOptions struct {
	// Pprof also serves /debug/pprof/ (without cmdline, which would show
	// any secret given on the command line).
	Pprof bool
	// TLS, when set, serves HTTPS; a request must then come with a client
	// certificate from the cluster's CA or with the bearer Token.
	TLS *tls.Config
	// Token, when set, is a bearer token that lets a request in; a
	// browser may send it as the password of HTTP basic authentication.
	Token string
	// Pages, when set, serves every other path (the coordinator's status
	// page), behind the same credentials as /metrics.
	Pages http.Handler
}

// Serve serves /metrics, /debug/pprof/ with opts.Pprof, and every other
// path with opts.Pages, on addr until ctx ends. It returns the address it
// listens on, once listening.
func (m *Metrics) Serve(ctx context.Context, addr string, opts ServeOptions) (string, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.registry)
	if opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if opts.Pages != nil {
		mux.Handle("/", opts.Pages)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	if opts.TLS != nil {
		lis = tls.NewListener(lis, opts.TLS)
	}
	srv := &http.Server{Handler: guard(mux, opts), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener closed under us: nothing left to serve
		}
	}()
	context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	return lis.Addr().String(), nil
}

// The helpers below do nothing on a nil *Metrics.

// JobStarted counts a running job.
func (m *Metrics) JobStarted() {
	if m != nil {
		m.jobsRunning.add(1)
	}
}

// JobEnded counts a job's outcome and how long it ran; it no longer runs.
func (m *Metrics) JobEnded(outcome string, d time.Duration) {
	if m != nil {
		m.jobs.with(outcome).add(1)
		m.jobSeconds.observe(m.jobSeconds.with(outcome), d.Seconds())
		m.jobsRunning.add(-1)
	}
}

// ResultUndelivered counts a job whose result was computed (and counted as
// succeeded by JobEnded) but never reached its client.
func (m *Metrics) ResultUndelivered() {
	if m != nil {
		m.undelivered.add(1)
	}
}

// buildInfo is the constant 1 labelled with this binary's version, commit
// and Go toolchain, as Prometheus' own build_info gauges are.
func buildInfo() *family {
	f := newFamily("tally_build_info", "A constant 1 labelled with the binary's module version, VCS revision and Go version.", gaugeKind, "version", "revision", "goversion")
	info := buildinfo.Read()
	f.with(cmp.Or(info.Version, "unknown"), cmp.Or(info.Revision, "unknown"), runtime.Version()).set(1)
	return f
}

// Merged counts a merged chunk of n bytes.
func (m *Metrics) Merged(n int) {
	if m != nil {
		m.chunksMerged.add(1)
		m.bytesMerged.add(float64(n))
	}
}

// Duplicate counts a dropped duplicate result.
func (m *Metrics) Duplicate() {
	if m != nil {
		m.duplicates.add(1)
	}
}

// Redispatched counts a chunk sent again for reason.
func (m *Metrics) Redispatched(reason string) {
	if m != nil {
		m.retries.with(reason).add(1)
	}
}

// SetLiveWorkers records the number of ready workers.
func (m *Metrics) SetLiveWorkers(n int) {
	if m != nil {
		m.liveWorkers.set(float64(n))
	}
}

// Counted records a chunk of n bytes counted by a worker.
func (m *Metrics) Counted(n int, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.chunksCounted.with("error").add(1)
		return
	}
	m.chunksCounted.with("ok").add(1)
	m.bytesCounted.add(float64(n))
}

// AddInFlight moves the worker's in-flight gauge by d.
func (m *Metrics) AddInFlight(d int) {
	if m != nil {
		m.inFlight.add(float64(d))
	}
}

// Streamed counts n bytes the coordinator sent to a worker itself.
func (m *Metrics) Streamed(n int) {
	if m != nil {
		m.bytesStreamed.add(float64(n))
	}
}

// BytesStreamed is how many bytes the coordinator has sent to workers
// itself: 0 while every job is read by reference.
func (m *Metrics) BytesStreamed() float64 {
	if m == nil {
		return 0
	}
	return m.bytesStreamed.value()
}

// StoreRead counts n bytes a worker read from a store.
func (m *Metrics) StoreRead(store string, n int) {
	if m != nil && n > 0 {
		m.storeBytes.with(store).add(float64(n))
	}
}

// StoreRetry counts a read of a store tried again.
func (m *Metrics) StoreRetry(store string) {
	if m != nil {
		m.storeRetries.with(store).add(1)
	}
}

// guard lets a request through when the listener needs no credentials, or
// when it brings a verified certificate from the cluster's CA or the
// bearer token. Reading is open to any member of the cluster; a request
// that changes state (any method but GET and HEAD: cancelling a job) takes
// what the gRPC API takes, a client certificate or the token, so a
// worker's certificate cannot cancel jobs. A browser cannot send a bearer
// token when it opens a page, so the token is also taken as the password of
// HTTP basic authentication, which browsers ask for (any user name): the
// same secret, in the header browsers send.
func guard(next http.Handler, opts ServeOptions) http.Handler {
	if opts.TLS == nil && opts.Token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cert, token := security.VerifiedLeaf(r.TLS), hasToken(r, opts.Token)
		if cert == nil && !token {
			w.Header().Add("WWW-Authenticate", "Bearer")
			if opts.Token != "" {
				w.Header().Add("WWW-Authenticate", `Basic realm="tally (any user name; the token as password)", charset="UTF-8"`)
			}
			http.Error(w, "unauthorized: present a client certificate from the cluster's CA or the bearer token", http.StatusUnauthorized)
			return
		}
		if changes := r.Method != http.MethodGet && r.Method != http.MethodHead; changes && !token && !security.HasRole(cert, security.RoleClient) {
			http.Error(w, "forbidden: changing state takes a client certificate (spiffe://tally/client) or the bearer token", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasToken reports whether r carries token as a bearer token or as the
// password of basic authentication.
func hasToken(r *http.Request, token string) bool {
	if security.BearerMatches(r.Header.Get("Authorization"), token) {
		return true
	}
	_, password, ok := r.BasicAuth()
	return ok && security.BearerMatches("Bearer "+password, token)
}
