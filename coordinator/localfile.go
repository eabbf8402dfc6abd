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
// itself, sparing the copy through gRPC. Reading it counts as received.
func (c *Coordinator) openLocal(j *job, name, path string) (io.ReadCloser, error) {
	if err := c.checkLocal(name, path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read %s: %w", errInput, name, pathError(err))
	}
	text, _, err := decompress.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", errInput, name, err)
	}
	return &receiving{ReadCloser: text, file: f, job: j}, nil
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

// openBlocks opens a local file whose blocks the workers can read for
// themselves: a regular, uncompressed file. It returns nil for any other,
// which is read and cut as a stream.
func openBlocks(path string) *sharedFile {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	info, err := f.Stat()
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	if err != nil || !info.Mode().IsRegular() || info.Size() == 0 || decompress.Detect(magic[:n]) != decompress.None {
		f.Close()
		return nil
	}
	sf := &sharedFile{file: f, size: info.Size()}
	sf.refs.Store(1) // the feeder's
	return sf
}

// checkLocal says why this coordinator will not read a document's local
// path, if it will not.
func (c *Coordinator) checkLocal(name, path string) error {
	if !c.cfg.LocalFiles {
		return fmt.Errorf("%w: document %q: %w", errInput, name, errNoLocalFiles)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%w: document %q: local path %q is not absolute", errInput, name, path)
	}
	return nil
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
