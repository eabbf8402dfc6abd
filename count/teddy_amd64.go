//go:build !purego

package count

//go:noescape
func teddyAVX2(text *byte, from, stop int, masks *[256]byte, pre bool, out *uint64, outLen int) (n, next int)

//go:noescape
func teddyAVX512(text *byte, from, stop int, masks *[256]byte, pre bool, out *uint64, outLen int) (n, next int)

// hasAVX512 reports whether AVX-512 F and BW can be used: the CPU has them
// and the OS saves the opmask and ZMM registers.
func hasAVX512() bool {
	if !hasAVX2() {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&0xE6 != 0xE6 { // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx512f, avx512bw = 1 << 16, 1 << 30
	return ebx7&(avx512f|avx512bw) == avx512f|avx512bw
}

// useAVX512 selects teddy's 64-byte kernel; tests switch it off to check
// the 32-byte one.
var useAVX512 = hasAVX512()

// teddySIMD runs a vector kernel over the positions of text from from on,
// up to len(text)-2 (a block reads two bytes past its last position); see
// teddy.candidates.
func teddySIMD(text []byte, from int, masks *[256]byte, pre bool, out []uint64) (n, next int) {
	if useAVX512 && from+64 <= len(text)-2 {
		return teddyAVX512(&text[0], from, len(text)-2, masks, pre, &out[0], len(out))
	}
	return teddyAVX2(&text[0], from, len(text)-2, masks, pre, &out[0], len(out))
}
