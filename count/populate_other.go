//go:build !linux

package count

import "unsafe"

// populate does nothing where there is no MADV_POPULATE_WRITE.
func populate(p unsafe.Pointer, n int) {}
