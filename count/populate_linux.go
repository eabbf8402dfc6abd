package count

import (
	"syscall"
	"unsafe"
)

// populateMin is the smallest allocation worth a system call to populate.
const populateMin = 1 << 20

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which the syscall
// package does not name.
const madvPopulateWrite = 23

// hugePage is the size of a transparent huge page on amd64 and arm64.
const hugePage = 2 << 20

// populate asks the kernel to back the n bytes at p with writable pages at
// once. A large table is fresh memory, which the kernel would otherwise
// fault in a page at a time, twice for a page read before it is written
// (the zero page first), as a rehash reads every slot it probes: in a top
// job those faults were a tenth of the run. With threads on several cores,
// each second fault also stops the other cores to flush their TLBs: at 2
// threads, a fifth of the run. Advice only: an older kernel refuses it,
// harmlessly, and memory already backed costs a quick walk.
//
// The huge pages inside the allocation are asked for first, where the
// system leaves them to advice (transparent_hugepage "madvise", a common
// default): a 2 MiB page is one fault instead of 512, and a table of tens
// of megabytes, probed all over, then misses the TLB far less.
func populate(p unsafe.Pointer, n int) {
	if n < populateMin {
		return
	}
	if lo, hi := (uintptr(p)+hugePage-1)&^(hugePage-1), (uintptr(p)+uintptr(n))&^(hugePage-1); hi > lo {
		_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, lo-uintptr(p))), hi-lo), syscall.MADV_HUGEPAGE)
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(p), n), madvPopulateWrite)
}
