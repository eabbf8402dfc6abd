//go:build !purego

package count

// The AVX2 kernels in simd_amd64.s serve the passes every job makes. They
// are chosen at start-up when the CPU and the OS support AVX2 (with BMI2 and
// POPCNT); otherwise, and in builds tagged purego, the portable
// eight-bytes-at-a-time code runs. Tests run both and compare them.

//go:noescape
func statsAVX2(p *byte, blocks int, prev, carry uint64, masks, wmasks *uint32, wtab *byte) (tokens, lines, prevOut, carryOut uint64)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// hasAVX2 reports whether AVX2, BMI2 and POPCNT can be used: the CPU has
// them and the OS saves the YMM registers.
func hasAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const popcnt, osxsave, avx = 1 << 23, 1 << 27, 1 << 28
	if ecx1&(popcnt|osxsave|avx) != popcnt|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2, bmi2 = 1 << 5, 1 << 8
	return ebx7&(avx2|bmi2) == avx2|bmi2
}

// useSIMD selects the AVX2 kernels; tests switch it off to check the
// portable code on the same inputs.
var useSIMD = hasAVX2()

// statsSIMD counts the lines and tokens of text[:n] with the AVX2 kernel
// and returns n with the scanner state at n: n is a multiple of 32 that
// leaves at least 2 bytes after it. prevSpace reports whether the byte
// before n belongs to a whitespace character, and cont how many bytes from n
// on continue a whitespace character begun before n.
func statsSIMD(text []byte) (lines, tokens int64, n int, prevSpace bool, cont int) {
	if !useSIMD || len(text) < 34 {
		return 0, 0, 0, true, 0
	}
	blocks := (len(text) - 2) / 32
	t, l, prev, carry := statsAVX2(&text[0], blocks, 1, 0, nil, nil, nil)
	for ; carry != 0; carry >>= 1 {
		cont++
	}
	return int64(l), int64(t), blocks * 32, prev != 0, cont
}

// classifySIMD is statsSIMD that also stores, one bit per byte of text[:n],
// the whitespace bytes in space and the bytes that are not ASCII word
// characters in notWord, each when not nil.
func classifySIMD(text []byte, space, notWord []uint32) (lines, tokens int64, n int, prevSpace bool, cont int) {
	if !useSIMD || len(text) < 34 {
		return 0, 0, 0, true, 0
	}
	blocks := (len(text) - 2) / 32
	var sp, wp *uint32
	if space != nil {
		sp = &space[0]
	}
	if notWord != nil {
		wp = &notWord[0]
	}
	t, l, prev, carry := statsAVX2(&text[0], blocks, 1, 0, sp, wp, &wordByte[0])
	for ; carry != 0; carry >>= 1 {
		cont++
	}
	return int64(l), int64(t), blocks * 32, prev != 0, cont
}

//go:noescape
func findAVX2(text *byte, stop, from int, b0, b1, bl byte, off1, offl int, ok *uint32, plen int, out *int, outLen int) (n, next int)

// findSIMD runs findAVX2 for pat over text; see finder. ok, if not nil, is
// a classMap's bits, whose first word lies before the text.
func findSIMD(text []byte, stop, from int, pat []byte, off1, offl int, ok []uint32, out []int) (n, next int) {
	var p *uint32
	if ok != nil {
		p = &ok[1]
	}
	return findAVX2(&text[0], stop, from, pat[0], pat[off1], pat[offl], off1, offl, p, len(pat), &out[0], len(out))
}
