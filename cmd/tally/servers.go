package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/statuspage"
	"github.com/tallyhq/tally/worker"
)

// gossipFlags configure memberlist, for both servers.
type gossipFlags struct {
	gossip, advertise, join, name, logLevel, key string
	keyFile, logFormat, metricsAddr              string
	pprof, insecure                              bool
}

func (g *gossipFlags) register(fs *flag.FlagSet, defGossip string) {
	fs.StringVar(&g.gossip, "gossip", defGossip, "memberlist HOST:PORT to bind (port 0 picks a free port)")
	fs.StringVar(&g.advertise, "gossip-advertise", "", "memberlist HOST:PORT other nodes reach this node at (default: the bind address)")
	fs.StringVar(&g.name, "name", "", "unique node name (default: ROLE-HOSTNAME-PORT)")
	fs.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&g.metricsAddr, "metrics-listen", "", "HOST:PORT of the admin listener that serves Prometheus /metrics and, on a coordinator, the status page at /status/ (default: off); off loopback it needs TLS and serves HTTPS to clients with a certificate from the cluster's CA (or the token)")
	fs.StringVar(&g.metricsAddr, "metrics", "", "old name of --metrics-listen")
	fs.BoolVar(&g.pprof, "pprof", false, "also serve /debug/pprof/ on the --metrics-listen address")
	fs.StringVar(&g.key, "gossip-key", "", "base64 gossip encryption key of 16, 24 or 32 bytes, the same on every node (e.g. openssl rand -base64 32); prefer --gossip-key-file, which keeps it off the command line")
	fs.StringVar(&g.keyFile, "gossip-key-file", "", "file holding the base64 gossip key")
	fs.BoolVar(&g.insecure, "insecure", false, "run on a non-loopback address without mutual TLS or a gossip key: anyone who reaches this node can then join the cluster, read the text and change counts")
}

// config turns the flags into a cluster config.
func (g *gossipFlags) config() (cluster.Config, error) {
	cfg := cluster.DefaultConfig()
	host, port, err := splitHostPort(g.gossip)
	if err != nil {
		return cfg, usagef("--gossip %q: %v", g.gossip, err)
	}
	cfg.BindAddr, cfg.BindPort, cfg.NodeName = host, port, g.name
	if g.advertise != "" {
		host, port, err := splitHostPort(g.advertise)
		if err != nil {
			return cfg, usagef("--gossip-advertise %q: %v", g.advertise, err)
		}
		cfg.AdvertiseAddr, cfg.AdvertisePort = host, port
	}
	encoded, err := secret(g.key, g.keyFile, "gossip-key")
	if err != nil {
		return cfg, err
	}
	if encoded != "" {
		key, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || (len(key) != 16 && len(key) != 24 && len(key) != 32) {
			return cfg, usagef("--gossip-key: want base64 of 16, 24 or 32 bytes")
		}
		cfg.SecretKey = key
	}
	for _, j := range strings.Split(g.join, ",") {
		if j = strings.TrimSpace(j); j != "" {
			cfg.Join = append(cfg.Join, j)
		}
	}
	return cfg, nil
}

func (g *gossipFlags) logger(e env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		opts.ReplaceAttr = durationSeconds
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", g.logFormat)
}

// durationSeconds writes a duration in JSON logs as seconds, a number that
// log tools read as such, instead of slog's integer nanoseconds.
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}

// node is what setup makes of the flags every server shares.
type node struct {
	cluster cluster.Config
	log     *slog.Logger
	metrics *metrics.Metrics // nil without --metrics-listen
	posture security.Posture
}

// setup turns the shared server flags into the cluster config, the logger
// and (with --metrics-listen) the served metrics of a process of role. It
// refuses a node that other machines can reach unless it is secured
// (mutual TLS and a gossip key) or --insecure; exposed are the node's own
// addresses besides the gossip and metrics ones.
func (g *gossipFlags) setup(ctx context.Context, e env, role string, t security.TLS, token string, exposed ...security.Exposed) (node, error) {
	var n node
	ccfg, err := g.config()
	if err != nil {
		return n, err
	}
	n.cluster = ccfg
	n.posture = security.NewPosture(t, ccfg.SecretKey, g.insecure)
	exposed = append(exposed, security.Exposed{Flag: "--gossip", Addr: g.gossip}, security.Exposed{Flag: "--gossip-advertise", Addr: g.advertise},
		security.Exposed{Flag: "--metrics-listen", Addr: g.metricsAddr})
	if err := n.posture.Check(exposed...); err != nil {
		return n, usagef("%v", err)
	}
	if n.log, err = g.logger(e); err != nil {
		return n, err
	}
	if n.posture.Insecure {
		fmt.Fprintf(e.stderr, "WARNING: %s runs with --insecure: anyone who reaches its ports can join the cluster, read the text and change counts\n", role)
		n.log.Warn("running with --insecure", "security", n.posture.Describe())
	}
	if g.metricsAddr == "" {
		if g.pprof {
			return n, usagef("--pprof needs --metrics-listen HOST:PORT to serve on")
		}
		return n, nil
	}
	n.metrics = metrics.New(role)
	return n, nil
}

// serveAdmin starts the admin listener when --metrics-listen is set: the
// metrics, and pages if not nil (the coordinator's status page). Off
// loopback it serves HTTPS with the node's certificate, to clients with
// one from the cluster's CA or the token.
func (g *gossipFlags) serveAdmin(ctx context.Context, n node, t security.TLS, token string, pages http.Handler) error {
	if n.metrics == nil {
		return nil
	}
	opts := metrics.ServeOptions{Pprof: g.pprof, Token: token, Pages: pages}
	scheme := "http"
	if !security.Loopback(g.metricsAddr) && t.Mutual() {
		cfg, err := t.ServerConfig(false, security.RoleCoordinator, security.RoleWorker, security.RoleClient)
		if err != nil {
			return fmt.Errorf("metrics TLS: %w", err)
		}
		opts.TLS, scheme = cfg, "https"
	}
	addr, err := n.metrics.Serve(ctx, g.metricsAddr, opts)
	if err != nil {
		return err
	}
	n.log.Info("serving metrics", "addr", scheme+"://"+addr+"/metrics", "pprof", g.pprof)
	if pages != nil {
		n.log.Info("serving the status page", "addr", scheme+"://"+addr+"/status/")
	}
	return nil
}

// secret returns a secret given either as a flag or in a file named by
// NAME-file (the file keeps it out of the command line, which /proc and
// ps show to every user of the machine). Surrounding space is trimmed.
func secret(value, file, name string) (string, error) {
	if file == "" {
		return value, nil
	}
	if value != "" {
		return "", usagef("give --%s or --%s-file, not both", name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usagef("--%s-file: %v", name, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", usagef("--%s-file %s is empty", name, file)
	}
	return s, nil
}

func splitHostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}

func runCoordinator(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("coordinator", "tally coordinator --listen HOST:PORT --gossip HOST:PORT [--join HOST:PORT,...]")
	listen := fs.String("listen", defaultListen, "gRPC HOST:PORT for clients (port 0 picks a free port)")
	var g gossipFlags
	g.register(fs, "127.0.0.1:7946")
	fs.StringVar(&g.join, "join", "", "comma-separated memberlist addresses of existing members (optional)")
	def := coordinator.DefaultConfig()
	chunkSize := sizeFlag(def.ChunkSize)
	fs.Var(&chunkSize, "chunk-size", "default target chunk size, and the size of a worker's reads")
	blockSize := sizeFlag(def.BlockSize)
	fs.Var(&blockSize, "block-size", "default size of the splits of stored documents (server paths, s3:// URLs) that one task reads")
	dataDir := fs.String("data-dir", "", "directory whose files clients may count with --server-path (default: none); workers whose --shared-root holds it read them by reference")
	var sf storeFlags
	sf.register(fs)
	workerWait := fs.Duration("worker-wait", def.WorkerWait, "how long a job waits for a worker before it fails (0: forever)")
	answerTimeout := fs.Duration("answer-timeout", def.AnswerTimeout, "how long a worker holding chunks may answer none before its link is cut and its chunks go to others (0: forever)")
	var tlsCfg security.TLS
	registerTLS(fs, &tlsCfg, "coordinator: serves clients with it and presents it to workers")
	token := fs.String("token", "", "bearer token clients must send (health checks need none); prefer --token-file, which keeps it off the command line")
	tokenFile := fs.String("token-file", "", "file holding the bearer token clients must send")
	maxJobs := fs.Int("max-jobs", def.MaxJobs, "jobs running at once; more are refused (ResourceExhausted)")
	maxJobsPerClient := fs.Int("max-jobs-per-client", def.MaxJobsPerClient,
		"jobs one client runs at once, so that one cannot take every --max-jobs slot; more are refused (ResourceExhausted). A client is its TLS certificate's subject when it presents a verified one, else its IP address (clients behind one NAT share it). 0: no bound")
	idleTimeout := fs.Duration("idle-timeout", def.IdleTimeout, "end a job whose client sends nothing for this long while its upload is read, freeing its slot (0: wait forever)")
	maxTargets := fs.Int("max-targets", def.MaxTargets, "targets per count job")
	maxTargetBytes := fs.Int("max-target-bytes", def.MaxTargetBytes, "bytes per target")
	maxAttempts := fs.Int("max-attempts", def.MaxAttempts, "failures of one chunk (error or crashed worker) before its job fails")
	maxMatcher := sizeFlag(def.MaxMatcherMemory)
	fs.Var(&maxMatcher, "max-matcher-memory", "memory a count job's matcher may take, estimated from its targets; a job above it is refused (ResourceExhausted)")
	maxTop := sizeFlag(def.MaxTopMemory)
	fs.Var(&maxTop, "max-top-memory", "memory a top job's merged frequency table may take; a job whose table grows beyond it fails (ResourceExhausted)")
	if _, err := parse(fs, args, e.stdout); err != nil {
		return err
	}
	tok, err := secret(*token, *tokenFile, "token")
	if err != nil {
		return err
	}
	n, err := g.setup(ctx, e, metrics.Coordinator, tlsCfg, tok, security.Exposed{Flag: "--listen", Addr: *listen})
	if err != nil {
		return err
	}
	ccfg, log := n.cluster, n.log
	stores, _, release, err := sf.stores("")
	if err != nil {
		return err
	}
	defer release()
	dial, err := worker.SecureDialer(tlsCfg, ccfg.SecretKey)
	if err != nil {
		return err
	}
	cfg := coordinator.DefaultConfig()
	cfg.Metrics, cfg.Stores, cfg.Dial = n.metrics, stores, dial
	cfg.ListenAddr, cfg.Cluster, cfg.ChunkSize, cfg.BlockSize, cfg.Logger = *listen, &ccfg, int(chunkSize), int(blockSize), log
	cfg.MinBlock = min(cfg.MinBlock, cfg.BlockSize)
	cfg.WorkerWait, cfg.MaxAttempts, cfg.DataDir, cfg.AnswerTimeout = *workerWait, *maxAttempts, *dataDir, *answerTimeout
	cfg.TLS, cfg.Token, cfg.Insecure = tlsCfg, tok, n.posture.Insecure
	cfg.MaxJobs, cfg.MaxTargets, cfg.MaxTargetBytes = *maxJobs, *maxTargets, *maxTargetBytes
	cfg.MaxJobsPerClient, cfg.IdleTimeout = *maxJobsPerClient, *idleTimeout
	cfg.MaxMatcherMemory, cfg.MaxTopMemory = int64(maxMatcher), int64(maxTop)
	if cfg.MaxLine < cfg.ChunkSize {
		cfg.MaxLine = cfg.ChunkSize
	}
	c, err := coordinator.Start(cfg)
	if err != nil {
		return err
	}
	if n.metrics != nil {
		page, err := statuspage.New(c, statuspage.DefaultConfig())
		if err != nil {
			c.Close()
			return err
		}
		defer page.Close()
		if err := g.serveAdmin(ctx, n, tlsCfg, tok, page); err != nil {
			c.Close()
			return err
		}
	}
	fmt.Fprintf(e.stdout, "coordinator listening on %s, gossip on %s\n", c.Addr(), c.GossipAddr())
	<-ctx.Done()
	log.Info("shutting down")
	return c.Close()
}

func runWorker(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("worker", "tally worker --join HOST:PORT --listen HOST:PORT --gossip HOST:PORT [--threads N]")
	listen := fs.String("listen", "127.0.0.1:0", "gRPC HOST:PORT for the coordinator (port 0 picks a free port)")
	advertise := fs.String("advertise", "", "gRPC HOST:PORT the coordinator dials (default: derived from --listen)")
	threads := fs.Int("threads", 0, "chunks counted at once (default: GOMAXPROCS)")
	maxSessions := fs.Int("max-sessions", worker.DefaultMaxSessions, "coordinator sessions open at once; more are refused (ResourceExhausted)")
	sharedRoot := fs.String("shared-root", "", "a directory this worker reads under the same path as the coordinator (a shared volume, e.g. /data): the coordinator's --server-path files inside it are read here by reference instead of streamed")
	var sf storeFlags
	sf.register(fs)
	var tlsCfg security.TLS
	registerTLS(fs, &tlsCfg, "worker; with --tls-ca only coordinators with a certificate from that CA may call it")
	var faults worker.Faults
	var throttle sizeFlag
	fs.Var(&throttle, "throttle", "testing: slow each thread to SIZE bytes per second, e.g. 5MB (a straggler)")
	fs.StringVar(&faults.FailOn, "fail-on", "", "testing: answer every chunk containing this text with an error")
	fs.StringVar(&faults.CrashOn, "crash-on", "", "testing: exit the process (status 3) on a chunk containing this text")
	maxMatcher := sizeFlag(worker.DefaultMaxMatcherMemory)
	fs.Var(&maxMatcher, "max-matcher-memory", "memory a count job's matcher may take here, estimated from its targets; a task above it is refused and its job fails, without trying other workers")
	maxTop := sizeFlag(worker.DefaultMaxTopMemory)
	fs.Var(&maxTop, "max-top-memory", "memory one top task's frequency table may take here; a task whose table grows beyond it is refused and its job fails")
	var g gossipFlags
	g.register(fs, "127.0.0.1:0")
	fs.StringVar(&g.join, "join", "", "comma-separated memberlist addresses of any members, e.g. the coordinator's --gossip (required)")
	if _, err := parse(fs, args, e.stdout); err != nil {
		return err
	}
	if g.join == "" {
		return usagef("--join is required: give the coordinator's (or any member's) gossip HOST:PORT")
	}
	if *threads < 0 {
		return usagef("--threads %d: want 0 (all cores) or more", *threads)
	}
	n, err := g.setup(ctx, e, metrics.Worker, tlsCfg, "",
		security.Exposed{Flag: "--listen", Addr: *listen}, security.Exposed{Flag: "--advertise", Addr: *advertise})
	if err != nil {
		return err
	}
	if err := g.serveAdmin(ctx, n, tlsCfg, "", nil); err != nil {
		return err
	}
	ccfg, log, m := n.cluster, n.log, n.metrics
	stores, storage, release, err := sf.stores(*sharedRoot)
	if err != nil {
		return err
	}
	defer release()
	cfg := worker.DefaultConfig()
	cfg.Metrics, cfg.Storage, cfg.Open = m, storage, stores
	cfg.ListenAddr, cfg.AdvertiseAddr, cfg.Threads, cfg.Cluster, cfg.Logger = *listen, *advertise, *threads, ccfg, log
	faults.Throttle = int(throttle)
	cfg.TLS, cfg.Insecure, cfg.MaxSessions = tlsCfg, n.posture.Insecure, *maxSessions
	cfg.Faults = faults
	cfg.MaxMatcherMemory, cfg.MaxTopMemory = int64(maxMatcher), int64(maxTop)
	w, err := worker.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "worker %s listening on %s, gossip on %s\n", w.Name(), w.Addr(), w.GossipAddr())
	err = w.Wait(ctx)
	log.Info("shutting down")
	start := time.Now()
	if cerr := w.Close(); cerr != nil {
		return cerr
	}
	log.Info("stopped", "after", time.Since(start).Round(time.Millisecond))
	return err
}
