package s3

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/s3test"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// listBucket is what TestList lists: objects put through the API (with an
// ETag) and written behind the server's back (without).
var listBucket = map[string]bool{ // key: put through the API
	"a.txt":          true,
	".top.txt":       true,
	"b/c.txt":        true,
	"b/d/e.txt":      false,
	"b/.hidden.txt":  true,
	"b/.git/config":  false,
	"data.txt":       true,
	"data/x.log":     false,
	"data/y.txt":     true,
	"data/sub/z.txt": true,
	"marked/":        true, // a folder marker
	"marked/in.txt":  true,
}

func TestList(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	srv.MustBucket(t, "empty")
	for key, put := range listBucket {
		data := []byte("text of " + key)
		if strings.HasSuffix(key, "/") {
			data = nil
		}
		if put {
			srv.MustPut(t, "docs", key, data)
		} else {
			srv.MustWriteFile(t, "docs", key, data)
		}
	}
	s := mustNew(t, config(srv))

	visible := []string{"a.txt", "b/c.txt", "b/d/e.txt", "data.txt", "data/sub/z.txt", "data/x.log", "data/y.txt", "marked/in.txt"}
	for _, tc := range []struct {
		url    string
		hidden bool
		want   []string // keys
	}{
		{url: "s3://docs/a.txt", want: []string{"a.txt"}},
		{url: "s3://docs/b/.hidden.txt", want: []string{"b/.hidden.txt"}},
		{url: "s3://docs/.top.txt", want: []string{".top.txt"}},
		{url: "s3://docs", want: visible},
		{url: "s3://docs/", want: visible},
		{url: "s3://docs/", hidden: true, want: []string{".top.txt", "a.txt", "b/.git/config", "b/.hidden.txt", "b/c.txt", "b/d/e.txt",
			"data.txt", "data/sub/z.txt", "data/x.log", "data/y.txt", "marked/in.txt"}},
		{url: "s3://docs/b/", want: []string{"b/c.txt", "b/d/e.txt"}},
		{url: "s3://docs/b/", hidden: true, want: []string{"b/.git/config", "b/.hidden.txt", "b/c.txt", "b/d/e.txt"}},
		// A directory named without its slash; data.txt is not in it.
		{url: "s3://docs/data", want: []string{"data/sub/z.txt", "data/x.log", "data/y.txt"}},
		{url: "s3://docs/b", hidden: true, want: []string{"b/.git/config", "b/.hidden.txt", "b/c.txt", "b/d/e.txt"}},
		// Hidden segments above the prefix named do not hide.
		{url: "s3://docs/b/.git/", want: []string{"b/.git/config"}},
		{url: "s3://docs/b/.git", want: []string{"b/.git/config"}},
		{url: "s3://docs/marked/", want: []string{"marked/in.txt"}},
		// Globs: "*" stays in its segment and skips hidden names.
		{url: "s3://docs/*.txt", want: []string{"a.txt", "data.txt"}},
		{url: "s3://docs/*.txt", hidden: true, want: []string{".top.txt", "a.txt", "data.txt"}},
		{url: "s3://docs/*/*.txt", want: []string{"b/c.txt", "data/y.txt", "marked/in.txt"}},
		{url: "s3://docs/*/*.txt", hidden: true, want: []string{"b/.hidden.txt", "b/c.txt", "data/y.txt", "marked/in.txt"}},
		{url: "s3://docs/b/.*", want: []string{"b/.hidden.txt"}},
		{url: "s3://docs/b/*/*", want: []string{"b/d/e.txt"}},
		{url: "s3://docs/b/*/*", hidden: true, want: []string{"b/.git/config", "b/d/e.txt"}},
		{url: "s3://docs/data/?.*", want: []string{"data/x.log", "data/y.txt"}},
		{url: "s3://docs/data/[xz].*", want: []string{"data/x.log"}},
		{url: "s3://docs/dat*", want: []string{"data.txt"}},
	} {
		t.Run(tc.url+map[bool]string{true: "/hidden"}[tc.hidden], func(t *testing.T) {
			infos, err := s.List(t.Context(), tc.url, source.ListOptions{Hidden: tc.hidden})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, info := range infos {
				key := strings.TrimPrefix(info.URL, "s3://docs/")
				got = append(got, key)
				checkInfo(t, info, key)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// checkInfo checks the description of the listBucket object key.
func checkInfo(t *testing.T, info source.Info, key string) {
	t.Helper()
	data := "text of " + key
	want := source.Info{URL: "s3://docs/" + key, Name: "s3://docs/" + key, Size: int64(len(data))}
	if listBucket[key] {
		sum := md5.Sum([]byte(data))
		want.Version, want.Exact = hex.EncodeToString(sum[:]), true // an ETag pins the content
	} else if strings.HasPrefix(info.Version, "lm:") {
		want.Version = info.Version // a time, checked by TestChanged
	}
	if info != want {
		t.Fatalf("got %+v, want %+v", info, want)
	}
}

func TestListNotFound(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	srv.MustBucket(t, "empty")
	srv.MustPut(t, "docs", "b/.hidden.txt", []byte("x"))
	srv.MustPut(t, "docs", "b/dir/", nil)
	s := mustNew(t, config(srv))

	for _, tc := range []struct {
		url  string
		want error
		says string
	}{
		{"s3://docs/nothing", source.ErrNotFound, "no such object"},
		{"s3://docs/nothing/", source.ErrNotFound, "no objects"},
		{"s3://docs/nothing*", source.ErrNotFound, "no object matches"},
		{"s3://docs/b/", source.ErrNotFound, "no objects"},   // hidden only
		{"s3://docs/b/*", source.ErrNotFound, "no object"},   // the same
		{"s3://docs/b/dir", source.ErrNotFound, "no object"}, // a folder marker only
		{"s3://empty", source.ErrNotFound, "no objects"},
		{"s3://nobucket/", source.ErrNotFound, "bucket nobucket does not exist"},
		{"s3://nobucket/a.txt", source.ErrNotFound, "bucket nobucket does not exist"},
		{"s3://nobucket/*.txt", source.ErrNotFound, "bucket nobucket does not exist"},
		{"s3://", task.ErrInput, "names no bucket"},
		{"s3:///a.txt", task.ErrInput, "names no bucket"},
		{"s3://No_Such/a.txt", task.ErrInput, "invalid bucket name"},
		{"file:///a.txt", task.ErrInput, "not an s3:// URL"},
		{"s3://docs/[a", task.ErrInput, "invalid pattern"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := s.List(t.Context(), tc.url, source.ListOptions{})
			wantErr(t, err, tc.url, tc.want)
			if !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("got %q, want an error that says %q", err, tc.says)
			}
			if tc.want == task.ErrInput && errors.Is(err, source.ErrNotFound) {
				t.Fatalf("got %q, want an invalid URL, not a missing object", err)
			}
		})
	}
}
