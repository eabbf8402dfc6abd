// Package cluster tells tally's nodes about each other, over hashicorp/memberlist
// gossip.
//
// The coordinator and every worker run a Node. Each advertises a Meta (its role
// and the address of its gRPC server) and sees the Members that are up, so a
// coordinator finds its workers without a static list, and a worker may start
// before the coordinator: it keeps trying to join in the background.
//
// Membership is a hint, not a verdict: memberlist takes seconds to declare an
// unclean death (NOTES.md), so the coordinator must also treat a failed RPC as
// a lost worker.
package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// Roles a node advertises in Meta.Role.
const (
	RoleCoordinator = "coordinator"
	RoleWorker      = "worker"
)

// DefaultPort is the conventional gossip port (memberlist's own default). A Join
// address without a port means this port.
const DefaultPort = 7946

// Meta is what a node advertises in memberlist node metadata, encoded as JSON.
// The encoding must fit memberlist's 512-byte limit.
type Meta struct {
	// Role is RoleCoordinator, RoleWorker or another non-empty role.
	Role string `json:"role"`
	// GRPCAddr is the host:port where the node serves gRPC.
	GRPCAddr string `json:"grpc"`
	// Cores is how many chunks a worker counts at once; 0 means unknown.
	Cores int `json:"cores,omitempty"`
	// SharedRoot is the shared volume a worker reads file:// refs in, if any.
	// It and S3 tell any member what a worker reads; the coordinator
	// dispatches by what the worker's own session says (its hello), which
	// also covers workers outside gossip.
	SharedRoot string `json:"shared,omitempty"`
	// S3 says a worker can read s3:// refs.
	S3 bool `json:"s3,omitempty"`
	// Insecure says the node runs off loopback without TLS or a gossip key
	// on purpose (--insecure), for `tally cluster` to warn about.
	Insecure bool `json:"insecure,omitempty"`
}

// StateAlive is the State of every Member that Members lists.
const StateAlive = "alive"

// Member is a node of the cluster as this node sees it.
type Member struct {
	// Name is the node's unique name.
	Name string
	// Addr is the node's gossip address, host:port.
	Addr string
	// Meta is what the node advertises; it is empty when the node's metadata
	// could not be parsed.
	Meta Meta
	// State is StateAlive. memberlist does not report suspicion through its
	// API, so a suspect node is listed as alive until it is declared dead, and
	// dead or left nodes are not listed at all.
	State string
}

// Config configures a Node. Start validates it.
type Config struct {
	// NodeName must be unique in the cluster. "" means "<role>-<hostname>-<port>",
	// with the gossip port actually bound.
	NodeName string
	// BindAddr is the IP address to listen on for gossip (TCP and UDP).
	BindAddr string
	// BindPort is the gossip port; 0 picks a free port.
	BindPort int
	// AdvertiseAddr is the IP address other nodes use to reach this one. ""
	// means BindAddr, or a private IP of this host when BindAddr is 0.0.0.0.
	AdvertiseAddr string
	// AdvertisePort is the port other nodes use to reach this one; 0 means the
	// bound port.
	AdvertisePort int
	// Join lists gossip addresses (host:port, or host for DefaultPort) of any
	// members. The node joins them in the background, retrying with backoff
	// until one answers or the node leaves.
	Join []string
	// RejoinInterval is how often, after the first successful join, the node
	// joins the Join addresses again. A rejoin to known nodes is a cheap state
	// sync, and it brings back a seed that restarted and lost its member list
	// (the coordinator, usually). 0 turns rejoining off.
	RejoinInterval time.Duration
	// Meta is what this node advertises; UpdateMeta changes it.
	Meta Meta
	// SecretKey, if set, encrypts gossip (AES with a 16, 24 or 32-byte key).
	// Nodes with different keys cannot join each other.
	SecretKey []byte
	// Logger receives memberlist's own log lines at debug level, and this
	// package's join attempts. nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns a Config that listens on 127.0.0.1 on a free port and
// joins no one. Callers set the addresses and Meta they need.
func DefaultConfig() Config {
	return Config{
		BindAddr:       "127.0.0.1",
		RejoinInterval: 5 * time.Second,
	}
}

// Validate reports whether c can be used by Start.
func (c Config) Validate() error {
	if net.ParseIP(c.BindAddr) == nil {
		return fmt.Errorf("bind address %q: not an IP address", c.BindAddr)
	}
	if c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil {
		return fmt.Errorf("advertise address %q: not an IP address", c.AdvertiseAddr)
	}
	if err := checkPort(c.BindPort); err != nil {
		return fmt.Errorf("bind port: %w", err)
	}
	if err := checkPort(c.AdvertisePort); err != nil {
		return fmt.Errorf("advertise port: %w", err)
	}
	for _, j := range c.Join {
		if strings.TrimSpace(j) == "" {
			return errors.New("join address: empty")
		}
	}
	if c.RejoinInterval < 0 {
		return fmt.Errorf("rejoin interval %v: negative", c.RejoinInterval)
	}
	switch len(c.SecretKey) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("secret key: %d bytes, want 16, 24 or 32", len(c.SecretKey))
	}
	if _, err := encodeMeta(c.Meta); err != nil {
		return err
	}
	return nil
}

func checkPort(p int) error {
	if p < 0 || p > 65535 {
		return fmt.Errorf("%d: out of range 0..65535", p)
	}
	return nil
}

// encodeMeta checks m and encodes it for memberlist.
func encodeMeta(m Meta) ([]byte, error) {
	if m.Role == "" {
		return nil, errors.New("meta: empty role")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode meta: %w", err)
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("meta: %d bytes encoded, want at most %d", len(b), memberlist.MetaMaxSize)
	}
	return b, nil
}

// decodeMeta parses another node's metadata leniently: a node that advertises
// something else is listed with an empty Meta rather than breaking the view.
func decodeMeta(b []byte) Meta {
	var m Meta
	if json.Unmarshal(b, &m) != nil {
		return Meta{}
	}
	return m
}

// joinAddrs adds DefaultPort to addresses that have no port, so a bare host
// does not fall back to this node's own (possibly random) port, as memberlist
// would.
func joinAddrs(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		a = strings.TrimSpace(a)
		if _, _, err := net.SplitHostPort(a); err != nil {
			a = net.JoinHostPort(strings.Trim(a, "[]"), fmt.Sprint(DefaultPort))
		}
		out[i] = a
	}
	return out
}
