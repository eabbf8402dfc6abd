package task

import (
	"net/url"
	"path"
	"strings"
)

// Storage is what a worker can read by reference, as it tells the
// coordinator: the coordinator gives a Ref only to a worker that can read
// it, and reads it on the worker's behalf when none can.
type Storage struct {
	// SharedRoot is a directory that the worker reads under the same path
	// as the coordinator (a shared volume: NFS, CephFS, a docker volume):
	// it reads file:// refs inside it. "" reads none.
	SharedRoot string
	// S3 says the worker has an S3 endpoint and credentials: it reads s3://
	// refs.
	S3 bool
}

// CanRead reports whether a worker with s can read the document at rawURL.
func (s Storage) CanRead(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "s3":
		return s.S3
	case "file":
		return s.SharedRoot != "" && within(s.SharedRoot, u.Path)
	}
	return false
}

// within reports whether p is root or inside it; both are absolute.
func within(root, p string) bool {
	root, p = path.Clean(root), path.Clean(p)
	return p == root || root == "/" || strings.HasPrefix(p, root+"/")
}
