package s3test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tallyhq/tally/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// client is a client of srv built from its exported fields only, as a
// store under test builds one.
func client(t *testing.T, srv *Server) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(srv.Endpoint, "http://"), &minio.Options{
		Creds:      credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		Region:     "us-east-1",
		MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type listed struct{ key, etag string }

func list(t *testing.T, c *minio.Client, bucket string) []listed {
	t.Helper()
	var out []listed
	for o := range c.ListObjectsIter(t.Context(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s: %v", bucket, o.Err)
		}
		out = append(out, listed{o.Key, o.ETag})
	}
	return out
}

func TestServer(t *testing.T) {
	srv := Start(t, t.TempDir())
	c := client(t, srv)
	srv.MustBucket(t, "books")
	put := []byte("put through the API\n")
	srv.MustPut(t, "books", "a/put.txt", put)
	srv.MustWriteFile(t, "books", "b/file.txt", []byte("written behind its back\n"))

	sum := md5.Sum(put)
	want := []listed{{"a/put.txt", hex.EncodeToString(sum[:])}, {"b/file.txt", ""}}
	if got := list(t, c, "books"); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	r, err := c.GetObject(t.Context(), "books", "a/put.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, put) {
		t.Fatalf("got %q, %v, want %q", got, err, put)
	}

	// A rewrite behind the server's back drops the ETag of the old content.
	srv.MustWriteFile(t, "books", "a/put.txt", []byte("new"))
	srv.MustRemove(t, "books", "b/file.txt")
	want = []listed{{"a/put.txt", ""}}
	if got := list(t, c, "books"); !slices.Equal(got, want) {
		t.Fatalf("after rewrite and remove: got %v, want %v", got, want)
	}
}

func TestStop(t *testing.T) {
	srv := Start(t, t.TempDir())
	c := client(t, srv)
	srv.Stop()
	srv.Stop() // and again in the cleanup
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := c.ListBuckets(ctx); err == nil {
		t.Fatal("a stopped server answered")
	}
}

func TestBinaryOnce(t *testing.T) {
	if a, b := Binary(t), Binary(t); a != b {
		t.Fatalf("got %s then %s, want one binary", a, b)
	}
}

// TestFolderMarker puts folder markers between objects: versitygw does not
// read the body of a marker's PUT, which failed MustPut when the body was
// minio-go's streamed one.
func TestFolderMarker(t *testing.T) {
	srv := Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	for i := range 5 {
		dir := string(rune('a'+i)) + "/"
		srv.MustPut(t, "docs", dir, nil)
		srv.MustPut(t, "docs", dir+"x.txt", []byte("x"))
	}
	if got := list(t, client(t, srv), "docs"); len(got) != 10 {
		t.Fatalf("got %v, want 5 markers and 5 objects", got)
	}
}
