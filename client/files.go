package client

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FileDocuments turns paths into documents: a file is itself, a directory is
// every regular file below it (recursively, in lexical order, named as found
// under the path given), and "-" is stdin. A path that cannot be read is an error
// before anything is uploaded.
func FileDocuments(paths []string, stdin io.Reader) ([]Document, error) {
	var docs []Document
	usedStdin := false
	for _, p := range paths {
		if p == "-" {
			if usedStdin {
				return nil, fmt.Errorf("stdin (-) can be given only once")
			}
			usedStdin = true
			docs = append(docs, Document{Name: "-", Open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		if !info.IsDir() {
			docs = append(docs, fileDocument(p, info.Size()))
			continue
		}
		found, err := dirDocuments(p)
		if err != nil {
			return nil, err
		}
		docs = append(docs, found...)
	}
	return docs, nil
}

func dirDocuments(root string) ([]Document, error) {
	var docs []Document
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
		}
		docs = append(docs, fileDocument(path, info.Size()))
		return nil
	})
	// WalkDir visits each directory's entries in lexical order: a stable order.
	return docs, err
}

func fileDocument(path string, size int64) Document {
	return Document{Name: path, Size: size, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// unwrapPathError drops the *PathError wrapper, whose path the caller already names.
func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
