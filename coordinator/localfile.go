package coordinator

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"tally/decompress"
)

// errNoLocalFiles refuses a document header naming a local path on a
// coordinator that does not share its clients' file system.
var errNoLocalFiles = errors.New("this coordinator does not read its clients' local paths (only the CLI's embedded one does): upload the document, or name it by server path")

// openLocal opens a document that the client named by its local path
// instead of uploading it: the embedded coordinator reads the user's files
// itself, sparing the copy through gRPC. Reading it counts as received.
func (c *Coordinator) openLocal(j *job, name, path string) (io.ReadCloser, error) {
	if !c.cfg.LocalFiles {
		return nil, fmt.Errorf("%w: document %q: %w", errInput, name, errNoLocalFiles)
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("%w: document %q: local path %q is not absolute", errInput, name, path)
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
