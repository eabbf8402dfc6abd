//go:build !amd64 || purego

package count

import "unsafe"

// prefetch does nothing where there is no prefetch instruction to call.
func prefetch(p unsafe.Pointer) {}
