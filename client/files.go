package client

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tallyhq/tally/decompress"
	"github.com/tallyhq/tally/internal/localfile"
)

// FileOptions says how FileDocuments expands paths.
type FileOptions struct {
	// Hidden includes files and directories whose names start with "." when
	// reading a directory; they are skipped otherwise.
	Hidden bool
	// OnUnreadable, when set, is told of each file or directory that cannot
	// be read (an *UnreadableError), which is then left out instead of
	// failing FileDocuments.
	OnUnreadable func(*UnreadableError)
}

// UnreadableError is a file or directory that could not be read: missing,
// denied, or failing to open or list.
type UnreadableError struct {
	Name string // as localfile.DisplayName shows it
	Err  error
}

func (e *UnreadableError) Error() string { return "cannot read " + e.Name + ": " + e.Err.Error() }
func (e *UnreadableError) Unwrap() error { return e.Err }

// unreadable reports err for path: to opts.OnUnreadable, returning nil so
// that the caller skips it, or as the error.
func (opts FileOptions) unreadable(path string, err error) error {
	u := &UnreadableError{Name: localfile.DisplayName(path), Err: unwrapPathError(err)}
	if opts.OnUnreadable != nil {
		opts.OnUnreadable(u)
		return nil
	}
	return u
}

// FileDocuments turns paths into documents: a file is itself, a directory is
// every regular file below it (recursively, each directory's entries in
// lexical order, named as found under the path given; named pipes, sockets
// and devices are skipped, as rg skips them), a glob such as
// 'books/*.txt' is the paths it matches (in lexical order; for shells that did
// not expand it), and "-" is stdin. gzip and zstd files are decompressed,
// recognised by their first bytes. A path that cannot be read, or that names
// a named pipe, socket or device (which could block for ever), is an error
// before anything is uploaded. A name that is not valid UTF-8 is shown as
// localfile.DisplayName quotes it; Document.Path keeps the real one.
func FileDocuments(paths []string, stdin io.Reader, opts FileOptions) ([]Document, error) {
	var docs []Document
	usedStdin := false
	for _, p := range paths {
		if p == "-" {
			if usedStdin {
				return nil, fmt.Errorf("stdin (-) can be given only once")
			}
			usedStdin = true
			growPipe(stdin)
			docs = append(docs, Document{Name: "-", Open: func() (io.ReadCloser, error) { return decompress.Open(io.NopCloser(stdin)) }})
			continue
		}
		expanded, err := expandGlob(p, opts)
		if err != nil {
			return nil, err
		}
		for _, path := range expanded {
			found, err := pathDocuments(path, opts)
			if err != nil {
				return nil, err
			}
			docs = append(docs, found...)
		}
	}
	return docs, nil
}

// expandGlob returns the files a glob matches, or p itself when p exists or
// has no glob characters.
// As in a shell, a wildcard does not match a leading "." unless the pattern
// has one there or hidden files are asked for.
func expandGlob(p string, opts FileOptions) ([]string, error) {
	if _, err := os.Lstat(p); err == nil || !strings.ContainsAny(p, "*?[") {
		return []string{p}, nil
	}
	all, err := filepath.Glob(p)
	if err != nil {
		return nil, fmt.Errorf("bad pattern %s: %w", localfile.DisplayName(p), err)
	}
	dotPattern := strings.HasPrefix(filepath.Base(p), ".")
	var matches []string
	for _, m := range all { // Glob sorts them
		if opts.Hidden || dotPattern || !strings.HasPrefix(filepath.Base(m), ".") {
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("no file matches %s", localfile.DisplayName(p))
	}
	return matches, nil
}

func pathDocuments(p string, opts FileOptions) ([]Document, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, opts.unreadable(p, err)
	}
	if !info.IsDir() {
		d, err := fileDocument(p)
		if errors.Is(err, localfile.ErrNotRegular) {
			return nil, fmt.Errorf("%w; give - to read standard input", err)
		}
		if err != nil {
			return nil, opts.unreadable(p, err)
		}
		return []Document{d}, nil
	}
	var docs []Document
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// A directory that cannot be listed is reported a second time,
			// after its own entry: skipping it skips its contents.
			if err := opts.unreadable(path, err); err != nil {
				return err
			}
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if path != p && !opts.Hidden && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // directories; symbolic links; pipes, sockets and devices
		}
		doc, err := fileDocument(path)
		if errors.Is(err, localfile.ErrNotRegular) {
			return nil // swapped for one since the directory was read
		}
		if err != nil {
			return opts.unreadable(path, err)
		}
		docs = append(docs, doc)
		return nil
	})
	// WalkDir visits each directory's entries in lexical order: a stable order.
	return docs, err
}

// fileDocument is the regular file at path as a document. A compressed
// file's text size is not known before reading it, so its Size is 0
// (unknown). Anything but a regular file is refused, before it is opened
// and again when it is read, by localfile.OpenRegular, which never blocks.
func fileDocument(path string) (Document, error) {
	name := localfile.DisplayName(path)
	f, info, err := localfile.OpenRegular(path)
	if errors.Is(err, localfile.ErrNotRegular) {
		return Document{}, fmt.Errorf("cannot read %s: %w", name, unwrapPathError(err))
	}
	if err != nil {
		return Document{}, err // the caller names it, as unreadable
	}
	size := info.Size()
	prefix := make([]byte, 4)
	n, _ := io.ReadFull(f, prefix)
	f.Close()
	if decompress.Detect(prefix[:n]) != decompress.None {
		size = 0
	}
	open := func() (io.ReadCloser, error) {
		f, _, err := localfile.OpenRegular(path)
		if err != nil {
			return nil, unwrapPathError(err) // the caller names the document
		}
		return decompress.Open(f)
	}
	return Document{Name: name, Size: size, Open: open, Path: path}, nil
}

// unwrapPathError drops the *PathError wrapper, whose path the caller already names.
func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
