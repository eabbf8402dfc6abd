package worker

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/cluster"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire/taskwire"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// countTask is a small count task of job j.
func countTask(j string) *tallyv1.Task {
	q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"a"}}}}
	return taskwire.TaskToProto(task.Task{JobID: j, ChunkID: 1, Query: q, Data: []byte("a b a\n")})
}

// TestSessionMustProveKey: on a worker with a gossip key, a session that
// brings no nonce, or answers the hello with a wrong proof, is refused
// before any task is counted; the right proof opens it.
func TestSessionMustProveKey(t *testing.T) {
	const addr = "10.0.0.7:7071" // as the worker advertises it
	c := MustServe(t, NewServer("w", NewEngine(1), ServerOptions{GossipKey: testKey, Address: addr}))
	open := func(nonce []byte) (tallyv1.WorkerService_ProcessClient, *tallyv1.ProcessResponse, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		if nonce != nil {
			ctx = metadata.AppendToOutgoingContext(ctx, NonceHeader, string(nonce))
		}
		s, err := c.Process(ctx)
		if err != nil {
			return nil, nil, err
		}
		m, err := s.Recv()
		return s, m, err
	}
	t.Run("no nonce", func(t *testing.T) {
		_, _, err := open(nil)
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("got %v, want Unauthenticated", err)
		}
	})
	key := security.LinkKey(testKey)
	for _, tt := range []struct {
		name  string
		proof func(h *tallyv1.WorkerHello) []byte
		ok    bool
	}{
		{"no proof", func(*tallyv1.WorkerHello) []byte { return nil }, false},
		{"proof under another key", func(h *tallyv1.WorkerHello) []byte {
			return security.Prove(security.LinkKey([]byte("fedcba9876543210")), security.ProofCoordinator, h.GetNonce(), h.GetName(), addr)
		}, false},
		{"the worker's own proof replayed", func(h *tallyv1.WorkerHello) []byte { return h.GetProof() }, false},
		{"proof for another address (relayed)", func(h *tallyv1.WorkerHello) []byte {
			return security.Prove(key, security.ProofCoordinator, h.GetNonce(), h.GetName(), "10.0.0.9:7071")
		}, false},
		{"right proof", func(h *tallyv1.WorkerHello) []byte {
			return security.Prove(key, security.ProofCoordinator, h.GetNonce(), h.GetName(), addr)
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nonce := security.Nonce()
			s, m, err := open(nonce)
			if err != nil {
				t.Fatal(err)
			}
			h := m.GetHello()
			if !security.VerifyProof(key, h.GetProof(), security.ProofWorker, nonce, "w", addr) {
				t.Fatalf("the hello does not prove the key for its address")
			}
			if security.VerifyProof(key, h.GetProof(), security.ProofWorker, nonce, "w", "10.0.0.9:7071") {
				t.Fatalf("the hello proves the key for another address")
			}
			if err := s.Send(&tallyv1.ProcessRequest{Proof: tt.proof(h)}); err != nil {
				t.Fatal(err)
			}
			if err := s.Send(&tallyv1.ProcessRequest{Task: countTask("j")}); err != nil && tt.ok {
				t.Fatal(err)
			}
			m, err = s.Recv()
			if tt.ok {
				if err != nil || m.GetResult().GetError() != "" {
					t.Errorf("got %v %v, want a result", m, err)
				}
				return
			}
			if status.Code(err) != codes.PermissionDenied || m != nil {
				t.Errorf("got %v, %v; want PermissionDenied and no result", m, err)
			}
		})
	}
}

// TestMaxSessions: a worker refuses sessions beyond its limit, and takes
// one again when another ends.
func TestMaxSessions(t *testing.T) {
	c := MustServe(t, NewServer("w", NewEngine(1), ServerOptions{MaxSessions: 2}))
	var cancels []context.CancelFunc
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		cancels = append(cancels, cancel)
		s, err := c.Process(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Recv()
		if i < 2 && err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
		if i == 2 && status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("session 3: got %v, want ResourceExhausted", err)
		}
	}
	cancels[0]()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		s, err := c.Process(ctx)
		if err == nil {
			if _, err = s.Recv(); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session after one ended: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWorkerTLSRoles: a worker with mutual TLS answers health checks from
// anyone who trusts its CA, opens sessions only for a coordinator's
// certificate, and takes no client's or worker's certificate.
func TestWorkerTLSRoles(t *testing.T) {
	dir := t.TempDir()
	if err := security.WriteDevCerts(dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	pair := func(role string) security.TLS {
		p := security.TLS{CAFile: filepath.Join(dir, "ca.pem")}
		if role != "" {
			p.CertFile, p.KeyFile = filepath.Join(dir, role+".pem"), filepath.Join(dir, role+"-key.pem")
		}
		return p
	}
	cfg := DefaultConfig()
	cfg.Threads, cfg.TLS = 1, pair("worker")
	cfg.Cluster = cluster.DefaultConfig()
	w, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	for _, tt := range []struct {
		role            string
		health, session bool
	}{
		{"", true, false},
		{"client", false, false},
		{"worker", false, false},
		{"coordinator", true, true},
	} {
		t.Run("as "+tt.role, func(t *testing.T) {
			creds, err := pair(tt.role).ClientCredentials(security.WorkerServerName, security.RoleWorker)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := grpc.NewClient(w.Addr(), grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			if (err == nil) != tt.health {
				t.Errorf("health: got %v, want success %t", err, tt.health)
			}
			s, err := tallyv1.NewWorkerServiceClient(conn).Process(ctx)
			if err == nil {
				_, err = s.Recv()
			}
			if (err == nil) != tt.session {
				t.Errorf("session: got %v, want success %t", err, tt.session)
			}
		})
	}
}

// TestUnprovenSessionsTakeNoSlot: sessions that open and never prove the
// key do not take the slots of proven ones, and a first request that
// carries a task besides the proof is refused.
func TestUnprovenSessionsTakeNoSlot(t *testing.T) {
	const addr = "10.0.0.7:7071"
	c := MustServe(t, NewServer("w", NewEngine(1), ServerOptions{GossipKey: testKey, MaxSessions: 2, Address: addr}))
	key := security.LinkKey(testKey)
	open := func() (tallyv1.WorkerService_ProcessClient, *tallyv1.WorkerHello) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		s, err := c.Process(metadata.AppendToOutgoingContext(ctx, NonceHeader, string(security.Nonce())))
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return s, m.GetHello()
	}
	for range 4 {
		open() // never proves
	}
	for i := range 2 {
		s, h := open()
		if err := s.Send(&tallyv1.ProcessRequest{Proof: security.Prove(key, security.ProofCoordinator, h.GetNonce(), "w", addr)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Send(&tallyv1.ProcessRequest{Task: countTask("j")}); err != nil {
			t.Fatal(err)
		}
		if m, err := s.Recv(); err != nil || m.GetResult() == nil {
			t.Fatalf("proven session %d beside 4 unproven ones: got %v, %v; want a result", i+1, m, err)
		}
	}
	s, h := open()
	if err := s.Send(&tallyv1.ProcessRequest{Proof: security.Prove(key, security.ProofCoordinator, h.GetNonce(), "w", addr), Task: countTask("j")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a task in the proof's request: got %v, want InvalidArgument", err)
	}
}
