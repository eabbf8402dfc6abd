//go:build !purego

package count

//go:noescape
func teddyAVX2(text *byte, from, stop int, masks *[256]byte, pre bool, out *uint64, outLen int) (n, next int)

// teddySIMD runs teddyAVX2 over the positions of text from from on, up to
// len(text)-2 (its last block reads two bytes past its last position); see
// teddyScan.candidates.
func teddySIMD(text []byte, from int, masks *[256]byte, pre bool, out []uint64) (n, next int) {
	return teddyAVX2(&text[0], from, len(text)-2, masks, pre, &out[0], len(out))
}
