package coordinator

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"tally/decompress"
)

// errNoLocalFiles refuses a document header naming a local path on a
// coordinator that does not share its clients' file system.
var errNoLocalFiles = errors.New("this coordinator does not read its clients' local paths (only the CLI's embedded one does): upload the document, or name it by server path")

// openLocal opens a document that the client named by its local path
// instead of uploading it: the embedded coordinator reads the user's files
// itself, sparing the copy through gRPC. A plain file comes back as blocks,
// which the workers read for themselves; anything else (compressed, empty,
// not a regular file) as a stream, reading which counts as received.
func (c *Coordinator) openLocal(j *job, name, path string) (blocks *sharedFile, stream io.ReadCloser, err error) {
	if !c.cfg.LocalFiles {
		return nil, nil, fmt.Errorf("%w: document %q: %w", errInput, name, errNoLocalFiles)
	}
	if !filepath.IsAbs(path) {
		return nil, nil, fmt.Errorf("%w: document %q: local path %q is not absolute", errInput, name, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: cannot read %s: %w", errInput, name, pathError(err))
	}
	if size, ok := plainFile(f); ok {
		blocks = &sharedFile{file: f, size: size}
		blocks.refs.Store(1) // the feeder's
		return blocks, nil, nil
	}
	text, _, err := decompress.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s: %w", errInput, name, err)
	}
	return nil, &receiving{ReadCloser: text, file: f, job: j}, nil
}

// plainFile reports whether f can be read in blocks, at any offset: a
// regular, non-empty, uncompressed file; and its size.
func plainFile(f *os.File) (int64, bool) {
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || info.Size() == 0 {
		return 0, false
	}
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0) // leaves the offset for a stream at 0
	return info.Size(), decompress.Detect(magic[:n]) == decompress.None
}

// sharedFile is a local file that the blocks of one document read at
// their offsets; it closes when the feeder and every block are done.
type sharedFile struct {
	file *os.File
	size int64
	refs atomic.Int64
}

func (f *sharedFile) hold() { f.refs.Add(1) }

func (f *sharedFile) unhold() {
	if f.refs.Add(-1) == 0 {
		f.file.Close()
	}
}

// receiving reports what is read from a local file as the job's received bytes.
type receiving struct {
	io.ReadCloser
	file *os.File
	job  *job
}

func (r *receiving) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.job.received(n)
	return n, err
}

func (r *receiving) Close() error {
	r.ReadCloser.Close()
	return r.file.Close()
}
