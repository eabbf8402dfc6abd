package security

import (
	"fmt"
	"net"
	"strings"
)

// Secure by default off loopback, as CockroachDB is: a node that other
// machines can reach must have mutual TLS and a gossip key, unless its
// operator says --insecure. On loopback only this machine's users reach it,
// and a newcomer's first cluster needs no certificates.

// Loopback reports whether hostport (or a bare host) only reaches this
// machine: a loopback IP address or "localhost". An empty or unspecified
// host (all interfaces) and other names do not.
func Loopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Posture is how a server is secured.
type Posture struct {
	// TLS says the node has a certificate, its key and the cluster's CA:
	// its links are encrypted and its peers' roles checked.
	TLS bool
	// GossipKey says gossip is encrypted and worker links are bound to the key.
	GossipKey bool
	// Insecure is the operator's --insecure: run off loopback without them.
	Insecure bool
}

// NewPosture is the posture of a node with t, gossipKey and the
// operator's --insecure, which changes nothing on a secure node.
func NewPosture(t TLS, gossipKey []byte, insecure bool) Posture {
	p := Posture{TLS: t.Mutual(), GossipKey: len(gossipKey) > 0}
	p.Insecure = insecure && !p.Secure()
	return p
}

// Secure reports whether the node has both TLS and a gossip key.
func (p Posture) Secure() bool { return p.TLS && p.GossipKey }

// Describe says in plain words how a node is secured.
func (p Posture) Describe() string {
	switch {
	case p.Secure():
		return "secure (mutual TLS, gossip key)"
	case p.Insecure:
		return fmt.Sprintf("INSECURE (--insecure: TLS %s, gossip key %s)", onOff(p.TLS), onOff(p.GossipKey))
	}
	return fmt.Sprintf("loopback only (TLS %s, gossip key %s)", onOff(p.TLS), onOff(p.GossipKey))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Exposed is an address a node listens on or advertises, and the flag that set it.
type Exposed struct{ Flag, Addr string }

// Check refuses a node whose addresses are not all on loopback unless it
// is secure or insecure on purpose. The error names the address, what is
// missing and the way out.
func (p Posture) Check(addrs ...Exposed) error {
	if p.Secure() || p.Insecure {
		return nil
	}
	for _, a := range addrs {
		if a.Addr == "" || Loopback(a.Addr) {
			continue
		}
		var missing []string
		if !p.TLS {
			missing = append(missing, "mutual TLS (--tls-cert, --tls-key, --tls-ca)")
		}
		if !p.GossipKey {
			missing = append(missing, "a gossip key (--gossip-key-file)")
		}
		return fmt.Errorf("%s %s is not a loopback address, and a node other machines can reach needs %s; "+
			"scripts/gen-certs.sh makes them. To run without them (anyone who reaches the node can then join the cluster, read the text and change counts), add --insecure",
			a.Flag, a.Addr, strings.Join(missing, " and "))
	}
	return nil
}
