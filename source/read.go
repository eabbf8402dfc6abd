package source

import (
	"errors"
	"fmt"
	"io"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/decompress"
	"github.com/tallyhq/tally/task"
)

// ReadRange reads from obj the lines of ref's document that the nominal
// byte range [lo, hi) holds, by the block rule (chunk.ReadRange), into buf
// when it is large enough; it returns the buffer it used.
func ReadRange(obj io.ReaderAt, ref task.Ref, lo, hi int64, buf []byte) (data, used []byte, err error) {
	data, _, used, err = chunk.ReadRange(obj, ref.Size, lo, hi, ref.Cut.Config(), buf)
	return data, used, ReadError(ref.URL, err)
}

// ReadError names the document in an error of reading it, and makes the
// errors that any reader of it would meet input errors: a line too long, a
// document that shrank, a corrupt archive. Others (a store that failed for
// a moment) stay as they are, to be tried again.
func ReadError(url string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, task.ErrInput):
		return err // the stores name the document
	case errors.Is(err, chunk.ErrLineTooLong), errors.Is(err, chunk.ErrShrunk), errors.Is(err, decompress.ErrCorrupt):
		return fmt.Errorf("%w: %s: %w", task.ErrInput, url, err)
	}
	return fmt.Errorf("read %s: %w", url, err)
}
