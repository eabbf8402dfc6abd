//go:build !linux

package file

import (
	"errors"
	"os"
)

func mapFile(*os.File, int64) ([]byte, error) {
	return nil, errors.New("files are mapped on Linux only")
}

func unmap([]byte) {}

func dontNeed([]byte) {}
