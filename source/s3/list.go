package s3

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// globChars are the characters that make a key a pattern, as in path.Match.
// A pattern's literal prefix also ends at a backslash, which escapes the
// character after it.
const (
	globChars   = "*?["
	prefixStops = globChars + `\`
)

// List returns the objects that rawURL names, in key order, as a walk of a
// local directory would:
//   - s3://b/key: the object key, or else, when there are objects under
//     "key/", those, as a directory;
//   - s3://b/prefix/ or s3://b: every object under the prefix, at any depth;
//   - s3://b/dir/*.txt: the keys that path.Match the whole key, so that "*"
//     does not cross "/", as in a shell.
//
// Keys that end in "/", the markers some tools make for folders, are not
// documents. Unless opts.Hidden, neither is a key with a segment that
// starts with "." below the prefix named, nor one whose "." segment a
// wildcard would match (a named segment, as ".config/*", is kept).
func (s *Store) List(ctx context.Context, rawURL string, opts source.ListOptions) ([]source.Info, error) {
	loc, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var found []source.Info
	var none string // why nothing was found
	switch {
	case strings.ContainsAny(loc.key, globChars):
		found, err = s.listGlob(ctx, loc, opts)
		none = "no object matches"
	case loc.key == "" || strings.HasSuffix(loc.key, "/"):
		found, err = s.listPrefix(ctx, loc, loc.key, opts)
		none = "no objects under it"
	default:
		found, err = s.listKey(ctx, loc, opts)
		none = fmt.Sprintf("no such object, and no objects under %s/", loc.URL())
	}
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%s: %w: %s", loc.URL(), source.ErrNotFound, none)
	}
	return found, nil
}

// listKey lists the object key, or the "directory" key/ when there is no
// such object.
func (s *Store) listKey(ctx context.Context, loc location, opts source.ListOptions) ([]source.Info, error) {
	info, err := s.core.stat(ctx, loc.bucket, loc.key)
	if err == nil {
		return []source.Info{infoOf(loc.bucket, info)}, nil
	}
	// A HEAD response has no body to tell a missing key from a missing
	// bucket: the listing below says which.
	if err := classify(loc, err); !errors.Is(err, source.ErrNotFound) {
		return nil, err
	}
	return s.listPrefix(ctx, loc, loc.key+"/", opts)
}

// listPrefix lists every object under prefix, for the URL loc.
func (s *Store) listPrefix(ctx context.Context, loc location, prefix string, opts source.ListOptions) ([]source.Info, error) {
	return s.walk(ctx, loc, prefix, func(key string) bool {
		return opts.Hidden || !hasHiddenSegment(key[len(prefix):])
	})
}

// listGlob lists the objects whose keys match loc.key as a pattern.
func (s *Store) listGlob(ctx context.Context, loc location, opts source.ListOptions) ([]source.Info, error) {
	pattern := loc.key
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("%w: %s: invalid pattern: %w", task.ErrInput, loc.URL(), err)
	}
	prefix := pattern[:strings.IndexAny(pattern, prefixStops)]
	return s.walk(ctx, loc, prefix, func(key string) bool {
		ok, _ := path.Match(pattern, key)
		return ok && (opts.Hidden || !wildcardHidden(pattern, key))
	})
}

// walk lists the objects under prefix that keep accepts, in key order,
// leaving out folder markers. Errors name the URL loc.
func (s *Store) walk(ctx context.Context, loc location, prefix string, keep func(key string) bool) ([]source.Info, error) {
	objects, err := s.core.list(ctx, loc.bucket, prefix)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", loc.URL(), ctx.Err())
		}
		return nil, classify(loc, err)
	}
	var out []source.Info
	for _, obj := range objects {
		if strings.HasSuffix(obj.Key, "/") || !keep(obj.Key) {
			continue
		}
		out = append(out, infoOf(loc.bucket, obj))
	}
	// S3 lists in UTF-8 byte order; S3-compatible servers need not.
	slices.SortFunc(out, func(a, b source.Info) int { return strings.Compare(a.URL, b.URL) })
	return out, nil
}

// infoOf describes the object info in bucket.
func infoOf(bucket string, info objectInfo) source.Info {
	u := location{bucket: bucket, key: info.Key}.URL()
	v := versionOf(info)
	return source.Info{URL: u, Name: u, Size: info.Size, Version: v, Exact: v != "" && !strings.HasPrefix(v, lmPrefix)}
}

// hasHiddenSegment reports whether a segment of the relative key rel
// starts with ".".
func hasHiddenSegment(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// wildcardHidden reports whether key, which matches pattern, has a segment
// starting with "." that the pattern does not spell with a literal ".", as
// a shell leaves hidden files out of "*". Since no wildcard matches "/",
// the key and the pattern have the same number of segments.
func wildcardHidden(pattern, key string) bool {
	pats := strings.Split(pattern, "/")
	for i, seg := range strings.Split(key, "/") {
		if strings.HasPrefix(seg, ".") && !strings.HasPrefix(pats[i], ".") {
			return true
		}
	}
	return false
}
