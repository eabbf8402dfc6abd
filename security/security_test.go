package security_test

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/security"
)

// mustCerts writes a development CA and certificates into a temp dir.
func mustCerts(tb testing.TB) func(name string) security.TLS {
	tb.Helper()
	dir := tb.TempDir()
	if err := security.WriteDevCerts(dir, time.Hour); err != nil {
		tb.Fatal(err)
	}
	return func(name string) security.TLS {
		t := security.TLS{CAFile: filepath.Join(dir, "ca.pem")}
		if name != "" {
			t.CertFile, t.KeyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		}
		return t
	}
}

// mustServe runs a gRPC server with health and reflection on 127.0.0.1.
func mustServe(tb testing.TB, opts ...grpc.ServerOption) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s, health.NewServer())
	reflection.Register(s)
	go s.Serve(lis)
	tb.Cleanup(s.Stop)
	return lis.Addr().String()
}

// call makes one health call and one reflection call (a stand-in for the API).
func call(tb testing.TB, addr string, opts ...grpc.DialOption) (healthErr, apiErr error) {
	tb.Helper()
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, healthErr = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	stream, err := reflectpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err == nil {
		err = stream.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}})
	}
	// Send fails with io.EOF when the server has already ended the stream
	// (refused it): Recv returns the status it ended with.
	if err == nil || errors.Is(err, io.EOF) {
		_, err = stream.Recv()
	}
	return healthErr, err
}

func TestToken(t *testing.T) {
	unary, stream := security.Policy{Token: "s3cret"}.Interceptors()
	addr := mustServe(t, grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream))
	plain := security.TLS{}
	creds, _ := plain.ClientCredentials("")
	tests := []struct {
		name  string
		token string
		want  codes.Code
	}{
		{"no token", "", codes.Unauthenticated},
		{"wrong token", "s3cre", codes.Unauthenticated},
		{"longer token", "s3cret!", codes.Unauthenticated},
		{"right token", "s3cret", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
			if tt.token != "" {
				opts = append(opts, grpc.WithPerRPCCredentials(security.TokenCredentials{Token: tt.token}))
			}
			healthErr, apiErr := call(t, addr, opts...)
			if healthErr != nil {
				t.Errorf("health: got %v, want no error (health checks need no token)", healthErr)
			}
			if got := status.Code(apiErr); got != tt.want {
				t.Errorf("got %v (%v), want %v", got, apiErr, tt.want)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	certs := mustCerts(t)
	other := mustCerts(t)
	serverCreds, err := certs("coordinator").ServerCredentials(false)
	if err != nil {
		t.Fatal(err)
	}
	addr := mustServe(t, grpc.Creds(serverCreds))
	for _, tt := range []struct {
		name   string
		client security.TLS
		ok     bool
	}{
		{"right CA", certs(""), true},
		{"wrong CA", other(""), false},
		{"plaintext", security.TLS{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := tt.client.ClientCredentials("")
			if err != nil {
				t.Fatal(err)
			}
			healthErr, _ := call(t, addr, grpc.WithTransportCredentials(creds))
			if (healthErr == nil) != tt.ok {
				t.Errorf("got %v, want success %t", healthErr, tt.ok)
			}
		})
	}
}

func TestMutualTLS(t *testing.T) {
	certs := mustCerts(t)
	other := mustCerts(t)
	serverCreds, err := certs("worker").ServerCredentials(true, security.RoleCoordinator)
	if err != nil {
		t.Fatal(err)
	}
	addr := mustServe(t, grpc.Creds(serverCreds))
	for _, tt := range []struct {
		name   string
		client security.TLS
		ok     bool
	}{
		{"cluster member", certs("coordinator"), true},
		{"no client certificate", certs(""), false},
		{"a client's certificate", certs("client"), false},
		{"a worker's certificate", certs("worker"), false},
		{"certificate from another CA", security.TLS{CAFile: certs("").CAFile, CertFile: other("client").CertFile, KeyFile: other("client").KeyFile}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := tt.client.ClientCredentials(security.WorkerServerName)
			if err != nil {
				t.Fatal(err)
			}
			healthErr, _ := call(t, addr, grpc.WithTransportCredentials(creds))
			if (healthErr == nil) != tt.ok {
				t.Errorf("got %v, want success %t", healthErr, tt.ok)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	certs := mustCerts(t)
	for name, cfg := range map[string]security.TLS{
		"cert without key": {CertFile: certs("worker").CertFile},
		"missing file":     {CertFile: "/nonexistent.pem", KeyFile: "/nonexistent-key.pem"},
		"mTLS without CA":  {CertFile: certs("worker").CertFile, KeyFile: certs("worker").KeyFile},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := cfg.ServerCredentials(true); err == nil {
				t.Error("got no error, want one")
			}
		})
	}
	if _, err := (security.TLS{CAFile: certs("worker").KeyFile}).ClientCredentials(""); err == nil {
		t.Error("a CA file without a certificate: got no error, want one")
	}
}

// TestServerRole checks that a client that expects a worker (the
// coordinator) refuses a server whose certificate names another role.
func TestServerRole(t *testing.T) {
	certs := mustCerts(t)
	for _, tt := range []struct {
		server string
		ok     bool
	}{{"worker", true}, {"coordinator", false}} {
		t.Run(tt.server, func(t *testing.T) {
			serverCreds, err := certs(tt.server).ServerCredentials(false)
			if err != nil {
				t.Fatal(err)
			}
			addr := mustServe(t, grpc.Creds(serverCreds))
			creds, err := certs("coordinator").ClientCredentials(security.WorkerServerName, security.RoleWorker)
			if err != nil {
				t.Fatal(err)
			}
			healthErr, _ := call(t, addr, grpc.WithTransportCredentials(creds))
			if (healthErr == nil) != tt.ok {
				t.Errorf("got %v, want success %t", healthErr, tt.ok)
			}
		})
	}
}

func TestPostureCheck(t *testing.T) {
	for _, tt := range []struct {
		name    string
		posture security.Posture
		addr    string
		ok      bool
	}{
		{"loopback", security.Posture{}, "127.0.0.1:7070", true},
		{"localhost", security.Posture{}, "localhost:7070", true},
		{"ipv6 loopback", security.Posture{}, "[::1]:7070", true},
		{"all interfaces", security.Posture{}, "0.0.0.0:7070", false},
		{"empty host", security.Posture{}, ":7070", false},
		{"a name", security.Posture{}, "coordinator:7070", false},
		{"TLS without key", security.Posture{TLS: true}, "10.0.0.1:7070", false},
		{"key without TLS", security.Posture{GossipKey: true}, "10.0.0.1:7070", false},
		{"secure", security.Posture{TLS: true, GossipKey: true}, "10.0.0.1:7070", true},
		{"insecure", security.Posture{Insecure: true}, "0.0.0.0:7070", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.posture.Check(security.Exposed{Flag: "--listen", Addr: tt.addr})
			if (err == nil) != tt.ok {
				t.Errorf("Check(%s): got %v, want ok %t", tt.addr, err, tt.ok)
			}
		})
	}
}
