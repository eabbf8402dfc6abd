package s3

import (
	"context"
	"testing"

	"github.com/tallyhq/tally/internal/leaktest"
	"github.com/tallyhq/tally/internal/s3test"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// config is a Config for srv.
func config(srv *s3test.Server) Config {
	return Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true}
}

// mustNew is a Store for cfg.
func mustNew(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// mustInfo lists rawURL, which must name exactly one object.
func mustInfo(tb testing.TB, s *Store, rawURL string) source.Info {
	tb.Helper()
	infos, err := s.List(context.Background(), rawURL, source.ListOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if len(infos) != 1 {
		tb.Fatalf("list %s: got %d objects, want 1", rawURL, len(infos))
	}
	return infos[0]
}

// mustOpen opens ref with a context that ends with the test.
func mustOpen(tb testing.TB, s *Store, ref task.Ref) source.Object {
	tb.Helper()
	obj, err := s.Open(tb.Context(), ref)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { obj.Close() })
	return obj
}
