package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/security"
)

// runShort runs a command line in this process for at most d: a server
// that should have refused to start fails the test instead of hanging it.
func runShort(t *testing.T, d time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errOut lockedBuffer
	code := run(ctx, args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
	if ctx.Err() != nil {
		t.Fatalf("tally %s: still running after %v, want it refused", strings.Join(args, " "), d)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// devCerts writes a CA and role certificates and returns the TLS flags of role.
func devCerts(t *testing.T) func(role string) []string {
	dir := t.TempDir()
	if err := security.WriteDevCerts(dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	return func(role string) []string {
		return []string{"--tls-cert", filepath.Join(dir, role+".pem"), "--tls-key", filepath.Join(dir, role+"-key.pem"), "--tls-ca", filepath.Join(dir, "ca.pem")}
	}
}

// TestSecureByDefault: a server that other machines could reach refuses
// to start without mutual TLS and a gossip key, naming the address and
// the way out; --insecure starts it with a loud warning, shown by `tally
// cluster` too. No test server listens off loopback: a refused node never
// listens, and the started ones only advertise a TEST-NET address.
func TestSecureByDefault(t *testing.T) {
	certs := devCerts(t)
	keyFile := writeFile(t, t.TempDir(), "gossip.key", []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"))
	refused := []struct {
		name string
		args []string
		want string
	}{
		{"coordinator on all interfaces", []string{"coordinator", "--listen", "0.0.0.0:0", "--gossip", "127.0.0.1:0"}, "--listen 0.0.0.0:0 is not a loopback address"},
		{"coordinator gossip on all interfaces", []string{"coordinator", "--listen", "127.0.0.1:0", "--gossip", "0.0.0.0:0"}, "--gossip 0.0.0.0:0"},
		{"coordinator advertised off loopback", []string{"coordinator", "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0", "--gossip-advertise", "192.0.2.1:7946"}, "--gossip-advertise"},
		{"metrics off loopback", []string{"coordinator", "--listen", "127.0.0.1:0", "--gossip", "127.0.0.1:0", "--metrics-listen", "192.0.2.1:9090"}, "--metrics-listen"},
		{"TLS without a gossip key", append([]string{"coordinator", "--listen", "0.0.0.0:0", "--gossip", "127.0.0.1:0"}, certs("coordinator")...), "a gossip key"},
		{"gossip key without TLS", []string{"coordinator", "--listen", "0.0.0.0:0", "--gossip", "127.0.0.1:0", "--gossip-key-file", keyFile}, "mutual TLS"},
		{"worker on all interfaces", []string{"worker", "--join", "127.0.0.1:1", "--listen", "0.0.0.0:0"}, "--listen 0.0.0.0:0"},
		{"worker advertised off loopback", []string{"worker", "--join", "127.0.0.1:1", "--advertise", "192.0.2.1:7071"}, "--advertise"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := runShort(t, 10*time.Second, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "--insecure") {
				t.Errorf("got %v; want exit 2 and stderr naming %q and --insecure", r, tt.want)
			}
		})
	}

	t.Run("insecure", func(t *testing.T) {
		p, addr, _ := startCoordinator(t, "--gossip-advertise", "192.0.2.1:7946", "--insecure")
		waitFor(t, 5*time.Second, "the warning", func() bool { return strings.Contains(p.stderr.String(), "WARNING: coordinator runs with --insecure") })
		out := mustRun(t, "cluster", "--coordinator", addr)
		if !strings.Contains(out, "WARNING: the coordinator runs with --insecure") || !strings.Contains(out, "security: INSECURE") {
			t.Errorf("tally cluster: got\n%s\nwant the --insecure warning", out)
		}
		// A TLS client is told that this coordinator does not use TLS.
		if r := runTally(t, "", append([]string{"cluster", "--coordinator", addr}, certs("client")...)...); r.code != 1 || !strings.Contains(r.stderr, "does not use TLS: drop --tls-ca") {
			t.Errorf("TLS client: got %v, want exit 1 and a hint to drop --tls-ca", r)
		}
	})
	t.Run("secure", func(t *testing.T) {
		args := append([]string{"--gossip-advertise", "192.0.2.1:7946", "--gossip-key-file", keyFile}, certs("coordinator")...)
		p, addr, _ := startCoordinator(t, args...)
		out := mustRun(t, append([]string{"cluster", "--coordinator", addr}, certs("client")...)...)
		if !strings.Contains(out, "security: secure (mutual TLS, gossip key)") || strings.Contains(out, "WARNING") {
			t.Errorf("tally cluster: got\n%s\nwant a secure cluster and no warning", out)
		}
		if strings.Contains(p.stderr.String(), "WARNING") {
			t.Errorf("coordinator stderr: got a warning, want none:\n%s", p.stderr)
		}
		// A client without TLS is told that the coordinator may want it.
		if r := runTally(t, "", "cluster", "--coordinator", addr); r.code != 1 || !strings.Contains(r.stderr, "may require TLS: give --tls-ca") {
			t.Errorf("plaintext client: got %v, want exit 1 and a hint to use --tls-ca", r)
		}
		// Without a token, the coordinator wants a client's certificate.
		for _, role := range []string{"", "worker"} {
			flags := []string{"--tls-ca", certs("client")[5]}
			if role != "" {
				flags = certs(role)
			}
			r := runTally(t, "", append([]string{"cluster", "--coordinator", addr}, flags...)...)
			if r.code == 0 {
				t.Errorf("tally cluster with %q certificate: got exit 0, want a refusal", role)
			}
		}
	})
}

// TestTokenFile: the token comes from a file on both sides, never needs
// the command line, and a client refuses to send it in clear off loopback.
func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", []byte("s3cret\n"))
	p, addr, _ := startCoordinator(t, "--token-file", tokenFile)
	if cmdline, err := os.ReadFile("/proc/" + itoa(int64(p.cmd.Process.Pid)) + "/cmdline"); err == nil && strings.Contains(string(cmdline), "s3cret") {
		t.Errorf("the coordinator's command line shows the token: %q", cmdline)
	}
	if out := mustRun(t, "cluster", "--coordinator", addr, "--token-file", tokenFile); !strings.Contains(out, "0 workers") {
		t.Errorf("tally cluster with the token file: got %q", out)
	}
	if r := runTally(t, "", "cluster", "--coordinator", addr); r.code == 0 || !strings.Contains(r.stderr, "bearer token") {
		t.Errorf("tally cluster without the token: got %v, want a refusal for the token", r)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"both", []string{"--token", "x", "--token-file", tokenFile}, "not both"},
		{"empty file", []string{"--token-file", writeFile(t, dir, "empty", nil)}, "is empty"},
		{"missing file", []string{"--token-file", filepath.Join(dir, "nope")}, "no such file"},
		{"in clear off loopback", []string{"--token-file", tokenFile, "--coordinator", "192.0.2.1:7070"}, "refusing to send the token in clear"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"cluster", "--coordinator", addr}, tt.args...)
			r := runShort(t, 10*time.Second, args...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("got %v; want an error with %q", r, tt.want)
			}
		})
	}
}

// TestAdminListener: metrics, pprof and the status page are on their own
// listener, behind the token, never on the gRPC port, and pprof does not
// show the command line.
func TestAdminListener(t *testing.T) {
	p, addr, _ := startCoordinator(t, "--metrics-listen", "127.0.0.1:0", "--pprof", "--token", "s3cret")
	var metricsURL string
	waitFor(t, 5*time.Second, "the metrics address in the log", func() bool {
		_, rest, ok := strings.Cut(p.stderr.String(), `addr=http://`)
		if ok {
			metricsURL = "http://" + strings.Fields(rest)[0]
		}
		return ok
	})
	if code := httpGet(t, metricsURL, "s3cret"); code != 200 {
		t.Errorf("GET %s with the token: got %d, want 200", metricsURL, code)
	}
	if code := httpGet(t, metricsURL, ""); code != 401 {
		t.Errorf("GET %s without the token: got %d, want 401", metricsURL, code)
	}
	cmdline := strings.TrimSuffix(metricsURL, "/metrics") + "/debug/pprof/cmdline"
	if code := httpGet(t, cmdline, "s3cret"); code != 404 {
		t.Errorf("GET %s: got %d, want 404", cmdline, code)
	}
	if code := httpGet(t, "http://"+addr+"/metrics", "s3cret"); code == 200 {
		t.Errorf("GET /metrics on the gRPC port: got 200, want no metrics there")
	}
	status := strings.TrimSuffix(metricsURL, "/metrics") + "/status/"
	if code := httpGet(t, status, "s3cret"); code != 200 {
		t.Errorf("GET %s with the token: got %d, want 200", status, code)
	}
	if code := httpGet(t, status, ""); code != 401 {
		t.Errorf("GET %s without the token: got %d, want 401", status, code)
	}
	if code := httpGet(t, "http://"+addr+"/status/", "s3cret"); code == 200 {
		t.Errorf("GET /status/ on the gRPC port: got 200, want no page there")
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// httpGet returns the status of a GET of url with a bearer token (none
// for ""), or 0 when the request fails.
func httpGet(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
