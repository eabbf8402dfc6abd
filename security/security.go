// Package security builds the transport credentials and the bearer-token
// check that keep strangers out of a tally cluster: TLS on every gRPC link,
// mutual TLS between coordinator and workers, and a token for clients.
package security

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// WorkerServerName is the name a coordinator expects in a worker's
// certificate: workers are dialled by IP address, which certificates made
// for a cluster do not list, so the name is checked instead.
const WorkerServerName = "tally-worker"

// TLS names the PEM files of a node. The zero value means plaintext.
type TLS struct {
	CertFile string // this node's certificate
	KeyFile  string // its private key
	CAFile   string // the CA that signs the peers' certificates
}

// Enabled reports whether any TLS file is set.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" || t.CAFile != "" }

// ServerCredentials returns credentials for a gRPC server. With
// requireClientCert, peers must present a certificate signed by the CA
// (mutual TLS), as workers require of the coordinator. A certificate a
// peer presents must name one of peers' roles, if any are given.
func (t TLS) ServerCredentials(requireClientCert bool, peers ...Role) (credentials.TransportCredentials, error) {
	if !t.Enabled() {
		return insecure.NewCredentials(), nil
	}
	cfg, err := t.ServerConfig(requireClientCert, peers...)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}

// Mutual reports whether t has all a cluster node needs for mutual TLS: a
// certificate, its key and the CA of its peers.
func (t TLS) Mutual() bool { return t.CertFile != "" && t.KeyFile != "" && t.CAFile != "" }

// ServerConfig is the tls.Config behind ServerCredentials, for other
// servers of the node (its metrics endpoint).
func (t TLS) ServerConfig(requireClientCert bool, peers ...Role) (*tls.Config, error) {
	if t.CertFile == "" || t.KeyFile == "" {
		return nil, errors.New("TLS needs both a certificate and a key (--tls-cert, --tls-key)")
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		pool, err := t.caPool()
		if err != nil {
			return nil, err
		}
		if pool == nil {
			return nil, errors.New("mutual TLS needs the CA that signs the coordinator's certificate (--tls-ca)")
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	} else if pool, err := t.caPool(); err != nil {
		return nil, err
	} else if pool != nil {
		// Clients may authenticate with a certificate instead of a token.
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	if len(peers) > 0 {
		cfg.VerifyConnection = verifyRole(peers)
	}
	return cfg, nil
}

// ClientCredentials returns credentials for dialling a TLS server. serverName
// overrides the name checked in the server's certificate ("" checks the
// dialled host); the certificate must also name one of server's roles, if
// any are given. A certificate, when set, is presented for mutual TLS.
func (t TLS) ClientCredentials(serverName string, server ...Role) (credentials.TransportCredentials, error) {
	if !t.Enabled() {
		return insecure.NewCredentials(), nil
	}
	pool, err := t.caPool()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if len(server) > 0 {
		cfg.VerifyConnection = verifyRole(server)
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(cfg), nil
}

// caPool reads CAFile; nil without one (the system roots then apply).
func (t TLS) caPool() (*x509.CertPool, error) { return CAPool(t.CAFile) }

// CAPool reads the PEM certificates in file into a pool; nil for "".
func CAPool(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS CA %s holds no PEM certificate", file)
	}
	return pool, nil
}

// TokenCredentials sends a bearer token with every call.
type TokenCredentials struct {
	Token string
	// Secure requires a TLS connection, so that the token never travels in clear.
	Secure bool
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (c TokenCredentials) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + c.Token}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (c TokenCredentials) RequireTransportSecurity() bool { return c.Secure }

// unauthenticated lists the methods callable without a token: health checks,
// which container engines make without credentials.
var unauthenticated = map[string]bool{
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/Watch": true,
	"/grpc.health.v1.Health/List":  true,
}

// Policy says who may call a server's methods (health checks aside, which
// container engines make without credentials): a peer whose TLS
// certificate, verified against the CA, names one of Roles, or a peer that
// sends the bearer Token. With neither a token nor RequireCert, anyone may.
type Policy struct {
	Token       string
	Roles       []Role
	RequireCert bool
}

// Interceptors return server interceptors that enforce p (codes.Unauthenticated).
func (p Policy) Interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	check := func(ctx context.Context, method string) error {
		if unauthenticated[method] || (p.Token == "" && !p.RequireCert) {
			return nil
		}
		if cert := PeerCertificate(ctx); cert != nil && checkRole(cert, p.Roles) == nil {
			return nil
		}
		if p.Token != "" {
			md, _ := metadata.FromIncomingContext(ctx)
			for _, v := range md.Get("authorization") {
				if BearerMatches(v, p.Token) {
					return nil
				}
			}
			return status.Error(codes.Unauthenticated, "missing or wrong bearer token (set --token-file, or TALLY_TOKEN)")
		}
		return status.Errorf(codes.Unauthenticated, "a %s certificate from this server's CA is required (--tls-cert, --tls-key)", roleList(p.Roles))
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := check(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := check(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
	return unary, stream
}

// BearerMatches reports whether an Authorization header value carries
// the bearer token, compared in constant time.
func BearerMatches(header, token string) bool {
	got, ok := strings.CutPrefix(header, "Bearer ")
	return ok && token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// VerifiedLeaf returns the certificate the peer of cs presented, once
// verified against the CA; nil if it presented none.
func VerifiedLeaf(cs *tls.ConnectionState) *x509.Certificate {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	return cs.VerifiedChains[0][0]
}

// PeerCertificate returns the verified certificate of a gRPC call's peer,
// or nil.
func PeerCertificate(ctx context.Context) *x509.Certificate {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil
	}
	return VerifiedLeaf(&info.State)
}
