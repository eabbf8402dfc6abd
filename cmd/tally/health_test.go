package main

import (
	"net"
	"strings"
	"testing"

	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/worker"
)

func TestHealth(t *testing.T) {
	cfg := coordinator.DefaultConfig()
	cfg.Dial = worker.DialGRPC
	c, err := coordinator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.Start(worker.DefaultConfig())
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); c.Close() })

	for name, addr := range map[string]string{"coordinator": c.Addr(), "worker": w.Addr()} {
		t.Run(name, func(t *testing.T) {
			r := runTally(t, "", "health", "--addr", addr)
			if r.code != 0 || !strings.Contains(r.stdout, "SERVING") {
				t.Errorf("got %v, want exit 0 and SERVING", r)
			}
		})
	}
	for addr, service := range map[string]string{c.Addr(): "tally.v1.CoordinatorService", w.Addr(): "tally.v1.WorkerService"} {
		if r := runTally(t, "", "health", "--addr", addr, "--service", service); r.code != 0 || !strings.Contains(r.stdout, "SERVING") {
			t.Errorf("health --service %s: got %v, want exit 0 and SERVING", service, r)
		}
		if r := runTally(t, "", "health", "--addr", addr, "--service", "tally.v1.NoSuchService"); r.code != 1 {
			t.Errorf("health --service tally.v1.NoSuchService: got %v, want exit 1", r)
		}
	}
	t.Run("from TALLY_LISTEN", func(t *testing.T) {
		t.Setenv("TALLY_LISTEN", c.Addr())
		if r := runTally(t, "", "health"); r.code != 0 {
			t.Errorf("got %v, want exit 0", r)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := lis.Addr().String()
		lis.Close()
		r := runTally(t, "", "health", "--addr", addr, "--timeout", "1s")
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("got %v, want exit 1 and one line on stderr", r)
		}
	})
	t.Run("stopped server", func(t *testing.T) {
		c2, err := coordinator.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		addr := c2.Addr()
		c2.Close()
		if r := runTally(t, "", "health", "--addr", addr, "--timeout", "1s"); r.code != 1 {
			t.Errorf("got %v, want exit 1", r)
		}
	})
}
