package file

import (
	"errors"
	"io/fs"
	"os"

	"github.com/tallyhq/tally/internal/localfile"
	"github.com/tallyhq/tally/task"
)

// NotRegular refuses a file of mode m as localfile.NotRegular does, as an
// input error: every worker would refuse it the same way.
func NotRegular(m fs.FileMode) error { return task.AsInput(localfile.NotRegular(m)) }

// asInput marks a refusal of localfile.OpenRegular or CheckRegular as an
// input error, and passes everything else through.
func asInput(f *os.File, fi fs.FileInfo, err error) (*os.File, fs.FileInfo, error) {
	if errors.Is(err, localfile.ErrNotRegular) {
		err = task.AsInput(err)
	}
	return f, fi, err
}
