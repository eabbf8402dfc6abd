//go:build !amd64 || purego

package count

func teddySIMD(text []byte, from int, masks *[256]byte, pre bool, out []uint64) (n, next int) {
	panic("count: teddySIMD without vector kernels")
}
