//go:build !amd64 || purego

package count

// useAVX512 is false where there are no vector kernels; see teddy_amd64.go.
var useAVX512 = false

func teddySIMD(text []byte, from int, masks *[256]byte, pre bool, out []uint64) (n, next int) {
	panic("count: teddySIMD without vector kernels")
}
