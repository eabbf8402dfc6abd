package cluster

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wait is how long a test waits for gossip to converge on loopback; it usually
// takes well under a second.
const wait = 10 * time.Second

// testConfig returns a config for a node on 127.0.0.1, a free port, logging to l.
func testConfig(l *testLog, name, role string, cores int, join ...string) Config {
	cfg := DefaultConfig()
	cfg.NodeName = name
	cfg.Join = join
	cfg.Meta = Meta{Role: role, GRPCAddr: "127.0.0.1:" + strconv.Itoa(9000+cores), Cores: cores}
	cfg.Logger = l.logger().With("test_node", name)
	return cfg
}

// mustStart starts a node and closes it when the test ends.
func mustStart(tb testing.TB, cfg Config) *Node {
	tb.Helper()
	n, err := Start(cfg)
	if err != nil {
		tb.Fatalf("Start(%s): %v", cfg.NodeName, err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("Close(%s): %v", n.Name(), err)
		}
	})
	return n
}

func names(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

// hasMembers reports whether n sees exactly the named members.
func hasMembers(n *Node, want ...string) func() bool {
	return func() bool { return slices.Equal(names(n.Members()), want) }
}

// waitChange waits on n.Changes until cond holds for n.Members, so it only
// passes if Changes fires.
func waitChange(tb testing.TB, n *Node, what string, cond func([]Member) bool) {
	tb.Helper()
	timeout := time.After(wait)
	for !cond(n.Members()) {
		select {
		case <-n.Changes():
		case <-timeout:
			tb.Fatalf("gave up after %v waiting on Changes of %s for %s; members %v", wait, n.Name(), what, names(n.Members()))
		}
	}
}

func TestNodesMeet(t *testing.T) {
	l := newTestLog(t)
	a := mustStart(t, testConfig(l, "a", RoleCoordinator, 0))
	b := mustStart(t, testConfig(l, "b", RoleWorker, 4, a.GossipAddr()))
	c := mustStart(t, testConfig(l, "c", RoleWorker, 8, b.GossipAddr())) // any member will do
	for _, n := range []*Node{a, b, c} {
		waitFor(t, wait, n.Name()+" to see a, b, c", hasMembers(n, "a", "b", "c"))
	}
	for _, n := range []*Node{a, b, c} {
		want := []Member{
			{Name: "a", Addr: a.GossipAddr(), Meta: Meta{Role: RoleCoordinator, GRPCAddr: "127.0.0.1:9000"}, State: StateAlive},
			{Name: "b", Addr: b.GossipAddr(), Meta: Meta{Role: RoleWorker, GRPCAddr: "127.0.0.1:9004", Cores: 4}, State: StateAlive},
			{Name: "c", Addr: c.GossipAddr(), Meta: Meta{Role: RoleWorker, GRPCAddr: "127.0.0.1:9008", Cores: 8}, State: StateAlive},
		}
		if got := n.Members(); !slices.Equal(got, want) {
			t.Errorf("%s.Members(): got %+v, want %+v", n.Name(), got, want)
		}
	}
}

func TestChangesOnJoinAndLeave(t *testing.T) {
	l := newTestLog(t)
	a := mustStart(t, testConfig(l, "a", RoleCoordinator, 0))
	select {
	case <-a.Changes(): // the node's own join
	default:
		t.Fatal("Changes after Start: got no signal, want one for the node itself")
	}
	b := mustStart(t, testConfig(l, "b", RoleWorker, 2, a.GossipAddr()))
	waitChange(t, a, "b to join", func(ms []Member) bool { return len(ms) == 2 })

	if err := b.UpdateMeta(Meta{Role: RoleWorker, GRPCAddr: "10.0.0.2:7000", Cores: 16}); err != nil {
		t.Fatalf("UpdateMeta: %v", err)
	}
	waitChange(t, a, "b's new meta", func(ms []Member) bool {
		return len(ms) == 2 && ms[1].Meta == Meta{Role: RoleWorker, GRPCAddr: "10.0.0.2:7000", Cores: 16}
	})

	if err := b.Leave(time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	waitChange(t, a, "b to leave", func(ms []Member) bool { return slices.Equal(names(ms), []string{"a"}) })
}

func TestLeaveRemovesMember(t *testing.T) {
	l := newTestLog(t)
	a := mustStart(t, testConfig(l, "a", RoleCoordinator, 0))
	b := mustStart(t, testConfig(l, "b", RoleWorker, 1, a.GossipAddr()))
	c := mustStart(t, testConfig(l, "c", RoleWorker, 1, a.GossipAddr()))
	for _, n := range []*Node{a, b, c} {
		waitFor(t, wait, n.Name()+" to see a, b, c", hasMembers(n, "a", "b", "c"))
	}
	if err := c.Leave(time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	waitFor(t, wait, "a to drop c", hasMembers(a, "a", "b"))
	waitFor(t, wait, "b to drop c", hasMembers(b, "a", "b"))
}

func TestLeaveTwice(t *testing.T) {
	l := newTestLog(t)
	a := mustStart(t, testConfig(l, "a", RoleCoordinator, 0))
	b := mustStart(t, testConfig(l, "b", RoleWorker, 1, a.GossipAddr()))
	waitFor(t, wait, "b to join", hasMembers(a, "a", "b"))
	for i := range 2 {
		if err := b.Leave(time.Second); err != nil {
			t.Errorf("Leave #%d: got %v, want nil", i+1, err)
		}
	}
	if err := b.Close(); err != nil { // and once more in cleanup
		t.Errorf("Close after Leave: got %v, want nil", err)
	}
	if err := b.UpdateMeta(Meta{Role: RoleWorker}); err == nil {
		t.Error("UpdateMeta after Leave: got nil, want an error")
	}
}

// TestJoinRetry starts a worker before anything listens at its join address,
// then starts the coordinator there.
func TestJoinRetry(t *testing.T) {
	l := newTestLog(t)
	port := freePort(t)
	w := mustStart(t, testConfig(l, "w", RoleWorker, 1, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))))
	waitFor(t, wait, "a failed join attempt", func() bool { return l.joinFails.Load() >= 1 })

	cfg := testConfig(l, "c", RoleCoordinator, 0)
	cfg.BindPort = port
	c := mustStart(t, cfg)
	waitFor(t, wait, "c to see w", hasMembers(c, "c", "w"))
	waitFor(t, wait, "w to see c", hasMembers(w, "c", "w"))
}

// freePort returns a port that was free on 127.0.0.1 for TCP and UDP a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	pc, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	_ = pc.Close()
	_ = ln.Close()
	return port
}

func TestSecretKey(t *testing.T) {
	key := []byte("0123456789abcdef")
	tests := []struct {
		name string
		key  []byte
	}{
		{"wrong key", []byte("fedcba9876543210")},
		{"no key", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t)
			cfg := testConfig(l, "a", RoleCoordinator, 0)
			cfg.SecretKey = key
			a := mustStart(t, cfg)
			cfg = testConfig(l, "good", RoleWorker, 1, a.GossipAddr())
			cfg.SecretKey = key
			mustStart(t, cfg) // the right key joins: encryption itself works
			cfg = testConfig(l, "bad", RoleWorker, 1, a.GossipAddr())
			cfg.SecretKey = tt.key
			bad := mustStart(t, cfg)

			waitFor(t, wait, "good to join", hasMembers(a, "a", "good"))
			waitFor(t, wait, "two failed join attempts", func() bool { return l.joinFails.Load() >= 2 })
			if got := names(a.Members()); !slices.Equal(got, []string{"a", "good"}) {
				t.Errorf("a.Members(): got %v, want [a good]", got)
			}
			if got := names(bad.Members()); !slices.Equal(got, []string{"bad"}) {
				t.Errorf("bad.Members(): got %v, want [bad]", got)
			}
		})
	}
}

// TestRestartSameName checks that a node restarted under the same name at a new
// address is accepted at once after a graceful leave.
func TestRestartSameName(t *testing.T) {
	l := newTestLog(t)
	a := mustStart(t, testConfig(l, "a", RoleCoordinator, 0))
	w1 := mustStart(t, testConfig(l, "w", RoleWorker, 1, a.GossipAddr()))
	waitFor(t, wait, "w to join", hasMembers(a, "a", "w"))
	if err := w1.Leave(time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	waitFor(t, wait, "w to leave", hasMembers(a, "a"))

	w2 := mustStart(t, testConfig(l, "w", RoleWorker, 2, a.GossipAddr()))
	waitFor(t, wait, "w to come back at its new address", func() bool {
		ms := a.Members()
		return len(ms) == 2 && ms[1].Addr == w2.GossipAddr() && ms[1].Meta.Cores == 2
	})
}

func TestDefaultNodeName(t *testing.T) {
	l := newTestLog(t)
	n := mustStart(t, testConfig(l, "", RoleWorker, 1))
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	_, port, _ := net.SplitHostPort(n.GossipAddr())
	if want := fmt.Sprintf("worker-%s-%s", host, port); n.Name() != want {
		t.Errorf("Name(): got %q, want %q", n.Name(), want)
	}
	if !strings.HasPrefix(n.GossipAddr(), "127.0.0.1:") || port == "0" {
		t.Errorf("GossipAddr(): got %q, want 127.0.0.1 and the bound port", n.GossipAddr())
	}
}

func TestAdvertise(t *testing.T) {
	l := newTestLog(t)
	cfg := testConfig(l, "a", RoleCoordinator, 0)
	cfg.AdvertisePort = 7999 // as behind a port mapping
	n := mustStart(t, cfg)
	if got, want := n.GossipAddr(), "127.0.0.1:7999"; got != want {
		t.Errorf("GossipAddr(): got %q, want %q", got, want)
	}
	if got := n.Members(); len(got) != 1 || got[0].Addr != "127.0.0.1:7999" {
		t.Errorf("Members(): got %+v, want self at 127.0.0.1:7999", got)
	}
}

// TestRejoinAfterSeedRestart restarts the coordinator, which has no Join list,
// at the same address: the worker's periodic rejoin brings the two together
// again, though the new coordinator knows no one.
func TestRejoinAfterSeedRestart(t *testing.T) {
	l := newTestLog(t)
	c1 := mustStart(t, testConfig(l, "c", RoleCoordinator, 0))
	cfg := testConfig(l, "w", RoleWorker, 1, c1.GossipAddr())
	cfg.RejoinInterval = 100 * time.Millisecond
	w := mustStart(t, cfg)
	waitFor(t, wait, "w to see c", hasMembers(w, "c", "w"))
	if err := c1.Leave(time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	waitFor(t, wait, "w to drop c", hasMembers(w, "w"))

	cfg = testConfig(l, "c", RoleCoordinator, 0)
	_, port, _ := net.SplitHostPort(c1.GossipAddr())
	cfg.BindPort, _ = strconv.Atoi(port)
	c2 := mustStart(t, cfg)
	waitFor(t, wait, "the new c to see w", hasMembers(c2, "c", "w"))
	waitFor(t, wait, "w to see the new c", hasMembers(w, "c", "w"))
}

func TestStartPortInUse(t *testing.T) {
	l := newTestLog(t)
	a := mustStart(t, testConfig(l, "a", RoleCoordinator, 0))
	cfg := testConfig(l, "b", RoleWorker, 1)
	_, port, _ := net.SplitHostPort(a.GossipAddr())
	cfg.BindPort, _ = strconv.Atoi(port)
	if n, err := Start(cfg); err == nil {
		_ = n.Close()
		t.Fatal("Start on a port in use: got no error, want one")
	} else if !strings.Contains(err.Error(), "listen for gossip on 127.0.0.1:"+port) {
		t.Errorf("Start on a port in use: got %q, want it to name the address", err)
	}
}
