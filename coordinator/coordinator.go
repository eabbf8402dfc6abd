// Package coordinator runs counting jobs on the cluster's workers: it keeps the
// live worker set from memberlist, plans each job's tasks (splits of stored
// documents, which workers read themselves, and line-aligned chunks of
// streams), dispatches them by free worker slots, merges each task's result
// exactly once, and serves CoordinatorService to clients. Submit is the one
// entry point of a job: the gRPC service and the CLI's embedded mode both
// call it.
package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/internal/reflection"
	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/source/file"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
)

// Config configures a Coordinator.
type Config struct {
	// ListenAddr is the gRPC address for clients; port 0 picks a free port.
	// "" serves no client API: jobs come only through Submit, as in the
	// CLI's embedded mode, which runs without the network.
	ListenAddr string
	// Cluster configures memberlist; nil runs without gossip (workers are added with AddWorker).
	Cluster *cluster.Config
	// DataDir is the directory whose files clients may count by server path; "" allows none.
	// Its files are read by reference by workers whose shared root holds
	// them (the same volume under the same path), and streamed to others.
	DataDir string
	// Stores read stored documents by URL scheme ("file", "s3"): to list
	// and size them when planning, and to read a split for a worker that
	// cannot. Without a "file" store, one for DataDir is opened.
	Stores source.Mux
	// TLS secures the client API. (Dial secures the links to workers:
	// worker.TLSDialer.)
	TLS security.TLS
	// Token, when set, is the bearer token clients must send. With TLS and
	// no token, clients must present a certificate with the client role.
	Token string
	// Insecure says the operator chose to run off loopback without TLS or
	// gossip key (--insecure); ListWorkers says so.
	Insecure bool
	// Metrics receives the coordinator's counters; nil records none.
	Metrics *metrics.Metrics
	// Dial opens links to workers (worker.GRPCDialer, or worker.LocalDialer
	// in one process); it is required.
	Dial task.Dialer
	// ChunkSize is the default target chunk size in bytes, and the size of
	// a worker's reads of a split.
	ChunkSize int
	// BlockSize is the default split size of stored documents: one task
	// reads that many bytes, so it should be large beside a request's latency.
	BlockSize int
	// RemoteBlockSize, when set, is the default split size of documents in
	// an object store (s3://), where a request costs much more than a read
	// of a local file; BlockSize is then that of files.
	RemoteBlockSize int
	// FileReadSize, when set, is the size of a worker's reads of a split of
	// a local file (file://) in a count job, instead of the chunk size: the
	// ranges a mapped split is counted in, and the reads of a file that
	// cannot be mapped. A read whose copy stays in the core's L2 cache is
	// scanned from there: 256 KiB reads counted 10-15% faster on two
	// threads than 1 MiB ones on a Zen 2 with 512 KiB of L2
	// (docs/performance.md). A top job keeps chunk-size reads: it was 25%
	// slower with 256 KiB ones. Embedded mode sets it.
	FileReadSize int
	// MinBlock is the smallest split a job may ask for: each split is a
	// task, and a read of the store, of its own.
	MinBlock int
	// MaxLine is the longest line kept whole; a longer one fails the job.
	MaxLine int
	// Window is how many chunks one job may hold (queued or in flight).
	Window int
	// MaxAttempts is how many times one chunk is dispatched before its job fails.
	MaxAttempts int
	// MaxTargets and MaxTargetBytes bound a count query (InvalidArgument beyond).
	MaxTargets     int
	MaxTargetBytes int
	// MaxMatcherMemory bounds the memory, in bytes, that a count query's
	// matcher may take as count.MatcherBytes estimates it from the targets:
	// a job above it is refused (ResourceExhausted) before any task is
	// sent, since every worker builds that matcher. 0 sets no bound.
	MaxMatcherMemory int64
	// MaxTopMemory bounds the memory, in bytes, of a top job's merged
	// frequency table (count.Freq.Bytes), checked as each chunk's table is
	// merged: a job whose table grows beyond it fails (ResourceExhausted)
	// and its table is dropped. 0 sets no bound.
	MaxTopMemory int64
	// MaxJobs bounds the jobs running at once (ResourceExhausted beyond).
	MaxJobs int
	// MaxJobsPerClient bounds the jobs one client runs at once
	// (ResourceExhausted beyond), so that one client cannot take every one
	// of MaxJobs; 0 sets no bound. clientKey says who counts as one client.
	MaxJobsPerClient int
	// IdleTimeout ends a RunJob call whose client sends nothing for so long
	// while the coordinator waits for its next message (its job start or
	// its upload; not once the upload has ended and the client waits for
	// the answer), and frees its job slot; 0 waits forever.
	IdleTimeout time.Duration
	// JobHistory is how many finished jobs are remembered.
	JobHistory int
	// HistoryTopEntries bounds the frequency-table entries remembered
	// across finished jobs, newest first: an older job beyond it keeps its
	// statistics and counts but not its table (JobResult.top_dropped). A
	// full table of a large corpus holds millions of entries.
	HistoryTopEntries int
	// WorkerWait is how long a job waits with no worker before it fails; 0 waits forever.
	WorkerWait time.Duration
	// DrainTimeout bounds how long a leaving worker may take to answer its chunks.
	DrainTimeout time.Duration
	// AnswerTimeout is how long a worker that holds chunks may answer none
	// before its link is cut, its chunks go to other workers and it waits
	// as long again before it gets more; 0 waits forever.
	AnswerTimeout time.Duration
	// Logger receives the coordinator's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns a coordinator config for a single machine, without gossip.
func DefaultConfig() Config {
	return Config{
		ListenAddr:        "127.0.0.1:0",
		ChunkSize:         chunk.DefaultConfig().Size,
		BlockSize:         DefaultBlockSize,
		MinBlock:          64 << 10,
		MaxLine:           chunk.DefaultConfig().MaxLine,
		Window:            64,
		MaxAttempts:       4,
		WorkerWait:        time.Minute,
		JobHistory:        100,
		HistoryTopEntries: 1 << 20,
		MaxTargets:        10000,
		MaxTargetBytes:    4096,
		MaxMatcherMemory:  DefaultMaxMatcherMemory,
		MaxTopMemory:      DefaultMaxTopMemory,
		MaxJobs:           64,
		MaxJobsPerClient:  16,
		IdleTimeout:       30 * time.Second,
		DrainTimeout:      10 * time.Second,
		AnswerTimeout:     5 * time.Minute,
	}
}

// DefaultMaxMatcherMemory is the default bound of a job's matcher: the
// largest queries the default MaxTargets and MaxTargetBytes allow (10,000
// targets of 4,096 bytes, about 2.3 GiB as substrings) are refused, while
// thousands of targets of ordinary length take megabytes.
const DefaultMaxMatcherMemory = 1 << 30

// DefaultMaxTopMemory is the default bound of a top job's merged table:
// about 20 million distinct short tokens (a table of 2^25 slots, 768 MiB;
// the next doubling is refused).
const DefaultMaxTopMemory = 1 << 30

// DefaultBlockSize is the default split of a stored document: 16 MiB read
// in one task takes a fraction of a second, against milliseconds of
// latency for a request to object storage.
const DefaultBlockSize = 16 << 20

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Dial == nil:
		return errors.New("no Dial: give worker.GRPCDialer, or worker.LocalDialer for workers in this process")
	case c.Cluster != nil && c.ListenAddr == "":
		return errors.New("a coordinator in a cluster needs a ListenAddr for workers and clients")
	case c.BlockSize < 1:
		return fmt.Errorf("block size %d must be at least 1 byte", c.BlockSize)
	case c.MinBlock < 1 || c.MinBlock > c.BlockSize:
		return fmt.Errorf("min block %d must be between 1 and the block size %d", c.MinBlock, c.BlockSize)
	case c.ChunkSize < 1:
		return fmt.Errorf("chunk size %d must be at least 1 byte", c.ChunkSize)
	case c.MaxLine < c.ChunkSize:
		return fmt.Errorf("max line %d must be at least the chunk size %d", c.MaxLine, c.ChunkSize)
	case c.MaxLine > task.MaxMessageBytes/2:
		return fmt.Errorf("max line %d is above the limit %d", c.MaxLine, task.MaxMessageBytes/2)
	case c.Window < 1:
		return fmt.Errorf("window %d must be at least 1 chunk", c.Window)
	case c.MaxAttempts < 1:
		return fmt.Errorf("max attempts %d must be at least 1", c.MaxAttempts)
	case c.MaxJobs < 0 || c.MaxJobsPerClient < 0:
		return fmt.Errorf("max jobs %d and max jobs per client %d must not be negative", c.MaxJobs, c.MaxJobsPerClient)
	case c.IdleTimeout < 0:
		return fmt.Errorf("idle timeout %s must not be negative", c.IdleTimeout)
	}
	return nil
}

// Coordinator is a running coordinator.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	sched *scheduler
	pool  *pool
	jobs  *registry
	node  *cluster.Node
	root  *os.Root // DataDir, confined: nil without one
	// stores read stored documents; volume is the one opened for DataDir
	// (closed with the coordinator), if Config.Stores had no "file" store.
	stores source.Mux
	volume *file.Volume
	// buffers recycles the memory of merged chunks of the default size, so
	// that reading a document touches memory that is mapped and cached. A
	// few spare buffers are enough: merged chunks give theirs back as the
	// reader needs new ones.
	buffers *chunk.Pool
	// splitBuffers (*[]byte) recycles the buffers that splits are read
	// into for workers that cannot read them (readSplit).
	splitBuffers sync.Pool
	lis          net.Listener
	grpc         *grpc.Server
	health       *health.Server
	ctx          context.Context // ends when the coordinator closes
	stop         context.CancelFunc
	wg           sync.WaitGroup
	// admitting makes the check of the job limits and the registration of
	// the job one step, so that calls at once cannot pass a limit together.
	admitting sync.Mutex

	closeOnce sync.Once
	started   time.Time
}

// Start listens, serves CoordinatorService and, with a cluster config, joins the cluster.
func Start(cfg Config) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Coordinator{cfg: cfg, log: log, sched: newScheduler(), jobs: newRegistry(cfg.JobHistory, cfg.HistoryTopEntries),
		buffers: chunk.NewPool(cfg.ChunkSize, min(cfg.Window, 16)), started: time.Now()}
	if err := c.openData(); err != nil {
		return nil, err
	}
	if err := c.listen(); err != nil {
		c.closeData()
		return nil, err
	}
	c.ctx, c.stop = context.WithCancel(context.Background())
	c.pool = &pool{log: log, dial: cfg.Dial, sched: c.sched, deliver: c.deliver, backup: c.straggler, read: c.readSplit,
		drain: cfg.DrainTimeout, silence: cfg.AnswerTimeout, metrics: cfg.Metrics, sessions: map[string]*session{}}

	if cfg.Cluster != nil {
		ccfg := *cfg.Cluster
		ccfg.Meta = cluster.Meta{Role: cluster.RoleCoordinator, GRPCAddr: c.lis.Addr().String(), Insecure: cfg.Insecure}
		ccfg.Logger = log
		node, err := cluster.Start(ccfg)
		if err != nil {
			c.lis.Close()
			c.stop()
			c.closeData()
			return nil, fmt.Errorf("join cluster: %w", err)
		}
		c.node = node
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.watchMembers()
		}()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.watchWaiting()
	}()

	if c.grpc != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := c.grpc.Serve(c.lis); err != nil {
				log.Error("grpc server stopped", "err", err)
			}
		}()
	}
	log.Info("coordinator started", "grpc", c.Addr())
	return c, nil
}

// listen opens the client API's listener and server, unless there is none.
func (c *Coordinator) listen() error {
	if c.cfg.ListenAddr == "" {
		return nil
	}
	// A client proves who it is with the token or a client's certificate;
	// with TLS and no token, only the certificate will do. The handshake
	// takes a peer without one, for health checks.
	serverCreds, err := c.cfg.TLS.ServerCredentials(false, security.RoleClient)
	if err != nil {
		return fmt.Errorf("client API TLS: %w", err)
	}
	dec := &decoder{}
	opts := append([]grpc.ServerOption{grpc.MaxRecvMsgSize(maxClientMessage), grpc.Creds(serverCreds), grpc.ForceServerCodecV2(dec.codec()), experimental.BufferPool(wire.Buffers),
		grpc.KeepaliveEnforcementPolicy(keepaliveClients), grpc.KeepaliveParams(keepaliveServer)},
		append(wire.APIServerOptions(), c.cfg.Metrics.ServerOptions()...)...)
	policy := security.Policy{Token: c.cfg.Token, Roles: []security.Role{security.RoleClient}, RequireCert: c.cfg.TLS.Mutual()}
	unary, stream := policy.Interceptors()
	opts = append(opts, grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream))
	if c.lis, err = net.Listen("tcp", c.cfg.ListenAddr); err != nil {
		return fmt.Errorf("listen on %s: %w", c.cfg.ListenAddr, err)
	}
	c.grpc = grpc.NewServer(opts...)
	api := dec.service()
	c.health = health.NewServer()
	// Health by service name too, as probes that name the service ask.
	c.health.SetServingStatus(api.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(c.grpc, c.health)
	c.grpc.RegisterService(api, &service{c: c})
	reflection.Register(c.grpc)
	c.cfg.Metrics.InitGRPC(c.grpc)
	return nil
}

// Keepalive of the client API. Clients ping every 10 s at most (grpc-go's
// least, client.KeepaliveTime): allowing pings every 5 s keeps them from
// being sent away (GOAWAY "too_many_pings", which grpc-go's default
// enforcement of 5 minutes would do). The coordinator pings a client whose
// connection has been silent for 15 s and drops it 10 s later without an
// answer, so a client that vanished or stopped no longer holds its call
// (and its job) once its upload is over and the idle timeout no longer runs.
var (
	keepaliveClients = keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}
	keepaliveServer  = keepalive.ServerParameters{Time: 15 * time.Second, Timeout: 10 * time.Second}
)

// ErrNoWorkers fails a job that waited longer than Config.WorkerWait for a worker.
var ErrNoWorkers = errors.New("no workers")

// maxClientMessage bounds one client message: an upload's data message or a CountTexts request.
const maxClientMessage = 64 << 20

// Addr is the address clients dial, "" without a client API.
func (c *Coordinator) Addr() string {
	if c.lis == nil {
		return ""
	}
	return c.lis.Addr().String()
}

// GossipAddr is the coordinator's memberlist address, "" without a cluster.
func (c *Coordinator) GossipAddr() string {
	if c.node == nil {
		return ""
	}
	return c.node.GossipAddr()
}

// AddWorker adds a worker that is not found through gossip, such as the
// embedded mode's in-process worker (with Config.Dial set to worker.LocalDialer).
func (c *Coordinator) AddWorker(name, addr string, cores int) {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	c.pool.startLocked(member{name: name, addr: addr, cores: cores, static: true})
}

// Close stops taking jobs, ends the running ones, leaves the cluster and stops.
// It is safe to call more than once.
func (c *Coordinator) Close() error {
	c.closeOnce.Do(func() {
		if c.health != nil {
			c.health.Shutdown()
		}
		for _, j := range c.jobs.running() {
			j.fail(fmt.Errorf("coordinator is shutting down"))
		}
		c.stop()
		// Worker links first: with no job left they end at once, so workers
		// stopping at the same time (a whole cluster going down) are not kept
		// waiting for a stream that would otherwise stay open.
		c.pool.close()
		if c.grpc != nil {
			done := make(chan struct{})
			go func() { c.grpc.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				c.grpc.Stop()
				<-done
			}
		}
		if c.node != nil {
			c.node.Leave(time.Second)
		}
		c.wg.Wait()
		c.closeData()
	})
	return nil
}

// openData opens the data directory, confined, and the stores: the given
// ones, and a volume for the data directory when they have no "file" store.
func (c *Coordinator) openData() error {
	c.stores = source.Mux{}
	for scheme, s := range c.cfg.Stores {
		c.stores[scheme] = s
	}
	if c.cfg.DataDir == "" {
		return nil
	}
	abs, err := filepath.Abs(c.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", c.cfg.DataDir, err)
	}
	c.cfg.DataDir = abs
	if c.root, err = os.OpenRoot(abs); err != nil {
		return fmt.Errorf("open data directory: %w", err)
	}
	if c.stores["file"] == nil {
		if c.volume, err = file.Open(abs); err != nil {
			c.root.Close()
			return err
		}
		c.stores["file"] = c.volume
	}
	return nil
}

func (c *Coordinator) closeData() {
	if c.root != nil {
		c.root.Close()
	}
	if c.volume != nil {
		c.volume.Close()
	}
}

// deliver hands a worker's result to its job and re-queues a failed chunk.
func (c *Coordinator) deliver(workerName string, t *unit, r task.Result) {
	if r.Err != nil {
		c.log.Warn("chunk failed on worker", "job", t.job.id, "chunk", t.id, "worker", workerName, "err", r.Err)
	}
	if retry := t.job.complete(workerName, r); retry != nil {
		c.cfg.Metrics.Redispatched("error")
		retry.redispatched("error", workerName, r.Err)
		c.sched.requeue(retry)
	}
}

// straggler returns a task for workerName to back up, of those it can
// take, taking jobs oldest first.
func (c *Coordinator) straggler(workerName string, can func(*unit) bool) *unit {
	jobs := c.jobs.running()
	for i := len(jobs) - 1; i >= 0; i-- {
		if t := jobs[i].straggler(workerName, can); t != nil {
			return t
		}
	}
	return nil
}

// watchMembers keeps the worker sessions in line with gossip.
func (c *Coordinator) watchMembers() {
	for {
		var members []member
		for _, m := range c.node.Members() {
			if m.Meta.Role == cluster.RoleWorker && m.Meta.GRPCAddr != "" {
				members = append(members, member{name: m.Name, addr: m.Meta.GRPCAddr, gossip: m.Addr, cores: m.Meta.Cores, insecure: m.Meta.Insecure})
			}
		}
		c.pool.sync(members)
		select {
		case <-c.node.Changes():
		case <-c.ctx.Done():
			return
		}
	}
}

// watchWaiting tells running jobs whether they wait for workers.
func (c *Coordinator) watchWaiting() {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-c.ctx.Done():
			return
		}
		ready := c.pool.ready()
		c.cfg.Metrics.SetLiveWorkers(ready)
		// Retried chunks skip the workers that failed them while others are
		// ready; a change in the ready set can make them takeable, so look again.
		c.sched.wakeAll()
		for _, j := range c.jobs.running() {
			reason := ""
			if ready == 0 && c.sched.queued(j) > 0 {
				reason = "waiting for workers"
			} else if t := c.sched.find(j, c.pool.unreadable); t != nil {
				// A whole document (compressed, or without an exact
				// version) planned while a worker could read its store.
				reason = "waiting for a worker that can read " + t.ref.URL
			}
			waited := j.setWaiting(reason, ready)
			if reason == "" {
				continue
			}
			// A chunk that failed on several workers, with none left, is most
			// likely what took them down (a poison chunk): say so at once.
			if n, desc := j.suspect(); n >= 2 {
				j.fail(fmt.Errorf("%s; no worker is left", desc))
			} else if c.cfg.WorkerWait > 0 && waited > c.cfg.WorkerWait {
				if desc != "" {
					desc = " (" + desc + ")"
				}
				j.fail(fmt.Errorf("%w: %s: waited %s and none joined%s", ErrNoWorkers, reason, c.cfg.WorkerWait, desc))
			}
		}
	}
}

// checkLimits refuses queries beyond the configured bounds.
func (c *Coordinator) checkLimits(q query.Job) error {
	cq := q.Spec.Count
	if cq == nil {
		return nil
	}
	if c.cfg.MaxTargets > 0 && len(cq.Targets) > c.cfg.MaxTargets {
		return fmt.Errorf("%d targets: at most %d per job", len(cq.Targets), c.cfg.MaxTargets)
	}
	for i, t := range cq.Targets {
		if c.cfg.MaxTargetBytes > 0 && len(t) > c.cfg.MaxTargetBytes {
			return fmt.Errorf("target %d is %d bytes long: at most %d", i+1, len(t), c.cfg.MaxTargetBytes)
		}
	}
	if err := count.CheckMatcher(q.Spec, c.cfg.MaxMatcherMemory); err != nil {
		return fmt.Errorf("%w: %w (the coordinator's --max-matcher-memory); use fewer or shorter targets", errMemory, err)
	}
	return nil
}

// errMemory refuses a job whose matcher would be above
// Config.MaxMatcherMemory (ResourceExhausted).
var errMemory = errors.New("over a memory limit")

// newJob creates and registers a job.
func (c *Coordinator) newJob(parent context.Context, q query.Job, client string) *job {
	j := newJob(parent, newID(), q, c.cfg.Window, c.cfg.MaxAttempts)
	j.client = client
	c.log.Info("job started", "job", j.id, "client", client, "query", describe(q))
	j.metrics = c.cfg.Metrics
	j.metrics.JobStarted()
	j.maxTop = c.cfg.MaxTopMemory
	stop := context.AfterFunc(c.ctx, func() { j.fail(fmt.Errorf("coordinator is shutting down")) })
	// When the job ends, free what it holds: its queued chunks, and the hook
	// above, which would otherwise keep every job reachable until Close.
	context.AfterFunc(j.ctx, func() {
		stop()
		c.sched.drop(j)
		<-j.done // a cancel from the parent ends the job in a hook of its own
		snap := j.snapshot(false)
		c.log.Info("job ended", "job", j.id, "state", snap.State, "err", snap.Err,
			"documents", snap.Documents, "bytes", snap.Progress.BytesCounted, "elapsed", time.Since(j.created).Round(time.Millisecond))
	})
	c.jobs.add(j)
	return j
}

// chunkConfig is the chunker config for a job: long lines may be cut at
// whitespace only when no target contains whitespace, so no match can span a cut.
func (c *Coordinator) chunkConfig(q query.Job, size int) (chunk.Config, error) {
	if size == 0 {
		size = c.cfg.ChunkSize
	}
	cfg := chunk.Config{Size: size, MaxLine: c.cfg.MaxLine, SplitAtSpace: q.Spec.Top != nil || !q.Spec.Count.HasSpace()}
	if size == c.cfg.ChunkSize {
		cfg.Pool = c.buffers
	}
	if size > cfg.MaxLine {
		return cfg, fmt.Errorf("chunk size %d is above the coordinator's limit %d", size, cfg.MaxLine)
	}
	return cfg, cfg.Validate()
}

// posture is how the coordinator is secured, for ListWorkers.
func (c *Coordinator) posture() security.Posture {
	var key []byte
	if c.cfg.Cluster != nil {
		key = c.cfg.Cluster.SecretKey
	}
	return security.NewPosture(c.cfg.TLS, key, c.cfg.Insecure)
}
