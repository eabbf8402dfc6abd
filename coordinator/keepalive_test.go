package coordinator

import (
	"testing"

	"github.com/tallyhq/tally/client"
)

// TestKeepalivePolicy checks that the coordinator allows the pings its Go
// clients send: a client that pings more often than the policy allows is
// sent away (GOAWAY "too_many_pings") in the middle of a long call.
func TestKeepalivePolicy(t *testing.T) {
	if keepaliveClients.MinTime > client.KeepaliveTime || !keepaliveClients.PermitWithoutStream {
		t.Errorf("got enforcement %+v, want MinTime at most the client's ping interval %v, and pings without a stream permitted",
			keepaliveClients, client.KeepaliveTime)
	}
	if keepaliveServer.Time <= 0 || keepaliveServer.Timeout <= 0 {
		t.Errorf("got server keepalive %+v, want pings that find a client that stopped", keepaliveServer)
	}
}
