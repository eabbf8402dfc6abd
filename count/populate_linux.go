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

// populate asks the kernel to back the n bytes at p with writable pages at
// once. A large table is fresh memory, which the kernel would otherwise
// fault in a page at a time, twice for a page read before it is written
// (the zero page first), as a rehash reads every slot it probes: in a top
// job those faults were a tenth of the run. With threads on several cores,
// each second fault also stops the other cores to flush their TLBs: at 2
// threads, a fifth of the run. Advice only: an older kernel refuses it,
// harmlessly, and memory already backed costs a quick walk.
func populate(p unsafe.Pointer, n int) {
	if n >= populateMin {
		_ = syscall.Madvise(unsafe.Slice((*byte)(p), n), madvPopulateWrite)
	}
}
