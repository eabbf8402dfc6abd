package security

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// DevNames are the names and addresses in the development certificates:
// enough for one machine, docker-compose service names, and workers (checked
// by WorkerServerName).
var DevNames = []string{"localhost", "127.0.0.1", "::1", "coordinator", "tally-coordinator", WorkerServerName}

// WriteDevCerts writes a development CA and certificates signed by it into
// dir: ca.pem, and coordinator, worker and client pairs (NAME.pem,
// NAME-key.pem). Each certificate names its role in a URI SAN
// (Role.URI), which the links check: a worker serves, a client dials,
// and a coordinator does both. Not for production: the keys are written
// unencrypted.
func WriteDevCerts(dir string, validFor time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "tally development CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER, 0o644); err != nil {
		return err
	}
	for _, role := range []Role{RoleCoordinator, RoleWorker, RoleClient} {
		if err := writeLeaf(dir, role, ca, caKey, now, validFor); err != nil {
			return fmt.Errorf("certificate %s: %w", role, err)
		}
	}
	return nil
}

// usages are the TLS ends each role's certificate may take.
var usages = map[Role][]x509.ExtKeyUsage{
	RoleCoordinator: {x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	RoleWorker:      {x509.ExtKeyUsageServerAuth},
	RoleClient:      {x509.ExtKeyUsageClientAuth},
}

func writeLeaf(dir string, role Role, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time, validFor time.Duration) error {
	name := string(role)
	uri, err := url.Parse(role.URI())
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "tally " + name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usages[role],
		URIs:         []*url.URL{uri},
	}
	for _, n := range DevNames {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, name+".pem"), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, name+"-key.pem"), "EC PRIVATE KEY", keyDER, 0o600)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode)
}
