package s3

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// client makes the few S3 calls a Store needs (HEAD and GET of an object,
// ListObjectsV2), signed with AWS Signature Version 4. They are written out
// here rather than taken from an SDK: minio-go's package initialisation
// (CPU feature probing, whose CPUID instructions trap to the hypervisor on
// a VM, dozens of regular expressions, random IDs) cost every start of the
// tally binary about a millisecond, CLI runs on a tiny file included. It is
// safe for concurrent use.
type client struct {
	http     *http.Client
	endpoint *url.URL // scheme and host
	// pathStyle addresses every bucket as HOST/BUCKET, never as
	// BUCKET.HOST (see usesVirtualHost).
	pathStyle bool
	region    string
	accessKey string
	secretKey string
	token     string // session token, for temporary credentials
}

// Attempts of one request: a transient failure (the network, a 5xx, a
// throttle) is tried once more after a pause, and then left to the
// caller, which retries with backoff of its own.
const (
	requestAttempts = 2
	retryPause      = 200 * time.Millisecond
)

// emptySHA256 is the hex SHA-256 of an empty payload: the requests here
// send no body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// newTransport is the HTTP transport of a store: many idle connections
// kept per host, since a worker reads many ranges at once, and no
// transparent decompression, which would change the bytes of a range.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       time.Minute,
		ResponseHeaderTimeout: time.Minute,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 10 * time.Second,
		DisableCompression:    true,
	}
}

// errorResponse is an error answered by the service: its HTTP status and,
// when the response has a body (not for HEAD), S3's error code and message.
type errorResponse struct {
	StatusCode int
	Code       string
	Message    string
}

func (e *errorResponse) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Code, e.StatusCode)
}

// objectInfo is what a HEAD or a listing says of an object.
type objectInfo struct {
	Key          string
	Size         int64
	ETag         string
	LastModified time.Time
}

// usesVirtualHost says whether requests to bucket at endpoint address it as
// a host name: on AWS, unless a dot in the name would break the
// certificate's wildcard over HTTPS.
func usesVirtualHost(endpoint *url.URL, bucket string, pathStyle bool) bool {
	host := endpoint.Hostname()
	aws := host == "s3.amazonaws.com" || (strings.HasPrefix(host, "s3.") || strings.HasPrefix(host, "s3-")) && strings.HasSuffix(host, ".amazonaws.com")
	return !pathStyle && aws && !(endpoint.Scheme == "https" && strings.Contains(bucket, "."))
}

// stat returns the info of the object key in bucket, from a HEAD request.
func (c *client) stat(ctx context.Context, bucket, key string) (objectInfo, error) {
	resp, err := c.do(ctx, http.MethodHead, bucket, key, nil, nil)
	if err != nil {
		return objectInfo{}, err
	}
	resp.Body.Close()
	info := objectInfo{Key: key, ETag: strings.Trim(resp.Header.Get("ETag"), `"`)}
	if info.Size, err = strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err != nil {
		return objectInfo{}, fmt.Errorf("HEAD response has no valid Content-Length: %w", err)
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		info.LastModified, _ = http.ParseTime(lm)
	}
	return info, nil
}

// get sends a GET of the object key in bucket, of bytes [first, last]
// when last >= 0, only if its ETag is etag when etag is set. The caller
// closes the body.
func (c *client) get(ctx context.Context, bucket, key string, first, last int64, etag string) (*http.Response, error) {
	h := http.Header{}
	if last >= 0 {
		h.Set("Range", fmt.Sprintf("bytes=%d-%d", first, last))
	}
	if etag != "" {
		h.Set("If-Match", `"`+etag+`"`)
	}
	return c.do(ctx, http.MethodGet, bucket, key, nil, h)
}

// listPage is one page of a ListObjectsV2 answer.
type listPage struct {
	IsTruncated           bool
	NextContinuationToken string
	EncodingType          string
	Contents              []struct {
		Key          string
		Size         int64
		ETag         string
		LastModified time.Time
	}
}

// list returns every object whose key starts with prefix, page by page.
func (c *client) list(ctx context.Context, bucket, prefix string) ([]objectInfo, error) {
	var out []objectInfo
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}, "encoding-type": {"url"}, "fetch-owner": {"false"}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		resp, err := c.do(ctx, http.MethodGet, bucket, "", q, nil)
		if err != nil {
			return nil, err
		}
		var page listPage
		err = xml.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("list bucket %s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			key := o.Key
			if page.EncodingType == "url" {
				if key, err = url.QueryUnescape(key); err != nil {
					return nil, fmt.Errorf("list bucket %s: key %q: %w", bucket, o.Key, err)
				}
			}
			out = append(out, objectInfo{Key: key, Size: o.Size, ETag: strings.Trim(o.ETag, `"`), LastModified: o.LastModified})
		}
		if !page.IsTruncated {
			return out, nil
		}
		if page.NextContinuationToken == "" || page.NextContinuationToken == token {
			return nil, fmt.Errorf("list bucket %s: a truncated page without a new continuation token", bucket)
		}
		token = page.NextContinuationToken
	}
}

// do sends a signed request and returns a successful response (2xx), or
// an *errorResponse for the service's refusal, after trying a transient
// failure again.
func (c *client) do(ctx context.Context, method, bucket, key string, query url.Values, header http.Header) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, method, bucket, key, query, header)
		if err == nil || attempt == requestAttempts || !transient(ctx, err) {
			return resp, err
		}
		select {
		case <-time.After(retryPause):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// transient says whether err may pass if tried again: a refused or broken
// connection, a 5xx or a throttle; not an answer about the request, nor a
// certificate the client does not trust, nor the caller's own end.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var resp *errorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.Code == "SlowDown"
	}
	var cert *tls.CertificateVerificationError
	return !errors.As(err, &cert)
}

func (c *client) once(ctx context.Context, method, bucket, key string, query url.Values, header http.Header) (*http.Response, error) {
	req, err := c.request(ctx, method, bucket, key, query, header, time.Now())
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	e := &errorResponse{StatusCode: resp.StatusCode}
	var body struct {
		Code    string
		Message string
	}
	if method != http.MethodHead && xml.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil {
		e.Code, e.Message = body.Code, body.Message
	}
	if e.Code == "" {
		e.Code = statusCode(resp.StatusCode, key)
	}
	return nil, e
}

// statusCode is the S3 error code a response without a body most likely
// stands for, as SDKs read a HEAD's status.
func statusCode(status int, key string) string {
	switch status {
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusNotFound:
		if key == "" {
			return "NoSuchBucket"
		}
		return "NoSuchKey"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	case http.StatusRequestedRangeNotSatisfiable:
		return "InvalidRange"
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// request builds the request for key in bucket (the bucket itself when key
// is ""), signed at time now.
func (c *client) request(ctx context.Context, method, bucket, key string, query url.Values, header http.Header, now time.Time) (*http.Request, error) {
	u := *c.endpoint
	path := "/" + bucket + "/" + key
	if usesVirtualHost(c.endpoint, bucket, c.pathStyle) {
		u.Host = bucket + "." + u.Host
		path = "/" + key
	}
	u.Path, u.RawPath = path, encodePath(path)
	u.RawQuery = canonicalQuery(query)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for name, vals := range header {
		req.Header[name] = vals
	}
	c.sign(req, u.RawPath, now)
	return req, nil
}

// sign adds the Signature Version 4 headers to req, whose path is
// escapedPath as S3 encodes it and whose query is canonical already.
func (c *client) sign(req *http.Request, escapedPath string, now time.Time) {
	stamp := now.UTC().Format("20060102T150405Z")
	day := stamp[:8]
	req.Header.Set("X-Amz-Date", stamp)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if c.token != "" {
		req.Header.Set("X-Amz-Security-Token", c.token)
	}
	signed := []string{"host", "x-amz-content-sha256", "x-amz-date"}
	if c.token != "" {
		signed = append(signed, "x-amz-security-token")
	}
	var headers strings.Builder
	for _, name := range signed {
		v := req.URL.Host
		if name != "host" {
			v = req.Header.Get(name)
		}
		headers.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
	}
	signedList := strings.Join(signed, ";")
	canonical := strings.Join([]string{req.Method, escapedPath, req.URL.RawQuery, headers.String(), signedList, emptySHA256}, "\n")
	scope := day + "/" + c.region + "/s3/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+c.secretKey), day)
	for _, part := range []string{c.region, "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	signature := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.accessKey+"/"+scope+", SignedHeaders="+signedList+", Signature="+signature)
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// canonicalQuery encodes q as Signature Version 4 wants it: sorted by key,
// every byte but the unreserved ones percent-encoded.
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		for _, v := range vals {
			parts = append(parts, encode(k, false)+"="+encode(v, false))
		}
	}
	return strings.Join(parts, "&")
}

// encodePath percent-encodes an object path as S3 signs it: every byte but
// the unreserved ones and "/".
func encodePath(p string) string { return encode(p, true) }

func encode(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || keepSlash && c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
