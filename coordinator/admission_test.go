package coordinator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"testing"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

func TestClientKey(t *testing.T) {
	addr := func(port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: port} }
	verified := credentials.TLSInfo{State: tls.ConnectionState{
		VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: "alice", Organization: []string{"tally"}}}}},
	}}
	cases := []struct {
		name string
		peer *peer.Peer
		want string
	}{
		{"address", &peer.Peer{Addr: addr(5000)}, "10.0.0.7"},
		{"another connection from the same address", &peer.Peer{Addr: addr(5001)}, "10.0.0.7"},
		{"TLS without a client certificate", &peer.Peer{Addr: addr(5000), AuthInfo: credentials.TLSInfo{}}, "10.0.0.7"},
		{"verified client certificate", &peer.Peer{Addr: addr(5000), AuthInfo: verified}, "certificate CN=alice,O=tally"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := clientKey(peer.NewContext(context.Background(), tc.peer)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if got := clientKey(context.Background()); got != "" {
		t.Errorf("without a peer: got %q, want \"\"", got)
	}
}
