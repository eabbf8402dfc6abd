package s3

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/tallyhq/tally/task"
)

// scheme starts every URL the store reads.
const scheme = "s3://"

// location is a bucket and a key, or a key prefix, parsed from an s3:// URL.
type location struct {
	bucket, key string
}

// URL is the canonical URL of bucket/key.
func (l location) URL() string { return scheme + l.bucket + "/" + l.key }

// parseURL splits raw, "s3://BUCKET/KEY", into its bucket and key. The key
// is taken as it stands, as the AWS CLI takes it: S3 keys may hold "%",
// "?" and "#", so it is not decoded. It may be empty.
func parseURL(raw string) (location, error) {
	if len(raw) < len(scheme) || !strings.EqualFold(raw[:len(scheme)], scheme) {
		return location{}, fmt.Errorf("%w: %q is not an s3:// URL", task.ErrInput, raw)
	}
	bucket, key, _ := strings.Cut(raw[len(scheme):], "/")
	if bucket == "" {
		return location{}, fmt.Errorf("%w: %q names no bucket (want s3://BUCKET/KEY)", task.ErrInput, raw)
	}
	if err := checkBucket(bucket); err != nil {
		return location{}, fmt.Errorf("%w: %q: invalid bucket name %q: %s", task.ErrInput, raw, bucket, err)
	}
	if len(key) > 1024 {
		return location{}, fmt.Errorf("%w: %q: a key is at most 1024 bytes", task.ErrInput, raw)
	}
	if !utf8.ValidString(key) {
		return location{}, fmt.Errorf("%w: %q: a key must be UTF-8", task.ErrInput, raw)
	}
	return location{bucket: bucket, key: key}, nil
}

// checkBucket checks the S3 naming rules for general purpose buckets, so
// that a typo fails at once with a reason instead of as a missing bucket.
// Buckets made before 2018 in us-east-1 may break them (upper case,
// underscores) and cannot be read.
func checkBucket(b string) error {
	switch {
	case len(b) < 3 || len(b) > 63:
		return errors.New("a bucket name has 3 to 63 characters")
	case strings.Trim(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "":
		return errors.New("a bucket name has only lower-case letters, digits, dots and hyphens")
	case !isAlnum(b[0]) || !isAlnum(b[len(b)-1]):
		return errors.New("a bucket name starts and ends with a letter or digit")
	case strings.Contains(b, ".."):
		return errors.New("a bucket name has no two adjacent dots")
	case isIPv4(b):
		return errors.New("a bucket name is not an IP address")
	case strings.HasPrefix(b, "xn--") || strings.HasPrefix(b, "sthree-") ||
		strings.HasSuffix(b, "-s3alias") || strings.HasSuffix(b, "--ol-s3"):
		return errors.New("a bucket name does not use a prefix or suffix reserved by S3")
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}
