package coordinator

import (
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/cluster"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/worker"
)

// TestSecureCluster runs a job on a cluster with TLS on every link, mutual TLS
// to the workers, a client token and gossip encryption, and checks that
// outsiders (no token, a worker with a foreign certificate, a node with the
// wrong gossip key) are kept out.
func TestSecureCluster(t *testing.T) {
	dir, otherDir := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, otherDir} {
		if err := security.WriteDevCerts(d, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	pair := func(d, name string) security.TLS {
		return security.TLS{CertFile: filepath.Join(d, name+".pem"), KeyFile: filepath.Join(d, name+"-key.pem"), CAFile: filepath.Join(dir, "ca.pem")}
	}
	key := []byte("0123456789abcdef0123456789abcdef")

	ccfg := cluster.DefaultConfig()
	ccfg.SecretKey = key
	cfg := testConfig(t)
	cfg.Cluster, cfg.TLS, cfg.Token = &ccfg, pair(dir, "coordinator"), "s3cret"
	dial, err := worker.SecureDialer(cfg.TLS, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dial = dial
	c := MustStart(t, cfg)

	startWorker := func(tls security.TLS, secret []byte, name string) {
		wcfg := worker.DefaultConfig()
		wcfg.Threads, wcfg.TLS, wcfg.Logger = 1, tls, newTestLogger(t)
		wcfg.Cluster = cluster.DefaultConfig()
		wcfg.Cluster.Join, wcfg.Cluster.SecretKey, wcfg.Cluster.NodeName = []string{c.GossipAddr()}, secret, name
		w, err := worker.Start(wcfg)
		if err != nil {
			t.Fatalf("start worker %s: %v", name, err)
		}
		t.Cleanup(func() { w.Close() })
	}
	startWorker(pair(dir, "worker"), key, "member")
	startWorker(pair(otherDir, "worker"), key, "foreign-cert")
	startWorker(pair(dir, "worker"), []byte("fedcba9876543210fedcba9876543210"), "wrong-gossip-key")

	ctx := testCtx(t, 30*time.Second)
	cl, err := client.Dial(c.Addr(), client.WithTLS(security.TLS{CAFile: filepath.Join(dir, "ca.pem")}), client.WithToken("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	waitFor(t, 15*time.Second, "the member worker to be ready", func() bool { return readyWorkers(ctx, cl)["member"] != nil })

	docs := MustReadDocs(t, "alice.txt", "zen.txt")
	q := countQ(query.Word, true, "alice", "the")
	res := MustRun(t, ctx, cl, client.Job{Query: q, ChunkSize: 4096, Documents: clientDocs(docs)})
	checkExact(t, res, q, docs)

	resp, err := cl.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range resp.GetWorkers() {
		switch w.GetName() {
		case "wrong-gossip-key":
			t.Errorf("the node with the wrong gossip key joined the cluster")
		case "foreign-cert":
			if w.GetState() == stateReady || w.GetChunksDone() > 0 {
				t.Errorf("the worker with a foreign certificate is %s with %d chunks, want it never ready", w.GetState(), w.GetChunksDone())
			}
		}
	}

	t.Run("no token", func(t *testing.T) {
		anon, err := client.Dial(c.Addr(), client.WithTLS(security.TLS{CAFile: filepath.Join(dir, "ca.pem")}))
		if err != nil {
			t.Fatal(err)
		}
		defer anon.Close()
		_, err = anon.Run(ctx, client.Job{Query: q, Documents: clientDocs(docs)}, nil)
		wantCode(t, err, codes.Unauthenticated)
		_, err = anon.Workers(ctx)
		wantCode(t, err, codes.Unauthenticated)
	})
	t.Run("plaintext", func(t *testing.T) {
		plain, err := client.Dial(c.Addr(), client.WithToken("s3cret"))
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		_, err = plain.Workers(ctx)
		wantCode(t, err, codes.Unavailable)
	})
}
