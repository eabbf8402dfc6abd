package s3

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/s3test"
	"github.com/tallyhq/tally/source"
)

// TestSignatureExample signs the example of AWS's documentation of
// Signature Version 4 for S3 ("GET Bucket (List Objects)"), whose
// signature is published: a request to a bucket by its host name, which
// the tests against versitygw (path style) do not make.
func TestSignatureExample(t *testing.T) {
	c := &client{
		endpoint: &url.URL{Scheme: "https", Host: "s3.amazonaws.com"}, region: "us-east-1",
		accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	}
	q := url.Values{"max-keys": {"2"}, "prefix": {"J"}}
	req, err := c.request(t.Context(), "GET", "examplebucket", "", q, nil, time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J"; got != want {
		t.Errorf("URL %s, want %s", got, want)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=host;x-amz-content-sha256;x-amz-date, " +
		"Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n%s, want\n%s", got, want)
	}
}

func TestUsesVirtualHost(t *testing.T) {
	for _, tc := range []struct {
		endpoint, bucket string
		pathStyle, want  bool
	}{
		{"https://s3.amazonaws.com", "books", false, true},
		{"https://s3.eu-west-3.amazonaws.com", "books", false, true},
		{"https://s3-eu-west-1.amazonaws.com", "books", false, true},
		{"https://s3.eu-west-3.amazonaws.com", "books", true, false},
		{"https://s3.eu-west-3.amazonaws.com", "my.books", false, false}, // the certificate's wildcard covers one label
		{"http://s3.eu-west-3.amazonaws.com", "my.books", false, true},
		{"http://127.0.0.1:7070", "books", false, false},
		{"https://minio.local:9000", "books", false, false},
		{"https://s3.example.com", "books", false, false},
	} {
		u, err := url.Parse(tc.endpoint)
		if err != nil {
			t.Fatal(err)
		}
		if got := usesVirtualHost(u, tc.bucket, tc.pathStyle); got != tc.want {
			t.Errorf("usesVirtualHost(%s, %s, path style %v) = %v, want %v", tc.endpoint, tc.bucket, tc.pathStyle, got, tc.want)
		}
	}
}

// TestRequestPath checks that a key is sent as it is signed: every byte
// but the unreserved ones and "/" percent-encoded, the query sorted.
func TestRequestPath(t *testing.T) {
	c := &client{endpoint: &url.URL{Scheme: "http", Host: "127.0.0.1:7070"}, region: "us-east-1", accessKey: "AK", secretKey: "SK"}
	key := "dir/a b+c%d~é!.txt"
	q := url.Values{"prefix": {"a b"}, "list-type": {"2"}}
	req, err := c.request(t.Context(), "GET", "docs", key, q, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := "/docs/dir/a%20b%2Bc%25d~%C3%A9%21.txt?list-type=2&prefix=a%20b"
	if got := req.URL.RequestURI(); got != want {
		t.Errorf("request URI %s, want %s", got, want)
	}
	if req.URL.Path != "/docs/"+key {
		t.Errorf("path %q, want %q", req.URL.Path, "/docs/"+key)
	}
	if auth := req.Header.Get("Authorization"); !strings.Contains(auth, "Credential=AK/") {
		t.Errorf("Authorization %q names no credential", auth)
	}
}

// TestAwkwardKeys lists and reads keys whose bytes need encoding, in the
// request path and in a listing's url-encoded keys, from a real server.
func TestAwkwardKeys(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	keys := []string{"a b/c d.txt", "plus+and&amp;=.txt", "ünï/cödé.txt", "pct%41~!'().txt"}
	for _, k := range keys {
		srv.MustPut(t, "docs", k, []byte("text of "+k))
	}
	s := mustNew(t, config(srv))
	infos, err := s.List(t.Context(), "s3://docs/", source.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, info := range infos {
		got = append(got, strings.TrimPrefix(info.URL, "s3://docs/"))
		buf := make([]byte, info.Size)
		n, err := mustOpen(t, s, info.Ref()).ReadAt(buf, 0)
		if err != nil && n != len(buf) {
			t.Fatalf("read %s: %v", info.URL, err)
		}
		if want := "text of " + strings.TrimPrefix(info.URL, "s3://docs/"); string(buf) != want {
			t.Errorf("read %s: got %q, want %q", info.URL, buf, want)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("listed %q, want %q", got, keys)
	}
}

// TestListPages lists more keys than one page of a listing holds (1,000).
func TestListPages(t *testing.T) {
	srv := s3test.Start(t, t.TempDir())
	srv.MustBucket(t, "docs")
	const n = 1005
	for i := range n {
		srv.MustWriteFile(t, "docs", fmt.Sprintf("many/%04d.txt", i), []byte("x"))
	}
	s := mustNew(t, config(srv))
	infos, err := s.List(t.Context(), "s3://docs/many/", source.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != n {
		t.Fatalf("listed %d objects, want %d", len(infos), n)
	}
	for i, info := range infos {
		if want := fmt.Sprintf("s3://docs/many/%04d.txt", i); info.URL != want || info.Size != 1 {
			t.Fatalf("object %d is %s of %d bytes, want %s of 1", i, info.URL, info.Size, want)
		}
	}
}
