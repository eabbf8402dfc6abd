// Package localfile opens local files the way every part of tally does:
// regular files only, never blocking on a named pipe, and named in results
// and errors so that any file name survives protobuf and JSON. It is a leaf
// that clients and the workers' file source share.
package localfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
)

// ErrNotRegular refuses a named pipe, socket or device given as a
// document: reading one could block for ever (a named pipe's open waits for
// a writer, in a system call that holds an OS thread and that no context can
// cancel), or never end (/dev/zero).
var ErrNotRegular = errors.New("not a regular file")

// NotRegular is the error that refuses a file of mode m, saying its kind:
// "not a regular file (named pipe)".
func NotRegular(m fs.FileMode) error { return fmt.Errorf("%w (%s)", ErrNotRegular, Kind(m)) }

// Kind names the type of a file of mode m, as errors show it.
func Kind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "regular file"
	case t&fs.ModeDir != 0:
		return "directory"
	case t&fs.ModeSymlink != 0:
		return "symbolic link"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "block device"
	}
	return "irregular file"
}

// DisplayName is how results and errors show the file name p: p itself,
// unless p is not valid UTF-8 (which protobuf strings and JSON cannot
// carry) or starts with a double quote; then p quoted as a Go string
// (strconv.Quote), which escapes each invalid byte as \xff. As git's quoted
// paths, it is unambiguous: a quoted name starts with '"' and no other
// does, and strconv.Unquote gives p back.
func DisplayName(p string) string {
	if utf8.ValidString(p) && !strings.HasPrefix(p, `"`) {
		return p
	}
	return strconv.Quote(p)
}

// OpenRegular opens the file at path for reading if it is a regular file,
// following symbolic links, and returns it with its info. Anything else is
// refused by its mode before it is opened, and the file is opened without
// blocking and checked again: a named pipe swapped in between is refused,
// not waited on.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, NotRegular(fi.Mode())
	}
	return CheckRegular(os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0))
}

// CheckRegular takes the result of a non-blocking open: the file and its
// info if it is a regular file, else an error that says its kind. A socket
// cannot be opened at all (ENXIO).
func CheckRegular(f *os.File, err error) (*os.File, fs.FileInfo, error) {
	if errors.Is(err, syscall.ENXIO) {
		return nil, nil, fmt.Errorf("%w (a socket, or a device without a driver)", ErrNotRegular)
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = NotRegular(fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
