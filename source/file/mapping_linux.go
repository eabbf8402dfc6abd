package file

import (
	"errors"
	"math"
	"os"
	"syscall"
)

// maxMapped bounds the size of a mapping, a quarter of the address space
// (of a 32-bit one too): beyond it a file is read.
const maxMapped = math.MaxInt / 4

func mapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || size > maxMapped {
		return nil, errors.New("size out of range for a mapping")
	}
	// Pages come in as they are touched, 64 KiB around each fault: faster
	// here than MADV_POPULATE_READ, which walks the pages one by one.
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

func unmap(data []byte) { _ = syscall.Munmap(data) }

// dontNeed drops data's page-table entries (MADV_DONTNEED), which for a
// file's shared mapping loses nothing. Unlike munmap it does not take the
// process's memory map for writing, so threads drop their splits' pages
// in parallel.
func dontNeed(data []byte) { _ = syscall.Madvise(data, syscall.MADV_DONTNEED) }
