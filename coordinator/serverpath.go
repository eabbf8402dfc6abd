package coordinator

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tally/decompress"
	tallyv1 "tally/proto/tally/v1"
)

// errNoDataDir refuses server paths on a coordinator that serves no files.
var errNoDataDir = errors.New("this coordinator has no data directory (start it with --data-dir) and cannot read server paths")

// serverFile is one document found under the data directory.
type serverFile struct {
	name string // as the client gave it, or as found under a directory it gave
	rel  string // slash-separated path inside the data directory
	size int64
}

// resolveServerPaths turns client-given paths into the files they name, all
// inside root. Every path is checked before the job starts, so a bad one fails
// the request instead of a job halfway through.
func resolveServerPaths(root *os.Root, dataDir string, paths []string, hidden bool) ([]serverFile, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	if root == nil {
		return nil, errNoDataDir
	}
	var files []serverFile
	fsys := root.FS()
	for _, p := range paths {
		rel, err := insideDataDir(dataDir, p)
		if err != nil {
			return nil, err
		}
		info, err := root.Stat(filepath.FromSlash(rel))
		if err != nil {
			return nil, fmt.Errorf("server path %q: %w", p, pathError(err))
		}
		if !info.IsDir() {
			files = append(files, serverFile{name: p, rel: rel, size: info.Size()})
			continue
		}
		err = fs.WalkDir(fsys, rel, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("server path %q: %w", path, pathError(err))
			}
			if path != rel && !hidden && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil // directories, and symbolic links, which might lead out
			}
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("server path %q: %w", path, pathError(err))
			}
			name := path // under the data directory itself
			if rel != "." {
				name = strings.TrimSuffix(p, "/") + strings.TrimPrefix(path, rel)
			}
			files = append(files, serverFile{name: name, rel: path, size: info.Size()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// insideDataDir returns p as a clean slash-separated path relative to the data
// directory, or an error if p leaves it. Symbolic links are checked when the
// file is opened, by os.Root.
func insideDataDir(dataDir, p string) (string, error) {
	orig := p
	if filepath.IsAbs(p) {
		rel, err := filepath.Rel(dataDir, p)
		if err != nil {
			return "", fmt.Errorf("server path %q is outside the data directory", orig)
		}
		p = rel
	}
	p = filepath.Clean(p)
	if !filepath.IsLocal(p) && p != "." {
		return "", fmt.Errorf("server path %q is outside the data directory", orig)
	}
	return filepath.ToSlash(p), nil
}

// pathError keeps the reason of a path error without repeating the path, and
// says plainly when a symbolic link tried to leave the data directory.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil && strings.Contains(err.Error(), "escapes") {
		return errors.New("leads outside the data directory")
	}
	return err
}

// serverSource reads server files as documents, then hands over to the
// upload (if any) for the client's own documents.
type serverSource struct {
	job   *job
	root  *os.Root
	files []serverFile
	next  int
	file  *os.File      // the open server file
	cur   io.ReadCloser // its text, decompressed if need be
	then  source        // the uploaded documents, or nil
	// uploading is set once the server files are done and then's turn came.
	uploading bool
}

func (s *serverSource) nextDocument() (*tallyv1.DocumentHeader, error) {
	s.closeCurrent()
	if s.next == len(s.files) {
		s.uploading = true
		if s.then == nil {
			return nil, io.EOF
		}
		return s.then.nextDocument()
	}
	f := s.files[s.next]
	s.next++
	file, err := s.root.Open(filepath.FromSlash(f.rel))
	if err != nil {
		return nil, fmt.Errorf("%w: server path %q: %w", errInput, f.name, pathError(err))
	}
	text, _, err := decompress.NewReader(file)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("%w: server path %q: %w", errInput, f.name, err)
	}
	s.file, s.cur = file, text
	return &tallyv1.DocumentHeader{Name: f.name, Size: uint64(f.size)}, nil
}

func (s *serverSource) Read(p []byte) (int, error) {
	switch {
	case s.cur != nil:
		n, err := s.cur.Read(p)
		s.job.received(n)
		return n, err
	case s.uploading && s.then != nil:
		return s.then.Read(p)
	}
	return 0, io.EOF
}

// Close closes the open file, if any.
func (s *serverSource) Close() error {
	s.closeCurrent()
	return nil
}

func (s *serverSource) closeCurrent() {
	if s.cur != nil {
		s.cur.Close()
		s.file.Close()
		s.cur, s.file = nil, nil
	}
}
