//go:build linux

package client

import (
	"os"
	"syscall"
	"testing"
)

// fGetPipeSize is Linux's F_GETPIPE_SZ fcntl.
const fGetPipeSize = 1032

func TestStdinPipeGrows(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := FileDocuments([]string{"-"}, r, FileOptions{}); err != nil {
		t.Fatal(err)
	}
	size, _, errno := syscall.Syscall(syscall.SYS_FCNTL, r.Fd(), fGetPipeSize, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if size < 1<<20 {
		t.Fatalf("got a pipe of %d bytes, want 1 MiB", size)
	}
}
