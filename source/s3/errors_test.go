package s3

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/s3test"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// wantErr checks that err names url and wraps want, or, when want is nil,
// that it is not an input error: a transient one that is tried again.
func wantErr(t *testing.T, err error, url string, want error) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("got no error, want %v", want)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("got %v, want an error that wraps %q", err, want)
	case want == nil && errors.Is(err, task.ErrInput):
		t.Fatalf("got %v, want an error that does not wrap ErrInput", err)
	case !strings.Contains(err.Error(), url):
		t.Fatalf("error %q does not name %s", err, url)
	}
}

// readErr opens ref and reads it, and returns the first error.
func readErr(t *testing.T, s *Store, ref task.Ref) error {
	t.Helper()
	obj, err := s.Open(t.Context(), ref)
	if err != nil {
		return err
	}
	defer obj.Close()
	_, err = obj.ReadAt(make([]byte, 4), 0)
	return err
}

func TestErrors(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	srv.MustPut(t, "docs", "a.txt", []byte("some text"))
	s := mustNew(t, config(srv))
	ref := mustInfo(t, s, "s3://docs/a.txt").Ref()
	at := func(url string) task.Ref { r := ref; r.URL = url; return r }

	t.Run("missing key", func(t *testing.T) {
		url := "s3://docs/missing.txt"
		wantErr(t, readErr(t, s, at(url)), url, source.ErrNotFound)
		wantErr(t, readErr(t, s, task.Ref{URL: url}), url, source.ErrNotFound)
	})
	t.Run("removed after open", func(t *testing.T) {
		srv.MustPut(t, "docs", "gone.txt", []byte("some text"))
		url := "s3://docs/gone.txt"
		obj := mustOpen(t, s, mustInfo(t, s, url).Ref())
		srv.MustRemove(t, "docs", "gone.txt")
		_, err := obj.ReadAt(make([]byte, 4), 0)
		wantErr(t, err, url, source.ErrNotFound)
	})
	t.Run("missing bucket", func(t *testing.T) {
		url := "s3://nobucket/a.txt"
		err := readErr(t, s, at(url))
		wantErr(t, err, url, source.ErrNotFound)
		if !strings.Contains(err.Error(), "bucket nobucket does not exist") {
			t.Fatalf("error %q does not say that the bucket does not exist", err)
		}
		wantErr(t, readErr(t, s, task.Ref{URL: url}), url, source.ErrNotFound)
	})
	t.Run("wrong secret", func(t *testing.T) {
		cfg := config(srv)
		cfg.SecretKey += "x"
		bad := mustNew(t, cfg)
		wantErr(t, readErr(t, bad, ref), ref.URL, source.ErrDenied)
		wantErr(t, readErr(t, bad, task.Ref{URL: ref.URL}), ref.URL, source.ErrDenied)
		_, err := bad.List(t.Context(), "s3://docs/", source.ListOptions{})
		wantErr(t, err, "s3://docs/", source.ErrDenied)
		_, err = bad.List(t.Context(), ref.URL, source.ListOptions{})
		wantErr(t, err, ref.URL, source.ErrDenied)
	})
	t.Run("wrong access key", func(t *testing.T) {
		cfg := config(srv)
		cfg.AccessKey += "x"
		bad := mustNew(t, cfg)
		wantErr(t, readErr(t, bad, ref), ref.URL, source.ErrDenied)
		for _, url := range []string{"s3://docs/", ref.URL} {
			_, err := bad.List(t.Context(), url, source.ListOptions{})
			wantErr(t, err, url, source.ErrDenied)
		}
		// Not an unpinned ref: versitygw answers its HEAD with a bare
		// 404, as for a missing key.
	})
	t.Run("not an object", func(t *testing.T) {
		for _, url := range []string{"s3://docs/", "s3://docs", "s3://docs/dir/", "file:///a.txt", "s3://Docs/a.txt"} {
			_, err := s.Open(t.Context(), task.Ref{URL: url})
			wantErr(t, err, url, task.ErrInput)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		obj, err := s.Open(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err = obj.ReadAt(make([]byte, 4), 0)
		wantErr(t, err, ref.URL, context.Canceled)
		wantErr(t, err, ref.URL, nil)
	})
}

func TestUnreachable(t *testing.T) {
	t.Parallel() // a refused connection is tried again after a pause
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	srv.MustPut(t, "docs", "a.txt", []byte("some text"))
	s := mustNew(t, config(srv))
	ref := mustInfo(t, s, "s3://docs/a.txt").Ref()
	srv.Stop()
	// Both at once: each waits out a retry.
	t.Run("read", func(t *testing.T) {
		t.Parallel()
		wantErr(t, readErr(t, s, ref), ref.URL, nil)
	})
	t.Run("list", func(t *testing.T) {
		t.Parallel()
		_, err := s.List(t.Context(), "s3://docs/", source.ListOptions{})
		wantErr(t, err, "s3://docs/", nil)
	})
}
