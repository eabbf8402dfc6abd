package s3

import (
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/s3test"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"empty", nil, Config{}},
		{"all", map[string]string{
			"AWS_ENDPOINT_URL":      "http://minio:9000",
			"AWS_ACCESS_KEY_ID":     "AK",
			"AWS_SECRET_ACCESS_KEY": "SK",
			"AWS_SESSION_TOKEN":     "TOKEN",
			"AWS_REGION":            "eu-west-3",
			"AWS_CA_BUNDLE":         "/etc/ca.pem",
		}, Config{Endpoint: "http://minio:9000", AccessKey: "AK", SecretKey: "SK", SessionToken: "TOKEN",
			Region: "eu-west-3", CAFile: "/etc/ca.pem"}},
		{"the S3 endpoint wins", map[string]string{
			"AWS_ENDPOINT_URL":    "http://other:1",
			"AWS_ENDPOINT_URL_S3": "http://s3:2",
		}, Config{Endpoint: "http://s3:2"}},
		{"AWS_REGION wins", map[string]string{
			"AWS_REGION":         "eu-west-3",
			"AWS_DEFAULT_REGION": "us-west-2",
		}, Config{Region: "eu-west-3"}},
		{"the default region", map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}, Config{Region: "us-west-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := Config{AccessKey: "AK", SecretKey: "SK"}
	with := func(f func(*Config)) Config { c := keys; f(&c); return c }
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"no credentials", Config{}, ""},
		{"AWS", keys, ""},
		{"http", with(func(c *Config) { c.Endpoint = "http://127.0.0.1:9000" }), ""},
		{"https with a slash", with(func(c *Config) { c.Endpoint = "https://s3.example.com/" }), ""},
		{"bare host and port", with(func(c *Config) { c.Endpoint = "minio:9000" }), ""},
		{"temporary keys", with(func(c *Config) { c.SessionToken = "T" }), ""},
		{"scheme", with(func(c *Config) { c.Endpoint = "ftp://host" }), `scheme "ftp" is not http or https`},
		{"unparsable", with(func(c *Config) { c.Endpoint = "http://host:port:x" }), "endpoint"},
		{"control character", with(func(c *Config) { c.Endpoint = "http://host\n" }), "endpoint"},
		{"no host", with(func(c *Config) { c.Endpoint = "http://" }), "names no host"},
		{"path", with(func(c *Config) { c.Endpoint = "http://host/bucket" }), "has a path"},
		{"user", with(func(c *Config) { c.Endpoint = "http://u:p@host" }), "not the URL"},
		{"access key only", Config{AccessKey: "AK"}, "without a secret key"},
		{"secret key only", Config{SecretKey: "SK"}, "without an access key"},
		{"token only", Config{SessionToken: "T"}, "session token"},
		{"region", with(func(c *Config) { c.Region = "eu west" }), "invalid region"},
		{"missing CA file", with(func(c *Config) { c.CAFile = filepath.Join(dir, "none.pem") }), "CA file"},
		{"CA file without a certificate", with(func(c *Config) { c.CAFile = notPEM }), "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if _, err := New(tc.cfg); tc.cfg.Configured() && err != nil {
					t.Fatalf("New: got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error that says %q", err, tc.want)
			}
			if _, nerr := New(tc.cfg); nerr == nil || nerr.Error() != err.Error() {
				t.Fatalf("New: got %v, want %v", nerr, err)
			}
		})
	}
}

func TestNewWithoutCredentials(t *testing.T) {
	_, err := New(Config{Endpoint: "http://127.0.0.1:9000"})
	if err == nil || !strings.Contains(err.Error(), "anonymous access is not supported") {
		t.Fatalf("got %v, want an error that says anonymous access is not supported", err)
	}
}

func TestEndpoint(t *testing.T) {
	for _, tc := range []struct{ cfg, want string }{
		{"", "https://s3.us-east-1.amazonaws.com"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
		{"minio.local:9000", "https://minio.local:9000"},
	} {
		s := mustNew(t, Config{Endpoint: tc.cfg, AccessKey: "AK", SecretKey: "SK"})
		if got := s.Endpoint(); got != tc.want {
			t.Errorf("endpoint %q: got %q, want %q", tc.cfg, got, tc.want)
		}
	}
	s := mustNew(t, Config{Region: "eu-west-3", AccessKey: "AK", SecretKey: "SK"})
	if got, want := s.Endpoint(), "https://s3.eu-west-3.amazonaws.com"; got != want {
		t.Errorf("region eu-west-3: got %q, want %q", got, want)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want location
		err  string
	}{
		{url: "s3://docs/a/b.txt", want: location{"docs", "a/b.txt"}},
		{url: "S3://docs/a", want: location{"docs", "a"}},
		{url: "s3://docs", want: location{"docs", ""}},
		{url: "s3://docs/", want: location{"docs", ""}},
		{url: "s3://docs/a%20b?c#d", want: location{"docs", "a%20b?c#d"}},
		{url: "s3://my.bucket-1/x", want: location{"my.bucket-1", "x"}},
		{url: "s3://", err: "names no bucket"},
		{url: "s3:///key", err: "names no bucket"},
		{url: "s3:/docs/a", err: "not an s3:// URL"},
		{url: "/local/file", err: "not an s3:// URL"},
		{url: "s3://ab/x", err: "3 to 63"},
		{url: "s3://" + strings.Repeat("a", 64) + "/x", err: "3 to 63"},
		{url: "s3://Docs/x", err: "lower-case"},
		{url: "s3://my_docs/x", err: "lower-case"},
		{url: "s3://-docs/x", err: "starts and ends"},
		{url: "s3://docs./x", err: "starts and ends"},
		{url: "s3://a..b/x", err: "adjacent dots"},
		{url: "s3://192.168.1.1/x", err: "IP address"},
		{url: "s3://xn--docs/x", err: "reserved"},
		{url: "s3://docs/" + strings.Repeat("k", 1025), err: "1024 bytes"},
		{url: "s3://docs/\xff", err: "UTF-8"},
	} {
		got, err := parseURL(tc.url)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("%q: got %+v, %v, want %+v", tc.url, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, task.ErrInput) {
			t.Errorf("%q: got %v, want an input error that says %q", tc.url, err, tc.err)
		}
	}
}

// TestTLS reads through an HTTPS proxy to versitygw, whose certificate only
// CAFile or SkipVerify makes the store trust.
func TestTLS(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	srv.MustPut(t, "docs", "a.txt", []byte("over TLS"))
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	// The untrusted case fails handshakes, which the server would log.
	proxy.Config.ErrorLog = log.New(io.Discard, "", 0)
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw})
	if err := os.WriteFile(ca, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		set     func(*Config)
		trusted bool
	}{
		{"CA file", func(c *Config) { c.CAFile = ca }, true},
		{"skip verify", func(c *Config) { c.SkipVerify = true }, true},
		{"untrusted", func(c *Config) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(srv)
			cfg.Endpoint = proxy.URL
			tc.set(&cfg)
			s := mustNew(t, cfg)
			infos, err := s.List(t.Context(), "s3://docs/a.txt", source.ListOptions{})
			if !tc.trusted {
				wantErr(t, err, "s3://docs/a.txt", nil)
				if !strings.Contains(err.Error(), "certificate") {
					t.Fatalf("got %v, want a certificate error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 8)
			n, err := mustOpen(t, s, infos[0].Ref()).ReadAt(buf, 0)
			if err != nil || string(buf[:n]) != "over TLS" {
				t.Fatalf("got %q, %v, want %q", buf[:n], err, "over TLS")
			}
		})
	}
}
