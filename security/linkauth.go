package security

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
)

// A cluster with a gossip key but without TLS still binds a worker link to
// the cluster: each end proves it holds the key by answering the other's
// fresh nonce with an HMAC, before any text crosses. A process that took a
// dead worker's port, or a stranger opening sessions on a worker, cannot.
// It does not hide the text from an eavesdropper, nor stop an attacker who
// sits in the middle of the connection: that is what TLS is for.

// Labels keep a worker's proof from serving as a coordinator's and back.
const (
	ProofWorker      = "tally worker hello v1"
	ProofCoordinator = "tally coordinator session v1"
)

// LinkKey derives the key that proves membership on worker links from the
// gossip key, so that the key memberlist encrypts with is not used as is
// for a second purpose. It is nil without a gossip key.
func LinkKey(gossipKey []byte) []byte {
	if len(gossipKey) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, gossipKey)
	m.Write([]byte("tally link key v1"))
	return m.Sum(nil)
}

// Nonce returns 32 fresh random bytes.
func Nonce() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// Prove answers nonce with an HMAC of label, the nonce and name under key.
func Prove(key []byte, label string, nonce []byte, name string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(nonce)
	m.Write([]byte{0})
	m.Write([]byte(name))
	return m.Sum(nil)
}

// VerifyProof reports whether proof answers nonce under key, in constant time.
func VerifyProof(key, proof []byte, label string, nonce []byte, name string) bool {
	return len(nonce) >= 16 && hmac.Equal(proof, Prove(key, label, nonce, name))
}
