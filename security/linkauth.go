package security

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
)

// A cluster with a gossip key but without TLS still binds a worker link to
// the cluster: each end proves it holds the key by answering the other's
// fresh nonce with an HMAC, before any text crosses. A process that took a
// dead worker's port, or a stranger opening sessions on a worker, cannot.
// Each proof names the worker and the address the coordinator dialled (the
// one the worker advertises): a proof relayed from a session with another
// worker, or at another address, does not verify. It does not hide the
// text from an eavesdropper, nor stop an attacker who sits in the middle
// of the connection to the right address: that is what TLS is for.

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

// Prove answers nonce with an HMAC under key of label, the nonce and the
// fields (the worker's name and address), each length-prefixed so that
// no two lists of fields read the same.
func Prove(key []byte, label string, nonce []byte, fields ...string) []byte {
	m := hmac.New(sha256.New, key)
	field := func(b []byte) {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		m.Write(b)
	}
	field([]byte(label))
	field(nonce)
	for _, f := range fields {
		field([]byte(f))
	}
	return m.Sum(nil)
}

// VerifyProof reports whether proof answers nonce under key for fields,
// in constant time.
func VerifyProof(key, proof []byte, label string, nonce []byte, fields ...string) bool {
	return len(nonce) >= 16 && hmac.Equal(proof, Prove(key, label, nonce, fields...))
}
