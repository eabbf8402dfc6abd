package s3

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// DefaultRegion is the region of a Config that names none.
const DefaultRegion = "us-east-1"

// Config says where a Store's S3 service is and how to sign in to it.
type Config struct {
	// Endpoint is the service's URL: "http://host:port" or "https://host".
	// A bare "host:port" means https. Empty means AWS,
	// https://s3.REGION.amazonaws.com.
	Endpoint string
	// Region signs requests; empty means us-east-1. The region is never
	// looked up, which would cost a request per bucket.
	Region string
	// AccessKey and SecretKey sign requests, with SessionToken when the
	// keys are temporary.
	AccessKey, SecretKey, SessionToken string
	// PathStyle asks for path-style addressing (http://host/bucket/key),
	// which some S3-compatible servers need. Otherwise virtual hosts
	// (http://bucket.host/key) are used for AWS and Google endpoints, and
	// path style for any other.
	PathStyle bool
	// SkipVerify accepts any TLS certificate from the endpoint. It is for
	// tests only: anyone on the path can then read and forge the data.
	SkipVerify bool
	// CAFile is a PEM file of certificate authorities to trust for the
	// endpoint, besides the system's.
	CAFile string
}

// ConfigFromEnv reads a Config from the AWS SDKs' environment variables:
// AWS_ENDPOINT_URL_S3 or else AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION or else
// AWS_DEFAULT_REGION, and AWS_CA_BUNDLE. getenv is os.Getenv outside tests.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		Endpoint:     firstSet(getenv, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		Region:       firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION"),
		AccessKey:    getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: getenv("AWS_SESSION_TOKEN"),
		CAFile:       getenv("AWS_CA_BUNDLE"),
	}
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// Configured reports whether c has credentials. Anonymous access to public
// buckets is not supported: a Store always signs its requests.
func (c Config) Configured() bool { return c.AccessKey != "" && c.SecretKey != "" }

// Validate checks c without contacting the service. A Config with no
// credentials at all is valid, though New refuses it.
func (c Config) Validate() error {
	if _, err := c.endpointURL(); err != nil {
		return err
	}
	switch {
	case c.AccessKey != "" && c.SecretKey == "":
		return errors.New("s3: an access key without a secret key")
	case c.AccessKey == "" && c.SecretKey != "":
		return errors.New("s3: a secret key without an access key")
	case c.SessionToken != "" && !c.Configured():
		return errors.New("s3: a session token without an access key and secret key")
	case strings.ContainsAny(c.Region, " /"):
		return fmt.Errorf("s3: invalid region %q", c.Region)
	}
	if c.CAFile != "" {
		if _, err := c.rootCAs(); err != nil {
			return err
		}
	}
	return nil
}

// region is c's region, or the default.
func (c Config) region() string {
	if c.Region == "" {
		return DefaultRegion
	}
	return c.Region
}

// endpointURL is the endpoint as a URL with only a scheme and a host.
func (c Config) endpointURL() (*url.URL, error) {
	raw := c.Endpoint
	switch {
	case raw == "":
		return &url.URL{Scheme: "https", Host: "s3." + c.region() + ".amazonaws.com"}, nil
	case !strings.Contains(raw, "://"):
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("s3: endpoint %q: %w", c.Endpoint, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("s3: endpoint %q: scheme %q is not http or https", c.Endpoint, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("s3: endpoint %q names no host", c.Endpoint)
	case u.User != nil:
		return nil, fmt.Errorf("s3: endpoint %q: credentials go in the access and secret keys, not the URL", c.Endpoint)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		// Requests address buckets from the root of the host.
		return nil, fmt.Errorf("s3: endpoint %q has a path; want only scheme, host and port", c.Endpoint)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// tlsConfig is the TLS configuration for the endpoint.
func (c Config) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.SkipVerify}
	if c.CAFile != "" {
		pool, err := c.rootCAs()
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// rootCAs is the system's certificate pool plus those of CAFile.
func (c Config) rootCAs() (*x509.CertPool, error) {
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("s3: CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("s3: CA file %s holds no PEM certificate", c.CAFile)
	}
	return pool, nil
}
