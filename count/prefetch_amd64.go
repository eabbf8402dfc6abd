//go:build !purego

package count

import "unsafe"

// prefetch asks the CPU to bring the cache line at p in, without waiting
// for it: a load would hold up every instruction after it until it lands.
//
//go:noescape
func prefetch(p unsafe.Pointer)
