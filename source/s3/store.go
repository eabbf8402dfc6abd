// Package s3 reads s3:// documents from Amazon S3 or an S3-compatible
// service (MinIO, Ceph, versitygw). A worker reads its split as ranged GETs
// of its own, pinned to the version that the planner listed, so that a
// document rewritten during a job fails the job instead of mixing two
// texts in one count.
package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// maxIdlePerHost is how many idle connections to the endpoint are kept
// for reuse: a worker reads many ranges at once, and a new TLS connection
// per range would cost more than the range.
const maxIdlePerHost = 64

// Store reads and lists s3:// URLs at one endpoint. It is safe for
// concurrent use.
type Store struct {
	core     *client
	endpoint string
}

var (
	_ source.Opener = (*Store)(nil)
	_ source.Lister = (*Store)(nil)
)

// New returns a Store for cfg. It sends no request: a wrong endpoint or
// key shows at the first read or listing.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Configured() {
		return nil, errors.New("s3: no credentials: set an access key and a secret key (anonymous access is not supported)")
	}
	u, err := cfg.endpointURL()
	if err != nil {
		return nil, err
	}
	tr := newTransport()
	if u.Scheme == "https" {
		if tr.TLSClientConfig, err = cfg.tlsConfig(); err != nil {
			return nil, err
		}
	}
	core := &client{
		http: &http.Client{Transport: tr}, endpoint: u, pathStyle: cfg.PathStyle,
		region: cfg.region(), accessKey: cfg.AccessKey, secretKey: cfg.SecretKey, token: cfg.SessionToken,
	}
	return &Store{core: core, endpoint: u.String()}, nil
}

// Endpoint is the URL of the service the store reads, for logs.
func (s *Store) Endpoint() string { return s.endpoint }

// Open opens ref's object, pinned to ref.Version and ref.Size, which it
// trusts without a request. A ref with no version is pinned to the object
// as it is now, which costs a HEAD request. ctx bounds every read of the
// object.
func (s *Store) Open(ctx context.Context, ref task.Ref) (source.Object, error) {
	loc, err := parseURL(ref.URL)
	if err != nil {
		return nil, err
	}
	if loc.key == "" || strings.HasSuffix(loc.key, "/") {
		return nil, fmt.Errorf("%w: %q names no object", task.ErrInput, ref.URL)
	}
	size, version := ref.Size, ref.Version
	if version == "" {
		info, err := s.core.stat(ctx, loc.bucket, loc.key)
		if err != nil {
			return nil, classify(loc, err)
		}
		size, version = info.Size, versionOf(info)
	}
	o := &object{core: s.core, ctx: ctx, loc: loc, size: size}
	if ns, ok := strings.CutPrefix(version, lmPrefix); ok {
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: invalid version %q", task.ErrInput, ref.URL, version)
		}
		o.lastModified = time.Unix(0, n)
	} else {
		o.etag = version
	}
	return o, nil
}

// lmPrefix marks a version that is a Last-Modified time, in Unix
// nanoseconds, rather than an ETag.
const lmPrefix = "lm:"

// versionOf is the version of the object info describes: its ETag, or, for
// a server that gives none (versitygw serving files written behind its
// back), its Last-Modified time. The time is cut to whole seconds, as
// HTTP dates are, so that a listing's time matches a GET's header. It is ""
// when the server gives neither: reads then check only the size.
func versionOf(info objectInfo) string {
	if etag := strings.Trim(info.ETag, `"`); etag != "" {
		return etag
	}
	if info.LastModified.IsZero() {
		return ""
	}
	return lmPrefix + strconv.FormatInt(info.LastModified.Truncate(time.Second).UnixNano(), 10)
}

// deniedCodes are the S3 error codes of credentials that cannot read.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"SignatureDoesNotMatch": true,
	"InvalidAccessKeyId":    true,
	"InvalidToken":          true,
	"AllAccessDisabled":     true,
	"AccountProblem":        true,
	"XAdminUserNotFound":    true, // versitygw's unknown access key, with status 404
}

// classify maps an error of a request for loc to the store errors. Errors
// of the service or the network are left plain: they are transient, and the
// task is tried again.
func classify(loc location, err error) error {
	var resp *errorResponse
	if !errors.As(err, &resp) {
		return fmt.Errorf("%s: %w", loc.URL(), err)
	}
	switch {
	// The code first, as versitygw answers an unknown access key with 404.
	case deniedCodes[resp.Code] || resp.StatusCode == 403:
		return fmt.Errorf("%s: %w: %s: %w", loc.URL(), source.ErrDenied, resp.Code, err)
	case resp.Code == "NoSuchBucket":
		return fmt.Errorf("%s: %w: bucket %s does not exist", loc.URL(), source.ErrNotFound, loc.bucket)
	case resp.Code == "NoSuchKey" || resp.StatusCode == 404:
		return fmt.Errorf("%s: %w: %w", loc.URL(), source.ErrNotFound, err)
	case resp.Code == "PreconditionFailed" || resp.StatusCode == 412:
		return fmt.Errorf("%s: %w (its ETag is no longer the one planned)", loc.URL(), source.ErrChanged)
	case resp.Code == "InvalidRange" || resp.StatusCode == 416:
		// Reads ask only for ranges inside the planned size.
		return fmt.Errorf("%s: %w (it is shorter than planned)", loc.URL(), source.ErrChanged)
	}
	return fmt.Errorf("%s: %w", loc.URL(), err)
}
