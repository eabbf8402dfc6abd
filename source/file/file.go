// Package file reads file:// refs inside one directory: a shared volume that
// the coordinator and workers mount under the same path, or, for the CLI's
// embedded worker, the whole file system ("/"). Paths are confined to a
// directory by os.Root: "..", and symbolic links that lead out (or are
// absolute), are refused; the whole file system follows every link, as the
// user's own shell does. Only regular files are read: a named pipe, socket
// or device is refused before it is opened, and opened without blocking in
// case one was swapped in (ErrNotRegular).
package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/tallyhq/tally/internal/localfile"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/task"
)

// Volume opens file:// refs inside its directory. It is safe for concurrent use.
type Volume struct {
	dir  string   // absolute and clean
	root *os.Root // nil for "/": the whole file system, unconfined
	maps mappings // the files that open objects have mapped
}

// Open returns a Volume for dir, which must exist.
func Open(dir string) (*Volume, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("volume %s: %w", dir, err)
	}
	if abs == "/" {
		return &Volume{dir: abs}, nil
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open volume: %w", err)
	}
	return &Volume{dir: abs, root: root}, nil
}

// Dir is the volume's absolute directory.
func (v *Volume) Dir() string { return v.dir }

// Close releases the directory.
func (v *Volume) Close() error {
	if v.root == nil {
		return nil
	}
	return v.root.Close()
}

// URL is the file:// URL of the absolute path p.
func URL(p string) string { return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String() }

// Version is the version of a file with info fi: its size, modification
// time and inode, which a rewrite in place or a replacement changes.
func Version(fi fs.FileInfo) string {
	v := fmt.Sprintf("%d-%d", fi.Size(), fi.ModTime().UnixNano())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		v += fmt.Sprintf("-%d", st.Ino)
	}
	return v
}

// Stat describes the regular file at the absolute path p inside the volume,
// named name in results.
func (v *Volume) Stat(p, name string) (source.Info, error) {
	rel, err := v.rel(p)
	if err != nil {
		return source.Info{}, err
	}
	fi, err := v.stat(rel)
	if err != nil {
		return source.Info{}, fmt.Errorf("%s: %w", name, classify(err))
	}
	if !fi.Mode().IsRegular() {
		return source.Info{}, fmt.Errorf("%s: %w", name, NotRegular(fi.Mode()))
	}
	return Info(p, name, fi), nil
}

// Info describes the regular file at the absolute path p, with info fi,
// named name in results: a name as localfile.DisplayName shows it, since results
// cross gRPC in protobuf strings, which must be valid UTF-8. Its URL is
// always valid: it percent-encodes every byte of p that is not plain ASCII.
// Its version is exact: read in splits.
func Info(p, name string, fi fs.FileInfo) source.Info {
	return source.Info{URL: URL(p), Name: name, Size: fi.Size(), Version: Version(fi), Exact: true}
}

// Open opens ref's file. With ref.Version set, the file must still be that
// version, and every read checks that it still is.
func (v *Volume) Open(ctx context.Context, ref task.Ref) (source.Object, error) {
	u, err := url.Parse(ref.URL)
	if err != nil || u.Scheme != "file" {
		return nil, fmt.Errorf("%w: %q is not a file:// URL", task.ErrInput, ref.URL)
	}
	rel, err := v.rel(u.Path)
	if err != nil {
		return nil, err
	}
	name := localfile.DisplayName(u.Path)
	f, fi, err := v.open(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, classify(err))
	}
	o := &object{f: f, path: name, size: fi.Size(), version: ref.Version, maps: &v.maps, key: mapKey(fi)}
	if err := o.check(fi); err != nil {
		f.Close()
		return nil, err
	}
	return o, nil
}

func (v *Volume) stat(rel string) (fs.FileInfo, error) {
	if v.root == nil {
		return os.Stat(filepath.Join(v.dir, rel))
	}
	return v.root.Stat(rel)
}

// open opens the regular file rel, refusing anything else before it is
// opened and opening without blocking, as localfile.OpenRegular does.
func (v *Volume) open(rel string) (*os.File, fs.FileInfo, error) {
	if v.root == nil {
		return asInput(localfile.OpenRegular(filepath.Join(v.dir, rel)))
	}
	fi, err := v.root.Stat(rel)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, NotRegular(fi.Mode())
	}
	return asInput(localfile.CheckRegular(v.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)))
}

// rel is p relative to the volume's directory, or an input error when p is not inside it.
func (v *Volume) rel(p string) (string, error) {
	p = path.Clean(filepath.ToSlash(p))
	dir := filepath.ToSlash(v.dir)
	if !path.IsAbs(p) {
		return "", fmt.Errorf("%w: %s is not an absolute path", task.ErrInput, localfile.DisplayName(p))
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
	if p != dir && !strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/") {
		return "", fmt.Errorf("%w: %s is outside the volume %s", task.ErrInput, localfile.DisplayName(p), localfile.DisplayName(v.dir))
	}
	if rel == "" {
		rel = "."
	}
	return filepath.FromSlash(rel), nil
}

// classify maps a file error to the store errors.
func classify(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", source.ErrNotFound, unwrapPath(err))
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %w", source.ErrDenied, unwrapPath(err))
	case strings.Contains(err.Error(), "escapes"):
		return fmt.Errorf("%w: a symbolic link leads outside the volume", source.ErrDenied)
	}
	return err
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// object is an open file pinned to a version.
type object struct {
	f       *os.File
	path    string // as errors show it: DisplayName
	size    int64
	version string // "" when not pinned

	maps *mappings
	key  string // this version of the file, as the volume's mappings know it

	mu     sync.Mutex // guards mapped
	mapped *mapping   // nil until Mapped
}

// mapKey names a version of a file among a volume's mappings: its device
// too, as inodes are numbered per file system.
func mapKey(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%s", st.Dev, Version(fi))
	}
	return Version(fi)
}

func (o *object) Size() int64 { return o.size }

func (o *object) Close() error {
	o.mu.Lock()
	if o.mapped != nil {
		o.maps.release(o.key, o.mapped)
		o.mapped = nil
	}
	o.mu.Unlock()
	return o.f.Close()
}

// Mapped maps the file, or shares the mapping that another object open on
// this version holds.
func (o *object) Mapped() ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mapped == nil {
		m, err := o.maps.acquire(o.f, o.key, o.size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.path, err)
		}
		o.mapped = m
	}
	return o.mapped.data, nil
}

// Unmap drops the page-table entries of the whole pages of [lo, hi): the
// file's pages stay in the page cache, and a thread that still reads one
// (a neighbouring split's) faults it in again.
func (o *object) Unmap(lo, hi int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mapped == nil {
		return
	}
	lo = (max(lo, 0) + pageSize - 1) &^ (pageSize - 1)
	hi = min(hi, int64(len(o.mapped.data))) &^ (pageSize - 1)
	if lo < hi {
		dontNeed(o.mapped.data[lo:hi])
	}
}

// Check checks that the file is still the version planned.
func (o *object) Check() error {
	fi, err := o.f.Stat()
	if err != nil {
		return err
	}
	return o.check(fi)
}

// ReadAt reads, then checks that the file is still the version planned: a
// rewrite during the read changes its modification time.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.f.ReadAt(p, off)
	if o.version != "" {
		fi, serr := o.f.Stat()
		if serr != nil {
			return n, serr
		}
		if cerr := o.check(fi); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

func (o *object) check(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w", o.path, NotRegular(fi.Mode()))
	}
	if o.version != "" && Version(fi) != o.version {
		return fmt.Errorf("%s: %w (size and modification time differ)", o.path, source.ErrChanged)
	}
	return nil
}
