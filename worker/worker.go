package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/metrics"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// Config configures a Worker.
type Config struct {
	// ListenAddr is the gRPC address to serve WorkerService on; port 0 picks a free port.
	ListenAddr string
	// AdvertiseAddr is the gRPC address the coordinator dials; "" derives it from
	// ListenAddr, taking the host from the gossip advertise address when ListenAddr's host is unspecified.
	AdvertiseAddr string
	// Threads is how many chunks are counted at once; 0 means GOMAXPROCS.
	Threads int
	// Cluster configures memberlist; Meta is filled in by Start.
	Cluster cluster.Config
	// Logger receives the worker's logs; nil discards them.
	Logger *slog.Logger
	// TLS secures WorkerService with mutual TLS: the coordinator must present
	// a certificate signed by TLS.CAFile that names the coordinator role.
	// (With a gossip key in Cluster.SecretKey, sessions must also prove it.)
	TLS security.TLS
	// MaxSessions bounds the sessions open at once; 0 means DefaultMaxSessions.
	MaxSessions int
	// Insecure says the operator chose to run off loopback without TLS or
	// gossip key (--insecure); its gossip metadata says so.
	Insecure bool
	// Metrics receives the worker's counters; nil records none.
	Metrics *metrics.Metrics
	// Faults make the worker misbehave on purpose, for fault-handling tests.
	Faults Faults
	// Storage is what the worker reads by reference, through Open; the
	// coordinator hears of it in the worker's hello and metadata.
	Storage task.Storage
	// Open opens the refs that Storage says the worker reads; nil reads none.
	Open source.Opener
	// MaxMatcherMemory bounds the memory, in bytes, of one job's matcher
	// (as count.MatcherBytes estimates it from the targets) and of the
	// matchers kept between chunks: a task above it is refused with an
	// error of its own kind, which fails the job rather than being tried on
	// other workers. 0 sets no bound.
	MaxMatcherMemory int64
	// MaxTopMemory bounds the memory, in bytes, of the frequency table of
	// one task of a top job (a chunk, or a split read here): a task whose
	// table would grow beyond it is refused as MaxMatcherMemory's are. 0
	// sets no bound.
	MaxTopMemory int64
	// DrainTimeout bounds how long Close waits for in-flight chunks before stopping hard.
	DrainTimeout time.Duration
}

// DefaultConfig returns a worker config for a single machine.
func DefaultConfig() Config {
	return Config{ListenAddr: "127.0.0.1:0", Cluster: cluster.DefaultConfig(), DrainTimeout: 5 * time.Second,
		MaxMatcherMemory: DefaultMaxMatcherMemory, MaxTopMemory: DefaultMaxTopMemory}
}

// DefaultMaxMatcherMemory is a worker's default bound of a job's matcher,
// the same as the coordinator's default.
const DefaultMaxMatcherMemory = 1 << 30

// DefaultMaxTopMemory is a worker's default bound of one task's frequency
// table: a chunk of the default 1 MiB takes at most tens of megabytes, a
// 16 MiB split some hundreds.
const DefaultMaxTopMemory = 1 << 30

// Worker is a running worker: a gRPC server and a cluster member.
type Worker struct {
	cfg    Config
	log    *slog.Logger
	engine *Engine
	lis    net.Listener
	grpc   *grpc.Server
	server *Server
	health *health.Server
	node   *cluster.Node
	served chan error

	closeOnce sync.Once
}

// Start listens, serves WorkerService and joins the cluster.
func Start(cfg Config) (*Worker, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lis, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	// Only a coordinator's certificate opens sessions; the handshake takes
	// a peer without one, for health checks.
	if cfg.TLS.Enabled() && cfg.TLS.CAFile == "" {
		lis.Close()
		return nil, fmt.Errorf("worker TLS: mutual TLS needs the CA that signs the coordinator's certificate (--tls-ca)")
	}
	creds, err := cfg.TLS.ServerCredentials(false, security.RoleCoordinator)
	if err != nil {
		lis.Close()
		return nil, fmt.Errorf("worker TLS: %w", err)
	}
	engine := NewEngine(cfg.Threads)
	engine.SetFaults(cfg.Faults)
	engine.SetMetrics(cfg.Metrics)
	engine.SetMaxMatcher(cfg.MaxMatcherMemory)
	engine.SetMaxTop(cfg.MaxTopMemory)
	if cfg.Open != nil {
		engine.SetStorage(cfg.Storage, cfg.Open)
	}
	w := &Worker{cfg: cfg, log: log, engine: engine, lis: lis, served: make(chan error, 1)}
	policy := security.Policy{Roles: []security.Role{security.RoleCoordinator}, RequireCert: cfg.TLS.Enabled()}
	unary, stream := policy.Interceptors()
	w.grpc = grpc.NewServer(append(append(cfg.Metrics.ServerOptions(), GRPCOptions()...),
		grpc.Creds(creds), grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		// A coordinator that stops answering (SIGSTOP, a frozen machine, a
		// network gone without a close) loses its session within about 20 s:
		// its stream ends, and with it the session's tasks.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 10 * time.Second, Timeout: 10 * time.Second}),
	)...)
	w.health = health.NewServer()
	// Health by service name too, as probes that name the service ask.
	w.health.SetServingStatus(tallyv1.WorkerService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(w.grpc, w.health)

	ccfg := cfg.Cluster
	storage := engine.Storage()
	ccfg.Meta = cluster.Meta{Role: cluster.RoleWorker, GRPCAddr: advertise(cfg, lis.Addr()), Cores: engine.Threads(), SharedRoot: storage.SharedRoot, S3: storage.S3, Insecure: cfg.Insecure}
	ccfg.Logger = log
	node, err := cluster.Start(ccfg)
	if err != nil {
		lis.Close()
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	w.node = node
	if ccfg.Meta.GRPCAddr == "" {
		// Listening on all interfaces: advertise the host memberlist advertises.
		host, _, _ := net.SplitHostPort(node.GossipAddr())
		_, port, _ := net.SplitHostPort(lis.Addr().String())
		ccfg.Meta.GRPCAddr = net.JoinHostPort(host, port)
		if err := node.UpdateMeta(ccfg.Meta); err != nil {
			w.Close()
			return nil, fmt.Errorf("advertise grpc address: %w", err)
		}
	}
	w.server = NewServer(node.Name(), engine, ServerOptions{GossipKey: cfg.Cluster.SecretKey, MaxSessions: cfg.MaxSessions, Address: ccfg.Meta.GRPCAddr})
	tallyv1.RegisterWorkerServiceServer(w.grpc, w.server)
	cfg.Metrics.InitGRPC(w.grpc)
	go func() { w.served <- w.grpc.Serve(lis) }()
	log.Info("worker started", "name", node.Name(), "grpc", ccfg.Meta.GRPCAddr, "gossip", node.GossipAddr(), "threads", engine.Threads(),
		"shared_root", storage.SharedRoot, "s3", storage.S3)
	return w, nil
}

// advertise returns the gRPC address to advertise, or "" when it must come from memberlist.
func advertise(cfg Config, addr net.Addr) string {
	if cfg.AdvertiseAddr != "" {
		return cfg.AdvertiseAddr
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if cfg.Cluster.AdvertiseAddr != "" {
			return net.JoinHostPort(cfg.Cluster.AdvertiseAddr, port)
		}
		return ""
	}
	return addr.String()
}

// Addr is the address WorkerService listens on.
func (w *Worker) Addr() string { return w.lis.Addr().String() }

// Name is the worker's memberlist node name.
func (w *Worker) Name() string { return w.node.Name() }

// GossipAddr is the worker's memberlist address.
func (w *Worker) GossipAddr() string { return w.node.GossipAddr() }

// Engine is the worker's counting engine.
func (w *Worker) Engine() *Engine { return w.engine }

// Wait blocks until the gRPC server stops or ctx ends.
func (w *Worker) Wait(ctx context.Context) error {
	select {
	case err := <-w.served:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Close leaves the cluster, so the coordinator stops sending, then lets the
// in-flight chunks finish (up to DrainTimeout) and stops the server. It is safe
// to call more than once.
func (w *Worker) Close() error {
	w.closeOnce.Do(func() {
		w.health.Shutdown()
		// A failed leave broadcast (the peers are gone too, as when a whole
		// cluster stops) is no reason to fail the shutdown: memberlist will
		// declare this node dead instead.
		if err := w.node.Leave(time.Second); err != nil {
			w.log.Warn("leave cluster", "err", err)
		}
		w.server.Drain() // answer what was started, whether or not the coordinator saw the leave
		done := make(chan struct{})
		go func() { w.grpc.GracefulStop(); close(done) }()
		timeout := w.cfg.DrainTimeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		select {
		case <-done:
		case <-time.After(timeout):
			w.grpc.Stop()
			<-done
		}
	})
	return nil
}
