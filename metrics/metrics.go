// Package metrics holds tally's Prometheus metrics and serves them, with
// optional pprof, on an HTTP address. Services take a *Metrics that may be
// nil (no metrics), so that tests and embedded mode pay nothing.
package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"tally/security"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
)

// Metrics are the counters of one process (a coordinator or a worker).
type Metrics struct {
	Registry *prometheus.Registry
	GRPC     *grpcprom.ServerMetrics

	// Coordinator.
	Jobs         *prometheus.CounterVec // by outcome: succeeded, failed, canceled
	ChunksMerged prometheus.Counter
	Duplicates   prometheus.Counter     // results dropped because their chunk was already merged
	Retries      *prometheus.CounterVec // by reason: error, lost, handback, backup
	BytesMerged  prometheus.Counter
	LiveWorkers  prometheus.Gauge
	// BytesStreamed is what the coordinator itself carried to workers:
	// uploads, streamed documents, and ranges it read for a worker that
	// cannot reach their store. Zero for a job read by reference.
	BytesStreamed prometheus.Counter

	// Worker.
	ChunksCounted *prometheus.CounterVec // by result: ok, error
	BytesCounted  prometheus.Counter
	InFlight      prometheus.Gauge
	StoreBytes    *prometheus.CounterVec // by store: file, s3
	StoreRetries  *prometheus.CounterVec // by store
}

// Roles of a process, which decide the metrics it exports.
const (
	Coordinator = "coordinator"
	Worker      = "worker"
)

// New returns the metrics of a process of role (Coordinator or Worker),
// registered in a fresh registry with the Go and process collectors.
func New(role string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		GRPC: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.001, .01, .1, .5, 1, 5, 30, 120}))),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_jobs_total", Help: "Jobs that ended, by outcome.",
		}, []string{"outcome"}),
		ChunksMerged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tally_chunks_merged_total", Help: "Chunk results merged into their job (once per chunk).",
		}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tally_chunk_duplicates_total", Help: "Chunk results dropped because another copy was merged first.",
		}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_chunk_redispatches_total", Help: "Chunks dispatched again, by reason: error (worker answered an error), lost (link broke), handback (worker left), backup (straggler copy).",
		}, []string{"reason"}),
		BytesMerged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tally_bytes_merged_total", Help: "Bytes of text counted and merged.",
		}),
		LiveWorkers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tally_live_workers", Help: "Workers with a ready session.",
		}),
		BytesStreamed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tally_coordinator_streamed_bytes_total", Help: "Bytes of text the coordinator sent to workers itself (uploads, streamed documents, ranges read for a worker that cannot reach their store); zero for jobs read by reference.",
		}),
		ChunksCounted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_worker_chunks_total", Help: "Chunks this worker counted, by result.",
		}, []string{"result"}),
		BytesCounted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tally_worker_bytes_total", Help: "Bytes of text this worker counted.",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tally_worker_chunks_in_flight", Help: "Chunks this worker holds now.",
		}),
		StoreBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_worker_read_bytes_total", Help: "Bytes this worker read from stores itself, by store (file, s3).",
		}, []string{"store"}),
		StoreRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_worker_store_retries_total", Help: "Reads of a store tried again after a transient error, by store.",
		}, []string{"store"}),
	}
	reg.MustRegister(m.GRPC)
	if role == Coordinator {
		reg.MustRegister(m.Jobs, m.ChunksMerged, m.Duplicates, m.Retries, m.BytesMerged, m.LiveWorkers, m.BytesStreamed)
		for _, o := range []string{"succeeded", "failed", "canceled"} {
			m.Jobs.WithLabelValues(o)
		}
		for _, r := range []string{"error", "lost", "handback", "backup"} {
			m.Retries.WithLabelValues(r)
		}
	} else {
		reg.MustRegister(m.ChunksCounted, m.BytesCounted, m.InFlight, m.StoreBytes, m.StoreRetries)
		m.ChunksCounted.WithLabelValues("ok")
		m.ChunksCounted.WithLabelValues("error")
		for _, s := range []string{"file", "s3"} {
			m.StoreBytes.WithLabelValues(s)
			m.StoreRetries.WithLabelValues(s)
		}
	}
	return m
}

// ServerOptions returns the gRPC server options that record RPC metrics; none for nil m.
func (m *Metrics) ServerOptions() []grpc.ServerOption {
	if m == nil {
		return nil
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(m.GRPC.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(m.GRPC.StreamServerInterceptor()),
	}
}

// InitGRPC pre-creates the RPC series of s's services, so they show before the first call.
func (m *Metrics) InitGRPC(s *grpc.Server) {
	if m != nil {
		m.GRPC.InitializeMetrics(s)
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
	// Token, when set, is a bearer token that lets a request in.
	Token string
}

// Serve serves /metrics (and /debug/pprof/ with opts.Pprof) on addr until
// ctx ends. It returns the address it listens on, once listening.
func (m *Metrics) Serve(ctx context.Context, addr string, opts ServeOptions) (string, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	if opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
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

// JobEnded counts a job's outcome.
func (m *Metrics) JobEnded(outcome string) {
	if m != nil {
		m.Jobs.WithLabelValues(outcome).Inc()
	}
}

// Merged counts a merged chunk of n bytes.
func (m *Metrics) Merged(n int) {
	if m != nil {
		m.ChunksMerged.Inc()
		m.BytesMerged.Add(float64(n))
	}
}

// Duplicate counts a dropped duplicate result.
func (m *Metrics) Duplicate() {
	if m != nil {
		m.Duplicates.Inc()
	}
}

// Redispatched counts a chunk sent again for reason.
func (m *Metrics) Redispatched(reason string) {
	if m != nil {
		m.Retries.WithLabelValues(reason).Inc()
	}
}

// SetLiveWorkers records the number of ready workers.
func (m *Metrics) SetLiveWorkers(n int) {
	if m != nil {
		m.LiveWorkers.Set(float64(n))
	}
}

// Counted records a chunk of n bytes counted by a worker.
func (m *Metrics) Counted(n int, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.ChunksCounted.WithLabelValues("error").Inc()
		return
	}
	m.ChunksCounted.WithLabelValues("ok").Inc()
	m.BytesCounted.Add(float64(n))
}

// AddInFlight moves the worker's in-flight gauge by d.
func (m *Metrics) AddInFlight(d int) {
	if m != nil {
		m.InFlight.Add(float64(d))
	}
}

// Streamed counts n bytes the coordinator sent to a worker itself.
func (m *Metrics) Streamed(n int) {
	if m != nil {
		m.BytesStreamed.Add(float64(n))
	}
}

// StoreRead counts n bytes a worker read from a store.
func (m *Metrics) StoreRead(store string, n int) {
	if m != nil && n > 0 {
		m.StoreBytes.WithLabelValues(store).Add(float64(n))
	}
}

// StoreRetry counts a read of a store tried again.
func (m *Metrics) StoreRetry(store string) {
	if m != nil {
		m.StoreRetries.WithLabelValues(store).Inc()
	}
}

// guard lets a request through when the listener needs no credentials, or
// when it brings a verified client certificate or the bearer token.
func guard(next http.Handler, opts ServeOptions) http.Handler {
	if opts.TLS == nil && opts.Token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if security.VerifiedLeaf(r.TLS) == nil && !security.BearerMatches(r.Header.Get("Authorization"), opts.Token) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized: present a client certificate from the cluster's CA or the bearer token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
