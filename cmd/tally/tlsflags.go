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
	tls         security.TLS
}

func (c *connFlags) register(fs *flag.FlagSet, defAddr, addrUsage string) {
	fs.StringVar(&c.coordinator, "coordinator", defAddr, addrUsage)
	fs.StringVar(&c.token, "token", "", "bearer token the coordinator requires")
	registerTLS(fs, &c.tls, "client, for mutual TLS (optional); with --tls-ca alone, TLS verifies the coordinator")
}

// dial connects to the named coordinator.
func (c *connFlags) dial() (*client.Client, error) {
	opts := []client.Option{client.WithTLS(c.tls)}
	if c.token != "" {
		opts = append(opts, client.WithToken(c.token))
	}
	return client.Dial(c.coordinator, opts...)
}
