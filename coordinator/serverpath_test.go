package coordinator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
)

// mustDataDir makes a data directory with two books in a subdirectory, a
// symbolic link that leads out of it, and a secret file beside it.
func mustDataDir(tb testing.TB) (dir string, docs []doc) {
	tb.Helper()
	base := tb.TempDir()
	dir = filepath.Join(base, "data")
	docs = []doc{
		{"books/a.txt", []byte("the cat and the hat\nthe end\n")},
		{"books/b.txt", []byte("The the THE\nno final newline")},
	}
	for _, d := range docs {
		path := filepath.Join(dir, filepath.FromSlash(d.name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, d.data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	secret := filepath.Join(base, "secret.txt")
	if err := os.WriteFile(secret, []byte("the secret\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "escape.txt")); err != nil {
		tb.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base), filepath.Join(dir, "books", "up")); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "books", ".hidden.txt"), []byte("the\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir, docs
}

func TestServerPaths(t *testing.T) {
	dir, docs := mustDataDir(t)
	c := MustEmbedded(t, 1, 2, func(c *Config) { c.DataDir = dir })
	cl := MustClient(t, c)
	q := countQ(query.Token, false, "the", "The")

	t.Run("file and directory equal uploads", func(t *testing.T) {
		res, err := cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, ChunkSize: 8, ServerPaths: []string{"books/a.txt", "books"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The directory yields its regular files only: the symbolic link and the hidden file are skipped.
		want := []doc{docs[0], docs[0], docs[1]}
		checkExact(t, res, q, want)
	})
	t.Run("hidden when asked", func(t *testing.T) {
		res, err := cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, ServerPaths: []string{"books"}, Hidden: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, res, q, []doc{{"books/.hidden.txt", []byte("the\n")}, docs[0], docs[1]})
	})
	t.Run("absolute path inside", func(t *testing.T) {
		abs := filepath.Join(dir, "books", "b.txt")
		res, err := cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, ServerPaths: []string{abs}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, res, q, []doc{{abs, docs[1].data}})
	})
	t.Run("server paths then uploads", func(t *testing.T) {
		up := []doc{{"up.txt", []byte("the\n")}}
		res, err := cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, ServerPaths: []string{"books/b.txt"}, Documents: clientDocs(up)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, res, q, []doc{docs[1], up[0]})
	})
	for name, path := range map[string]string{
		"dot-dot":          "../secret.txt",
		"dot-dot inside":   "books/../../secret.txt",
		"absolute outside": filepath.Join(filepath.Dir(dir), "secret.txt"),
		"root":             "/etc/passwd",
		"symlink file":     "escape.txt",
		"symlink dir":      "books/up/secret.txt",
		"missing":          "books/none.txt",
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := cl.Run(testCtx(t, 10*time.Second), client.Job{Query: q, ServerPaths: []string{path}}, nil)
			wantCode(t, err, codes.InvalidArgument)
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("got error %q, want it to name %q", err, path)
			}
		})
	}
}

func TestServerPathsNeedDataDir(t *testing.T) {
	c := MustEmbedded(t, 1, 1, nil)
	cl := MustClient(t, c)
	_, err := cl.Run(testCtx(t, 10*time.Second), client.Job{Query: countQ(query.Token, false, "x"), ServerPaths: []string{"a.txt"}}, nil)
	wantCode(t, err, codes.InvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "data directory") {
		t.Errorf("got error %q, want it to say there is no data directory", err)
	}
}
