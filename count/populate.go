package count

import "unsafe"

// makePopulated returns make([]T, n, c) whose memory, when large, the kernel
// has backed at once (see populate).
func makePopulated[T any](n, c int) []T {
	s := make([]T, n, c)
	var zero T
	populate(unsafe.Pointer(unsafe.SliceData(s)), c*int(unsafe.Sizeof(zero)))
	return s
}
