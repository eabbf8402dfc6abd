package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/tallyhq/tally/security"
)

// runHealth asks a coordinator or worker for its gRPC health (grpc.health.v1),
// for container health checks: exit 0 when it serves, 1 otherwise.
func runHealth(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("health", "tally health [--addr HOST:PORT] [--service NAME] [--timeout DURATION]")
	// A server's own TALLY_LISTEN is the natural default inside its container.
	def := os.Getenv("TALLY_LISTEN")
	if def == "" {
		def = defaultListen
	}
	addr := fs.String("addr", def, "gRPC HOST:PORT of a coordinator or worker (default: $TALLY_LISTEN)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	service := fs.String("service", "", "the service to ask about, e.g. tally.v1.CoordinatorService or tally.v1.WorkerService (default: the server as a whole)")
	// Health checks need no certificate of their own (a node's own is for
	// its role, which the server checks): the CA verifies the server.
	var tlsCfg security.TLS
	fs.StringVar(&tlsCfg.CAFile, "tls-ca", "", "PEM CA certificate that signs the server's certificate (enables TLS)")
	serverName := fs.String("tls-server-name", "", "name to verify in the server's certificate (default: the host of --addr; tally-worker for workers)")
	if _, err := parse(fs, args, e.stdout); err != nil {
		return err
	}
	creds, err := tlsCfg.ClientCredentials(*serverName)
	if err != nil {
		return usageError{err.Error()}
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return usagef("--addr %q: %v", *addr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: *service})
	if err != nil {
		return fmt.Errorf("%s: not healthy: %s", *addr, status.Convert(err).Message())
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: %s", *addr, resp.GetStatus())
	}
	fmt.Fprintf(e.stdout, "%s: SERVING\n", *addr)
	return nil
}
