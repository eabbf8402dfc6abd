package cluster

import (
	"cmp"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

const (
	// A failed join is retried after joinBackoffMin, doubling up to
	// joinBackoffMax: a worker that starts first finds the coordinator within
	// seconds of its start, without hammering it.
	joinBackoffMin = 250 * time.Millisecond
	joinBackoffMax = 5 * time.Second

	// deadNodeReclaimTime lets a node that died be replaced by one with the same
	// name and a new address (a restarted container) after this long, instead
	// of being refused as a conflict forever. memberlist's default is never.
	deadNodeReclaimTime = time.Second

	// suspicionMaxTimeoutMult bounds how long a suspect node may take to be
	// declared dead, as a multiple of memberlist's base suspicion timeout.
	suspicionMaxTimeoutMult = 2

	// updateTimeout bounds how long UpdateMeta waits for its broadcast.
	updateTimeout = 5 * time.Second

	// closeTimeout is the leave timeout Close uses.
	closeTimeout = 2 * time.Second

	// msgJoinFailed is logged when a join attempt fails (tests count it).
	msgJoinFailed = "join cluster failed"
)

// Node is this process's membership in the cluster. Its methods are safe for
// concurrent use.
type Node struct {
	ml   *memberlist.Memberlist
	name string
	addr string // advertised gossip address
	log  *slog.Logger
	meta *metaDelegate
	view *view

	stop  chan struct{}  // closed by Leave: ends the join loop
	loops sync.WaitGroup // the join loop

	// mu guards left and leaveErr. UpdateMeta holds it during its broadcast so
	// that Leave never shuts memberlist down under it.
	mu       sync.Mutex
	left     bool
	leaveErr error
}

// Start validates cfg, starts gossip on cfg.BindAddr:cfg.BindPort and, when
// cfg.Join is set, starts joining the cluster in the background. It returns
// without waiting for the join; watch Changes or Members for the result.
func Start(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("start cluster node: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	stdlog := stdLogger(cfg.Logger)
	nt, err := listen(cfg, stdlog)
	if err != nil {
		return nil, fmt.Errorf("start cluster node: %w", err)
	}
	n, err := start(cfg, nt, logger, stdlog)
	if err != nil {
		_ = nt.Shutdown() // memberlist shuts it down only on some of its errors
		return nil, fmt.Errorf("start cluster node: %w", err)
	}
	if len(cfg.Join) > 0 {
		n.loops.Add(1)
		go n.joinLoop(joinAddrs(cfg.Join), cfg.RejoinInterval)
	}
	return n, nil
}

// listen binds the gossip transport first, so that the default node name can
// include the port actually bound.
func listen(cfg Config, l *log.Logger) (*memberlist.NetTransport, error) {
	nc := &memberlist.NetTransportConfig{BindAddrs: []string{cfg.BindAddr}, BindPort: cfg.BindPort, Logger: l}
	// With port 0, TCP picks the port and UDP must get the same one, which
	// another process may hold: try a few ports, as memberlist does.
	tries := 1
	if cfg.BindPort == 0 {
		tries = 10
	}
	var err error
	for range tries {
		var nt *memberlist.NetTransport
		if nt, err = memberlist.NewNetTransport(nc); err == nil {
			return nt, nil
		}
	}
	return nil, fmt.Errorf("listen for gossip on %s: %w",
		net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort)), err)
}

// start creates the memberlist over the bound transport nt.
func start(cfg Config, nt *memberlist.NetTransport, logger *slog.Logger, stdlog *log.Logger) (*Node, error) {
	port := nt.GetAutoBindPort()
	name := cfg.NodeName
	if name == "" {
		name = defaultName(cfg.Meta.Role, port)
	}
	// Fix the advertised address now; memberlist would ignore AdvertisePort
	// without AdvertiseAddr.
	ip, _, err := nt.FinalAdvertiseAddr(cfg.AdvertiseAddr, 0)
	if err != nil {
		return nil, fmt.Errorf("choose advertise address: %w", err)
	}
	advPort := cmp.Or(cfg.AdvertisePort, port)
	meta, err := encodeMeta(cfg.Meta)
	if err != nil {
		return nil, err
	}
	n := &Node{
		name: name,
		addr: net.JoinHostPort(ip.String(), strconv.Itoa(advPort)),
		log:  logger.With("node", name),
		meta: &metaDelegate{meta: meta},
		view: newView(),
		stop: make(chan struct{}),
	}

	// memberlist's LAN timings suit tally as they are (gossip every 200 ms,
	// probe every 1 s); only the reclaim time changes.
	mc := memberlist.DefaultLANConfig()
	mc.Name = name
	mc.Transport = nt
	mc.BindAddr, mc.BindPort = cfg.BindAddr, port
	mc.AdvertiseAddr, mc.AdvertisePort = ip.String(), advPort
	mc.SecretKey = slices.Clone(cfg.SecretKey)
	mc.Delegate = n.meta
	mc.Events = n.view
	mc.Logger = stdlog
	mc.DeadNodeReclaimTime = deadNodeReclaimTime
	// A small cluster rarely has the independent confirmations that shorten
	// suspicion, so memberlist's default (up to 6× the base timeout, ~24 s)
	// would apply in full; on a LAN 2× (4–8 s) declares a dead node promptly.
	mc.SuspicionMaxTimeoutMult = suspicionMaxTimeoutMult
	if n.ml, err = memberlist.Create(mc); err != nil {
		return nil, fmt.Errorf("create memberlist: %w", err)
	}
	return n, nil
}

func defaultName(role string, port int) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%s-%s-%d", role, host, port)
}

// joinLoop joins the seeds, retrying with backoff until one answers, then
// rejoins them every rejoin (if > 0), until Leave.
func (n *Node) joinLoop(seeds []string, rejoin time.Duration) {
	defer n.loops.Done()
	delay := joinBackoffMin
	for attempt := 1; ; attempt++ {
		contacted, err := n.ml.Join(seeds)
		if err == nil {
			n.log.Info("joined cluster", "seeds", seeds, "contacted", contacted, "attempt", attempt)
			break
		}
		n.log.Warn(msgJoinFailed, "seeds", seeds, "attempt", attempt, "retry_in", delay, "err", err)
		if !n.sleep(jitter(delay)) {
			return
		}
		delay = min(2*delay, joinBackoffMax)
	}
	for rejoin > 0 && n.sleep(rejoin) {
		if _, err := n.ml.Join(seeds); err != nil {
			n.log.Debug("rejoin cluster failed", "seeds", seeds, "err", err)
		}
	}
}

// jitter spreads d by ±20% so that workers started together do not retry in step.
func jitter(d time.Duration) time.Duration {
	return d * time.Duration(80+rand.IntN(41)) / 100
}

// sleep waits d and reports true, or reports false as soon as Leave begins.
func (n *Node) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-n.stop:
		return false
	case <-t.C:
		return true
	}
}

// Name returns this node's name in the cluster.
func (n *Node) Name() string { return n.name }

// GossipAddr returns the host:port other nodes can join this node at (the
// advertised address, with the port actually bound).
func (n *Node) GossipAddr() string { return n.addr }

// Members returns the live members this node knows of, itself included (until
// it leaves), sorted by name.
func (n *Node) Members() []Member { return n.view.list() }

// Changes returns a channel that receives a value whenever a member joins,
// leaves or changes its Meta. Signals are coalesced: one pending value stands
// for any number of changes, so read Members after each. A signal is pending
// right after Start (the node's own join). memberlist is never blocked by a
// slow reader.
func (n *Node) Changes() <-chan struct{} { return n.view.changes }

// UpdateMeta advertises m in place of the current Meta. It waits up to 5 s for
// the broadcast to go out; if that times out the error says so, but the new
// Meta still spreads by gossip.
func (n *Node) UpdateMeta(m Meta) error {
	b, err := encodeMeta(m)
	if err != nil {
		return fmt.Errorf("update meta of %s: %w", n.name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.left {
		return fmt.Errorf("update meta of %s: node has left the cluster", n.name)
	}
	n.meta.set(b)
	if err := n.ml.UpdateNode(updateTimeout); err != nil {
		return fmt.Errorf("update meta of %s: %w", n.name, err)
	}
	return nil
}

// Leave tells the cluster this node is leaving, waiting up to timeout for the
// message to go out (0 waits without limit), then shuts gossip down. It first
// stops the join loop, which may take until a join attempt in flight times out
// (memberlist's TCPTimeout, 10 s, when a seed does not answer at all). Leave is
// safe to call more than once; later calls return the first call's result.
func (n *Node) Leave(timeout time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.left {
		return n.leaveErr
	}
	n.left = true
	close(n.stop)
	n.loops.Wait()
	var errs []error
	if err := n.ml.Leave(timeout); err != nil {
		errs = append(errs, fmt.Errorf("leave cluster as %s: %w", n.name, err))
	}
	if err := n.ml.Shutdown(); err != nil {
		errs = append(errs, fmt.Errorf("shut down gossip of %s: %w", n.name, err))
	}
	n.leaveErr = errors.Join(errs...)
	return n.leaveErr
}

// Close is Leave with a short timeout (2 s).
func (n *Node) Close() error { return n.Leave(closeTimeout) }
