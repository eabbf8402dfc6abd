package coordinator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tallyhq/tally/internal/localfile"
	"github.com/tallyhq/tally/source/file"
	"github.com/tallyhq/tally/task"
)

// errNoDataDir refuses server paths on a coordinator that serves no files.
var errNoDataDir = errors.New("this coordinator has no data directory (start it with --data-dir) and cannot read server paths")

// serverFile is one document found under the data directory.
type serverFile struct {
	name string // as the client gave it, or as found under a directory it gave; localfile.DisplayName
	rel  string // slash-separated path inside the data directory
	info fs.FileInfo
}

// ServerInputs returns the documents that paths name inside the data
// directory (files, and directories read recursively in lexical order,
// without hidden entries unless hidden is set), to be read by reference.
// Every path is checked first: one that leaves the data directory, does
// not exist, or names a named pipe, socket or device is an error that wraps
// task.ErrInput; inside a directory those are skipped. A file whose name is
// not valid UTF-8 is named as localfile.DisplayName quotes it.
func (c *Coordinator) ServerInputs(paths []string, hidden bool) ([]Input, error) {
	files, err := resolveServerPaths(c.root, c.cfg.DataDir, paths, hidden)
	if err != nil {
		return nil, task.InputError(err.Error())
	}
	out := make([]Input, len(files))
	for i, f := range files {
		info := file.Info(filepath.Join(c.cfg.DataDir, filepath.FromSlash(f.rel)), f.name, f.info)
		out[i] = Input{Name: f.name, Object: &info}
	}
	return out, nil
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
			if !info.Mode().IsRegular() {
				return nil, fmt.Errorf("server path %s: %w", localfile.DisplayName(p), file.NotRegular(info.Mode()))
			}
			files = append(files, serverFile{name: localfile.DisplayName(p), rel: rel, info: info})
			continue
		}
		err = fs.WalkDir(fsys, rel, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("server path %q: %w", localfile.DisplayName(path), pathError(err))
			}
			if path != rel && !hidden && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				// Directories; symbolic links, which might lead out; named
				// pipes, sockets and devices, skipped as rg skips them. A
				// worker's open refuses one swapped in, without blocking.
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("server path %q: %w", localfile.DisplayName(path), pathError(err))
			}
			name := path // under the data directory itself
			if rel != "." {
				name = strings.TrimSuffix(p, "/") + strings.TrimPrefix(path, rel)
			}
			files = append(files, serverFile{name: localfile.DisplayName(name), rel: path, info: info})
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
