package coordinator

import (
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/internal/forger"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/worker"
)

// rogue is a process that is not a worker of the cluster but poses as one:
// a forger, advertised at addr by a memberlist member of its own.
type rogue struct {
	name  string
	addr  string
	tasks atomic.Int64 // tasks it received
}

// startRogue serves a rogue WorkerService with creds and, when join is
// set, makes it a memberlist member with gossip key key (nil: none).
func startRogue(tb testing.TB, name string, creds credentials.TransportCredentials, join string, key []byte) *rogue {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	r := &rogue{name: name, addr: lis.Addr().String()}
	s := grpc.NewServer(grpc.Creds(creds), grpc.MaxRecvMsgSize(task.MaxMessageBytes))
	tallyv1.RegisterWorkerServiceServer(s, &forger.Forger{Name: name, Tasks: &r.tasks})
	go s.Serve(lis)
	tb.Cleanup(s.Stop)
	if join == "" {
		return r
	}
	ccfg := cluster.DefaultConfig()
	ccfg.NodeName, ccfg.Join, ccfg.SecretKey = name, []string{join}, key
	ccfg.Meta = cluster.Meta{Role: cluster.RoleWorker, GRPCAddr: r.addr, Cores: 2}
	node, err := cluster.Start(ccfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { node.Leave(time.Second) })
	return r
}

// TestRogueMembers runs jobs on clusters where a stranger poses as a
// worker: it joins without the gossip key or with a wrong one, holds the
// key but not a worker's certificate, presents a client's or a
// coordinator's certificate, or takes the port of a member whose
// membership is still alive (a worker that died: the key-only cluster
// binds links to the key, the TLS cluster to the worker role). Each time
// the stranger gets no task and every count is exact.
func TestRogueMembers(t *testing.T) {
	dir := t.TempDir()
	if err := security.WriteDevCerts(dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	pair := func(role string) security.TLS {
		return security.TLS{CertFile: filepath.Join(dir, role+".pem"), KeyFile: filepath.Join(dir, role+"-key.pem"), CAFile: filepath.Join(dir, "ca.pem")}
	}
	serverCreds := func(role string) credentials.TransportCredentials {
		c, err := pair(role).ServerCredentials(false)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	wrongKey := []byte("fedcba9876543210fedcba9876543210")
	plain := insecure.NewCredentials()

	for _, tt := range []struct {
		name  string
		tls   bool // the cluster has mutual TLS (and the key)
		rogue func(t *testing.T, join string) *rogue
	}{
		{"no gossip key", true, func(t *testing.T, join string) *rogue { return startRogue(t, "rogue", plain, join, nil) }},
		{"wrong gossip key", true, func(t *testing.T, join string) *rogue { return startRogue(t, "rogue", plain, join, wrongKey) }},
		{"key without a worker certificate", true, func(t *testing.T, join string) *rogue { return startRogue(t, "rogue", plain, join, key) }},
		{"key and a client certificate", true, func(t *testing.T, join string) *rogue {
			return startRogue(t, "rogue", serverCreds("client"), join, key)
		}},
		{"key and a coordinator certificate", true, func(t *testing.T, join string) *rogue {
			return startRogue(t, "rogue", serverCreds("coordinator"), join, key)
		}},
		{"port taken in a key-only cluster", false, func(t *testing.T, join string) *rogue {
			// The member is the cluster's (it holds the key); the server at
			// its address is not: it cannot prove the key.
			return startRogue(t, "dead-worker", plain, join, key)
		}},
		{"port taken in a TLS cluster", true, func(t *testing.T, join string) *rogue {
			return startRogue(t, "dead-worker", plain, join, key)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var tlsCfg security.TLS
			if tt.tls {
				tlsCfg = pair("coordinator")
			}
			ccfg := cluster.DefaultConfig()
			ccfg.SecretKey = key
			cfg := testConfig(t)
			cfg.Cluster, cfg.TLS, cfg.Token = &ccfg, tlsCfg, "s3cret"
			dial, err := worker.SecureDialer(tlsCfg, key)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Dial = dial
			c := MustStart(t, cfg)

			wcfg := worker.DefaultConfig()
			wcfg.Threads, wcfg.Logger = 1, newTestLogger(t)
			if tt.tls {
				wcfg.TLS = pair("worker")
			}
			wcfg.Cluster = cluster.DefaultConfig()
			wcfg.Cluster.Join, wcfg.Cluster.SecretKey, wcfg.Cluster.NodeName = []string{c.GossipAddr()}, key, "member"
			w, err := worker.Start(wcfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			r := tt.rogue(t, c.GossipAddr())

			ctx := testCtx(t, 60*time.Second)
			opts := []client.Option{client.WithToken("s3cret")}
			if tt.tls {
				opts = append(opts, client.WithTLS(security.TLS{CAFile: filepath.Join(dir, "ca.pem")}))
			}
			cl, err := client.Dial(c.Addr(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cl.Close() })
			waitFor(t, 15*time.Second, "the member worker to be ready", func() bool { return readyWorkers(ctx, cl)["member"] != nil })
			// Give the rogue the time to join and be dialled.
			time.Sleep(500 * time.Millisecond)

			docs := MustReadDocs(t, "alice.txt", "zen.txt")
			q := countQ(query.Word, true, "alice", "the")
			for range 3 {
				res := MustRun(t, ctx, cl, client.Job{Query: q, ChunkSize: 2048, Documents: clientDocs(docs)})
				checkExact(t, res, q, docs)
			}
			if n := r.tasks.Load(); n > 0 {
				t.Errorf("the rogue received %d tasks, want none", n)
			}
			if ready := readyWorkers(ctx, cl); ready[r.name] != nil {
				t.Errorf("the rogue %q is a ready worker", r.name)
			}
		})
	}
}
