package metrics_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/security"
)

// TestAdminListenerCredentials serves metrics as a node does off loopback
// (HTTPS with the node's certificate) and checks who gets in: a client
// certificate from the cluster's CA or the bearer token, nobody else; and
// that pprof never serves the command line, which may hold secrets.
func TestAdminListenerCredentials(t *testing.T) {
	dir := t.TempDir()
	if err := security.WriteDevCerts(dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	pair := func(role string) security.TLS {
		return security.TLS{CertFile: filepath.Join(dir, role+".pem"), KeyFile: filepath.Join(dir, role+"-key.pem"), CAFile: filepath.Join(dir, "ca.pem")}
	}
	serverTLS, err := pair("coordinator").ServerConfig(false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := metrics.New(metrics.Coordinator).Serve(ctx, "127.0.0.1:0", metrics.ServeOptions{Pprof: true, TLS: serverTLS, Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	clientTLS := func(role string) *tls.Config {
		t.Helper()
		p := pair(role)
		if role == "" {
			p.CertFile, p.KeyFile = "", ""
		}
		cfg := &tls.Config{ServerName: "127.0.0.1"}
		pool, err := security.CAPool(p.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RootCAs = pool
		if p.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		return cfg
	}
	do := func(method, path string, cfg *tls.Config, token string) int {
		t.Helper()
		req, _ := http.NewRequest(method, "https://"+addr+path, nil)
		if password, ok := strings.CutPrefix(token, "basic:"); ok {
			req.SetBasicAuth("anyone", password)
		} else if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	get := func(path string, cfg *tls.Config, token string) int { return do("GET", path, cfg, token) }
	for _, tt := range []struct {
		name, role, token string
		want              int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong token", "", "guess", http.StatusUnauthorized},
		{"token", "", "s3cret", http.StatusOK},
		{"token as a browser's basic password", "", "basic:s3cret", http.StatusOK},
		{"wrong basic password", "", "basic:guess", http.StatusUnauthorized},
		{"client certificate", "client", "", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := get("/metrics", clientTLS(tt.role), tt.token); got != tt.want {
				t.Errorf("GET /metrics: got %d, want %d", got, tt.want)
			}
		})
	}
	// Reading is open to every member with a client-auth certificate (a
	// worker's is for servers only); changing state (a POST: the status
	// page's cancel) takes a client certificate or the token, as the API.
	// /metrics answers a POST as a GET once the guard lets it through.
	for _, tt := range []struct {
		name, role, token string
		want              int
	}{
		{"coordinator certificate reads", "coordinator", "", http.StatusOK},
	} {
		if got := get("/metrics", clientTLS(tt.role), tt.token); got != tt.want {
			t.Errorf("%s: GET /metrics: got %d, want %d", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct {
		name, role, token string
		want              int
	}{
		{"coordinator certificate", "coordinator", "", http.StatusForbidden},
		{"client certificate", "client", "", http.StatusOK},
		{"coordinator certificate and the token", "coordinator", "s3cret", http.StatusOK},
		{"no credentials", "", "", http.StatusUnauthorized},
	} {
		if got := do("POST", "/metrics", clientTLS(tt.role), tt.token); got != tt.want {
			t.Errorf("%s: POST /metrics: got %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := get("/debug/pprof/cmdline", clientTLS("client"), ""); got != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/cmdline: got %d, want 404 (the command line may hold secrets)", got)
	}
	if got := get("/debug/pprof/", clientTLS("client"), ""); got != http.StatusOK {
		t.Errorf("GET /debug/pprof/: got %d, want 200", got)
	}
}
