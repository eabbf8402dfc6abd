package main

import (
	"flag"

	"tally/client"
	"tally/security"
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
	return client.Dial(c.coordinator, opts...)
}
