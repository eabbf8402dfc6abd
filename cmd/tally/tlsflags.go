package main

import (
	"flag"
	"net"
	"strings"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/security"
)

// registerTLS adds --tls-cert, --tls-key and --tls-ca to fs.
func registerTLS(fs *flag.FlagSet, t *security.TLS, role string) {
	fs.StringVar(&t.CertFile, "tls-cert", "", "PEM certificate of this "+role+" (enables TLS)")
	fs.StringVar(&t.KeyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&t.CAFile, "tls-ca", "", "PEM CA certificate that signs the peers' certificates")
}

// connFlags are how a client command reaches a coordinator.
type connFlags struct {
	coordinator string
	token       string
	tokenFile   string
	insecure    bool
	tls         security.TLS
}

func (c *connFlags) register(fs *flag.FlagSet, defAddr, addrUsage string) {
	fs.StringVar(&c.coordinator, "coordinator", defAddr, addrUsage)
	fs.StringVar(&c.token, "token", "", "bearer token the coordinator requires; prefer --token-file, which keeps it off the command line")
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding the bearer token")
	fs.BoolVar(&c.insecure, "insecure", false, "send the token to a non-loopback coordinator without TLS, in clear")
	registerTLS(fs, &c.tls, "client, for mutual TLS (optional); with --tls-ca alone, TLS verifies the coordinator")
}

// dial connects to the named coordinator.
func (c *connFlags) dial() (*client.Client, error) {
	token, err := secret(c.token, c.tokenFile, "token")
	if err != nil {
		return nil, err
	}
	opts := []client.Option{client.WithTLS(c.tls)}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	if c.insecure {
		opts = append(opts, client.WithInsecure())
	}
	return client.Dial(withDefaultPort(c.coordinator), opts...)
}

// defaultPort is the port of a coordinator's client API, and defaultListen
// its address, unless --listen says otherwise.
const (
	defaultPort   = "7070"
	defaultListen = "127.0.0.1:" + defaultPort
)

// withDefaultPort adds the coordinator's default port to an address that
// names only a host (gRPC would dial 443): "tally-1" is "tally-1:7070",
// "::1" or "[::1]" is "[::1]:7070". Any other address is left as it is.
func withDefaultPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	host := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return addr // neither a host nor an IPv6 address: gRPC says what is wrong
	}
	return net.JoinHostPort(host, defaultPort)
}
