package coordinator

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc/peer"

	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/security"
)

// errTooManyJobs refuses a job beyond Config.MaxJobs or Config.MaxJobsPerClient.
var errTooManyJobs = errors.New("too many jobs running")

// admit creates and registers a job, unless MaxJobs are running, or
// MaxJobsPerClient of client's.
func (c *Coordinator) admit(parent context.Context, q query.Job, client string) (*job, error) {
	c.admitting.Lock()
	defer c.admitting.Unlock()
	running := c.jobs.running()
	if c.cfg.MaxJobs > 0 && len(running) >= c.cfg.MaxJobs {
		return nil, fmt.Errorf("%w: %d at once is the limit (--max-jobs); retry later", errTooManyJobs, c.cfg.MaxJobs)
	}
	if limit := c.perClient(); client != "" && limit > 0 {
		mine := 0
		for _, j := range running {
			if j.client == client {
				mine++
			}
		}
		if mine >= limit {
			return nil, fmt.Errorf("%w: %d at once per client is the limit (--max-jobs-per-client) and %s runs %d; retry later",
				errTooManyJobs, limit, client, mine)
		}
	}
	return c.newJob(parent, q, client), nil
}

// perClient is the jobs one client may run at once: MaxJobsPerClient, but
// never every slot of MaxJobs, so that one client always leaves room.
func (c *Coordinator) perClient() int {
	limit := c.cfg.MaxJobsPerClient
	if c.cfg.MaxJobs > 1 && (limit <= 0 || limit >= c.cfg.MaxJobs) {
		limit = max(1, c.cfg.MaxJobs*3/4)
	}
	return limit
}

// clientKey names the client of a call, for Config.MaxJobsPerClient: the
// subject of its certificate when the connection verified one (mutual TLS:
// each certificate is one client, wherever it connects from), else its IP
// address, without the port, so that opening more connections does not
// make more clients.
//
// An address is a rough identity. Clients behind one NAT or proxy, or all
// on one machine, share one bound; a client with many addresses (an IPv6
// prefix) gets one bound per address. A bearer token names no one: every
// holder of the token counts by address. Clients that share a certificate
// share its bound.
func clientKey(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if cert := security.PeerCertificate(ctx); cert != nil {
		return "certificate " + cert.Subject.String()
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	return host
}
