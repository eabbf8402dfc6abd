package cluster

import (
	"bytes"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		c := DefaultConfig()
		c.Meta = Meta{Role: RoleWorker, GRPCAddr: "127.0.0.1:9000", Cores: 4}
		return c
	}
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"default with a role", func(*Config) {}, true},
		{"all fields", func(c *Config) {
			c.BindAddr, c.BindPort, c.AdvertiseAddr, c.AdvertisePort = "0.0.0.0", 7946, "10.0.0.1", 7946
			c.Join, c.SecretKey = []string{"coordinator:7946"}, make([]byte, 32)
		}, true},
		{"IPv6 bind", func(c *Config) { c.BindAddr = "::1" }, true},
		{"empty bind address", func(c *Config) { c.BindAddr = "" }, false},
		{"host name as bind address", func(c *Config) { c.BindAddr = "localhost" }, false},
		{"host name as advertise address", func(c *Config) { c.AdvertiseAddr = "worker-1" }, false},
		{"negative bind port", func(c *Config) { c.BindPort = -1 }, false},
		{"bind port too large", func(c *Config) { c.BindPort = 65536 }, false},
		{"advertise port too large", func(c *Config) { c.AdvertisePort = 70000 }, false},
		{"empty join address", func(c *Config) { c.Join = []string{"a:1", " "} }, false},
		{"negative rejoin interval", func(c *Config) { c.RejoinInterval = -1 }, false},
		{"secret key 16", func(c *Config) { c.SecretKey = make([]byte, 16) }, true},
		{"secret key 24", func(c *Config) { c.SecretKey = make([]byte, 24) }, true},
		{"secret key 15", func(c *Config) { c.SecretKey = make([]byte, 15) }, false},
		{"empty role", func(c *Config) { c.Meta.Role = "" }, false},
		{"meta too large", func(c *Config) { c.Meta.GRPCAddr = strings.Repeat("h", 500) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := c.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate: got %v, want ok=%v", err, tt.ok)
			}
			if tt.ok {
				return
			}
			if n, err := Start(c); err == nil {
				_ = n.Close()
				t.Fatal("Start: got no error, want the Validate error")
			}
		})
	}
}

func TestJoinAddrs(t *testing.T) {
	got := joinAddrs([]string{"coordinator", "10.0.0.1:8000", " 10.0.0.2 ", "::1", "[::1]", "[::1]:9", "c/10.0.0.3:7"})
	want := []string{"coordinator:7946", "10.0.0.1:8000", "10.0.0.2:7946", "[::1]:7946", "[::1]:7946", "[::1]:9", "c/10.0.0.3:7"}
	if !slices.Equal(got, want) {
		t.Errorf("joinAddrs: got %q, want %q", got, want)
	}
}

func TestMetaEncoding(t *testing.T) {
	m := Meta{Role: RoleWorker, GRPCAddr: "10.0.0.7:9000", Cores: 12}
	b, err := encodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeMeta(b); got != m {
		t.Errorf("round trip: got %+v, want %+v", got, m)
	}
	for _, bad := range []string{"", "{not json", `{"role": 7}`, "\xff\x00"} {
		if got := decodeMeta([]byte(bad)); got != (Meta{}) {
			t.Errorf("decodeMeta(%q): got %+v, want the zero Meta", bad, got)
		}
	}
	// Unknown fields from a newer node are fine.
	if got := decodeMeta([]byte(`{"role":"worker","grpc":"h:1","zone":"b"}`)); got != (Meta{Role: "worker", GRPCAddr: "h:1"}) {
		t.Errorf("decodeMeta with an unknown field: got %+v", got)
	}
}

// TestView drives the event delegate directly, as memberlist does.
func TestView(t *testing.T) {
	v := newView()
	node := func(name, meta string) *memberlist.Node {
		return &memberlist.Node{Name: name, Addr: net.ParseIP("10.0.0.1"), Port: 7946, Meta: []byte(meta)}
	}
	v.NotifyJoin(node("w2", `{"role":"worker","grpc":"10.0.0.1:9000","cores":2}`))
	v.NotifyJoin(node("junk", "{not json"))
	v.NotifyJoin(node("c", `{"role":"coordinator","grpc":"10.0.0.1:9001"}`))
	want := []Member{
		{Name: "c", Addr: "10.0.0.1:7946", Meta: Meta{Role: RoleCoordinator, GRPCAddr: "10.0.0.1:9001"}, State: StateAlive},
		{Name: "junk", Addr: "10.0.0.1:7946", State: StateAlive},
		{Name: "w2", Addr: "10.0.0.1:7946", Meta: Meta{Role: RoleWorker, GRPCAddr: "10.0.0.1:9000", Cores: 2}, State: StateAlive},
	}
	if got := v.list(); !slices.Equal(got, want) {
		t.Errorf("after joins: got %+v, want %+v", got, want)
	}

	v.NotifyUpdate(node("w2", `{"role":"worker","grpc":"10.0.0.1:9000","cores":8}`))
	v.NotifyLeave(node("junk", ""))
	want = []Member{want[0], want[2]}
	want[1].Meta.Cores = 8
	if got := v.list(); !slices.Equal(got, want) {
		t.Errorf("after update and leave: got %+v, want %+v", got, want)
	}

	// Five changes left one coalesced signal; none blocked.
	for i, want := range []bool{true, false} {
		select {
		case <-v.changes:
			if !want {
				t.Errorf("receive %d: got a signal, want none left", i)
			}
		default:
			if want {
				t.Errorf("receive %d: got no signal, want one", i)
			}
		}
	}
}

func TestLogWriter(t *testing.T) {
	var buf bytes.Buffer
	l := stdLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Printf("[WARN] memberlist: Was able to connect to %s over TCP but UDP probes failed", "w1")
	l.Printf("no prefix at all")
	out := buf.String()
	for _, want := range []string{
		`level=DEBUG msg="Was able to connect to w1 over TCP but UDP probes failed" component=memberlist memberlist_level=WARN`,
		`level=DEBUG msg="no prefix at all" component=memberlist memberlist_level=""`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log output: got %q, want it to contain %q", out, want)
		}
	}
	stdLogger(nil).Printf("[ERR] memberlist: discarded") // must not panic
}
