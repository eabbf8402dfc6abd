package security

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// Role is what a certificate lets its holder be in a cluster. A cluster's
// CA signs certificates for three roles, and each link checks the role of
// the peer, not only the CA: a client's certificate cannot serve as a
// worker's, nor open sessions on a worker as a coordinator would.
type Role string

// The roles of a cluster.
const (
	RoleCoordinator Role = "coordinator"
	RoleWorker      Role = "worker"
	RoleClient      Role = "client"
)

// roleURIPrefix starts the URI SAN that names a certificate's role, as in
// SPIFFE IDs: spiffe://tally/worker.
const roleURIPrefix = "spiffe://tally/"

// URI is the subject alternative name (a URI) that gives a certificate role r.
func (r Role) URI() string { return roleURIPrefix + string(r) }

// RolesOf returns the roles that cert's URI SANs name.
func RolesOf(cert *x509.Certificate) []Role {
	var out []Role
	for _, u := range cert.URIs {
		if name, ok := strings.CutPrefix(u.String(), roleURIPrefix); ok {
			out = append(out, Role(name))
		}
	}
	return out
}

// HasRole reports whether cert names role r.
func HasRole(cert *x509.Certificate, r Role) bool {
	return cert != nil && slices.Contains(RolesOf(cert), r)
}

// checkRole fails unless cert names one of want.
func checkRole(cert *x509.Certificate, want []Role) error {
	have := RolesOf(cert)
	for _, r := range have {
		if slices.Contains(want, r) {
			return nil
		}
	}
	if len(have) == 0 {
		return fmt.Errorf("certificate %q names no tally role (a URI SAN %s...): want %s", cert.Subject.CommonName, roleURIPrefix, roleList(want))
	}
	return fmt.Errorf("certificate %q is for %s: want %s", cert.Subject.CommonName, roleList(have), roleList(want))
}

func roleList(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

// verifyRole returns a tls.Config.VerifyConnection that fails a handshake
// whose peer presented a certificate without one of roles; a peer that
// presented none passes (ClientAuth decides whether one is required).
// It runs after the chain was verified against the CA.
func verifyRole(roles []Role) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil
		}
		return checkRole(cs.PeerCertificates[0], roles)
	}
}
