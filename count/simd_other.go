//go:build !amd64 || purego

package count

// useSIMD is false where there are no vector kernels; see simd_amd64.go.
var useSIMD = false

func statsSIMD(text []byte) (lines, tokens int64, n int, prevSpace bool, cont int) {
	return 0, 0, 0, true, 0
}

func classifySIMD(text []byte, space, notWord []uint32) (lines, tokens int64, n int, prevSpace bool, cont int) {
	return 0, 0, 0, true, 0
}

func findSIMD(text []byte, stop, from int, pat []byte, off1, offl int, ok []uint32, out []int) (n, next int) {
	panic("count: findSIMD without vector kernels")
}
