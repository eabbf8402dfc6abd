//go:build !purego

#include "textflag.h"

// Vector constants: each byte of a 32-byte vector set to one value, or the
// two nibble tables of the whitespace classifier (the same in both lanes,
// since VPSHUFB looks up within each 128-bit lane).
#define SPLAT(name, b) \
	DATA name<>+0(SB)/8, $b; \
	DATA name<>+8(SB)/8, $b; \
	DATA name<>+16(SB)/8, $b; \
	DATA name<>+24(SB)/8, $b; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

SPLAT(c0F, 0x0F0F0F0F0F0F0F0F)
SPLAT(c0A, 0x0A0A0A0A0A0A0A0A)
SPLAT(c80, 0x8080808080808080)
SPLAT(c81, 0x8181818181818181)
SPLAT(c85, 0x8585858585858585)
SPLAT(c9A, 0x9A9A9A9A9A9A9A9A)
SPLAT(c9F, 0x9F9F9F9F9F9F9F9F)
SPLAT(cA0, 0xA0A0A0A0A0A0A0A0)
SPLAT(cA8, 0xA8A8A8A8A8A8A8A8)
SPLAT(cA9, 0xA9A9A9A9A9A9A9A9)
SPLAT(cAF, 0xAFAFAFAFAFAFAFAF)
SPLAT(cC2, 0xC2C2C2C2C2C2C2C2)
SPLAT(cE1, 0xE1E1E1E1E1E1E1E1)
SPLAT(cE2, 0xE2E2E2E2E2E2E2E2)
SPLAT(cE3, 0xE3E3E3E3E3E3E3E3)

// lotab[low nibble] & hitab[high nibble] != 0 exactly for the ASCII
// whitespace bytes: bit 1 is 0x09..0x0D, bit 2 is 0x1C..0x1F, bit 4 is 0x20.
DATA lotab<>+0(SB)/8, $0x0000000000000004
DATA lotab<>+8(SB)/8, $0x0202030301010100
DATA lotab<>+16(SB)/8, $0x0000000000000004
DATA lotab<>+24(SB)/8, $0x0202030301010100
GLOBL lotab<>(SB), RODATA|NOPTR, $32
DATA hitab<>+0(SB)/8, $0x0000000000040201
DATA hitab<>+8(SB)/8, $0x0000000000000000
DATA hitab<>+16(SB)/8, $0x0000000000040201
DATA hitab<>+24(SB)/8, $0x0000000000000000
GLOBL hitab<>(SB), RODATA|NOPTR, $32

// CLASSIFY sets each byte of dst to 0xFF where the byte of src is outside
// the class whose nibble tables are lo and hi (see lotab), and 0 where it is
// in it; t is scratch. Y15 must hold c0F and Y11 zero.
#define CLASSIFY(src, lo, hi, t, dst) \
	VPSRLW $4, src, dst; \
	VPAND Y15, dst, dst; \
	VPAND Y15, src, t; \
	VPSHUFB t, lo, t; \
	VPSHUFB dst, hi, dst; \
	VPAND dst, t, dst; \
	VPCMPEQB Y11, dst, dst

// func statsAVX2(p *byte, blocks int, prev, carry uint64, masks, wmasks *uint32, wtab *byte) (tokens, lines, prevOut, carryOut uint64)
//
// It reads blocks*32 bytes from p, and 2 bytes past them (the caller
// guarantees they exist). Per block, s has a bit for every byte that belongs
// to a whitespace character; a token starts at each byte that is not in s
// and follows one that is (prev: the byte before the block). carry holds the
// bits of the next block's bytes that continue a multi-byte whitespace
// character begun in this one. If masks is not nil, s of each block is
// stored there, one uint32 per block; if wmasks is not nil, the bits of the
// bytes outside the class wtab (64 bytes: nibble tables as find.go's
// boundary) are stored there.
TEXT ·statsAVX2(SB), NOSPLIT, $0-88
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), DI
	SHLQ $5, DI
	ADDQ SI, DI             // DI = end of the last block
	MOVQ prev+16(FP), R10
	MOVQ carry+24(FP), R11
	MOVQ masks+32(FP), R12
	XORQ R8, R8             // tokens
	XORQ R9, R9             // lines
	VMOVDQU c0F<>(SB), Y15
	VMOVDQU lotab<>(SB), Y14
	VMOVDQU hitab<>(SB), Y13
	VMOVDQU c0A<>(SB), Y12
	VPXOR Y11, Y11, Y11

loop64:
	// 64 bytes at a time while they are all ASCII (then no whitespace
	// character can be multi-byte, nor continue into them): one 64-bit mask
	// per class halves the scalar work per byte. Other bytes take the
	// 32-byte loop below, which comes back here.
	LEAQ 64(SI), AX
	CMPQ AX, DI
	JA loop
	TESTQ R11, R11
	JNZ loop
	PREFETCHT0 4096(SI)
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y8
	VPOR Y0, Y8, Y1
	VPMOVMSKB Y1, AX
	TESTL AX, AX
	JNZ loop
	CLASSIFY(Y0, Y14, Y13, Y2, Y1) // 0xFF where not ASCII whitespace
	CLASSIFY(Y8, Y14, Y13, Y6, Y5)
	VPMOVMSKB Y1, AX
	VPMOVMSKB Y5, BX
	SHLQ $32, BX
	ORQ BX, AX
	NOTQ AX                 // s: the whitespace bits of the 64 bytes
	VPCMPEQB Y12, Y0, Y2
	VPCMPEQB Y12, Y8, Y6
	VPMOVMSKB Y2, BX
	VPMOVMSKB Y6, CX
	SHLQ $32, CX
	ORQ CX, BX
	POPCNTQ BX, BX
	ADDQ BX, R9
	MOVQ wmasks+40(FP), BX
	TESTQ BX, BX
	JZ noclass64
	MOVQ wtab+48(FP), CX
	VMOVDQU (CX), Y3
	VMOVDQU 32(CX), Y4
	CLASSIFY(Y0, Y3, Y4, Y6, Y5) // 0xFF where outside the class
	CLASSIFY(Y8, Y3, Y4, Y10, Y9)
	VPMOVMSKB Y5, DX
	VPMOVMSKB Y9, R13
	SHLQ $32, R13
	ORQ R13, DX
	MOVQ SI, CX
	SUBQ p+0(FP), CX
	SHRQ $3, CX
	MOVQ DX, (BX)(CX*1)     // two words of wmasks, in order

noclass64:
	TESTQ R12, R12
	JZ nomask64
	MOVQ AX, (R12)          // two words of masks, in order
	ADDQ $8, R12

nomask64:
	MOVQ AX, BX
	SHLQ $1, BX
	ORQ R10, BX             // s<<1 | prev
	MOVQ AX, CX
	NOTQ CX
	ANDQ CX, BX             // token starts: ~s & (s<<1 | prev)
	POPCNTQ BX, BX
	ADDQ BX, R8
	SHRQ $63, AX
	MOVQ AX, R10
	ADDQ $64, SI
	JMP loop64

loop:
	CMPQ SI, DI
	JAE done
	PREFETCHT0 4096(SI)
	VMOVDQU (SI), Y0
	CLASSIFY(Y0, Y14, Y13, Y2, Y1) // 0xFF where not ASCII whitespace
	VPMOVMSKB Y1, AX
	NOTL AX                 // ASCII whitespace bits
	VPCMPEQB Y12, Y0, Y2
	VPMOVMSKB Y2, BX
	POPCNTL BX, BX
	ADDQ BX, R9
	MOVQ wmasks+40(FP), BX
	TESTQ BX, BX
	JZ noclass
	MOVQ wtab+48(FP), CX
	VMOVDQU (CX), Y3
	VMOVDQU 32(CX), Y4
	CLASSIFY(Y0, Y3, Y4, Y6, Y5) // 0xFF where outside the class
	VPMOVMSKB Y5, DX
	MOVQ SI, CX
	SUBQ p+0(FP), CX
	SHRQ $3, CX
	MOVL DX, (BX)(CX*1)

noclass:
	MOVQ R11, DX            // continuation bits from the previous block
	XORQ R11, R11
	VPMOVMSKB Y0, BX        // bytes >= 0x80
	TESTL BX, BX
	JNZ wide

count:
	ORL DX, AX              // s
	TESTQ R12, R12
	JZ nomask
	MOVL AX, (R12)
	ADDQ $4, R12

nomask:
	MOVL AX, BX
	SHLL $1, BX
	ORL R10, BX             // s<<1 | prev
	MOVL AX, CX
	NOTL CX
	ANDL CX, BX             // token starts: ~s & (s<<1 | prev)
	POPCNTL BX, BX
	ADDQ BX, R8
	SHRL $31, AX
	MOVQ AX, R10
	ADDQ $32, SI
	JMP loop64

wide:
	// Only C2, E1, E2 and E3 can start a multi-byte whitespace character.
	VPCMPEQB cC2<>(SB), Y0, Y3
	VPCMPEQB cE1<>(SB), Y0, Y4
	VPCMPEQB cE2<>(SB), Y0, Y5
	VPCMPEQB cE3<>(SB), Y0, Y6
	VPOR Y3, Y4, Y7
	VPOR Y5, Y7, Y7
	VPOR Y6, Y7, Y7
	VPMOVMSKB Y7, BX
	TESTL BX, BX
	JZ count
	VMOVDQU 1(SI), Y1       // each byte's successor
	VMOVDQU 2(SI), Y2       // and the one after
	// U+0085, U+00A0: C2 85, C2 A0.
	VPCMPEQB c85<>(SB), Y1, Y7
	VPCMPEQB cA0<>(SB), Y1, Y8
	VPOR Y7, Y8, Y7
	VPAND Y3, Y7, Y7
	VPMOVMSKB Y7, BX        // leads of 2-byte whitespace
	// U+1680: E1 9A 80; U+3000: E3 80 80.
	VPCMPEQB c9A<>(SB), Y1, Y8
	VPAND Y4, Y8, Y8
	VPCMPEQB c80<>(SB), Y1, Y9      // successor is 80 (kept for E2)
	VPAND Y6, Y9, Y10
	VPOR Y10, Y8, Y8
	VPCMPEQB c80<>(SB), Y2, Y10
	VPAND Y10, Y8, Y8
	// U+2000..U+200A: E2 80 80..8A; U+2028, U+2029, U+202F: E2 80 A8, A9, AF.
	VPXOR c80<>(SB), Y2, Y10
	VPMINUB Y12, Y10, Y6    // min(b2^0x80, 0x0A) == b2^0x80 iff 80 <= b2 <= 8A
	VPCMPEQB Y10, Y6, Y6
	VPCMPEQB cA8<>(SB), Y2, Y10
	VPOR Y10, Y6, Y6
	VPCMPEQB cA9<>(SB), Y2, Y10
	VPOR Y10, Y6, Y6
	VPCMPEQB cAF<>(SB), Y2, Y10
	VPOR Y10, Y6, Y6
	VPAND Y9, Y6, Y6
	// U+205F: E2 81 9F.
	VPCMPEQB c81<>(SB), Y1, Y10
	VPCMPEQB c9F<>(SB), Y2, Y9
	VPAND Y9, Y10, Y10
	VPOR Y10, Y6, Y6
	VPAND Y5, Y6, Y6
	VPOR Y6, Y8, Y8
	VPMOVMSKB Y8, CX        // leads of 3-byte whitespace
	// Mark each character's every byte: M2 | M2<<1 | M3 | M3<<1 | M3<<2.
	MOVQ BX, R13
	SHLQ $1, R13
	ORQ BX, R13
	ORQ CX, R13
	MOVQ CX, R14
	SHLQ $1, R14
	ORQ R14, R13
	SHLQ $1, R14
	ORQ R14, R13
	ORL R13, AX
	SHRQ $32, R13
	MOVQ R13, R11
	JMP count

done:
	VZEROUPPER
	MOVQ R8, tokens+56(FP)
	MOVQ R9, lines+64(FP)
	MOVQ R10, prevOut+72(FP)
	MOVQ R11, carryOut+80(FP)
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func findAVX2(text *byte, stop, from int, b0, b1, bl byte, off1, offl int, ok *uint32, plen int, out *int, outLen int) (n, next int)
//
// It scans 32-byte blocks at from, from+32, ... (from a multiple of 32)
// while a block ends at or before stop, and writes to out the position of
// every byte i with text[i] == b0, text[i+off1] == b1 and text[i+offl] ==
// bl, in order. With ok (a bitmap of the bytes that may border a match, bit
// i%32 of word i/32 for byte i, readable from one word before it to four
// words past the text), it keeps only the i whose bytes i-1 and i+plen are
// in ok. The caller keeps text[stop-1+offl] readable. It stops early, before
// a block, when out has less than 32 free entries; next is the first block
// not scanned. BMI2 (SHRX) is needed with ok.
TEXT ·findAVX2(SB), NOSPLIT, $8-96
	MOVQ text+0(FP), SI
	MOVQ stop+8(FP), DI
	MOVQ from+16(FP), CX
	MOVQ off1+32(FP), R10
	MOVQ offl+40(FP), R11
	MOVQ out+64(FP), R12
	MOVQ outLen+72(FP), R13
	SUBQ $32, R13           // room needed for one more block
	MOVQ R13, limit-8(SP)
	XORQ R14, R14           // n
	MOVBLZX b0+24(FP), AX
	MOVQ AX, X0
	VPBROADCASTB X0, Y1
	MOVBLZX b1+25(FP), AX
	MOVQ AX, X0
	VPBROADCASTB X0, Y2
	MOVBLZX bl+26(FP), AX
	MOVQ AX, X0
	VPBROADCASTB X0, Y3
	LEAQ (SI)(R10*1), R10   // text+off1
	LEAQ (SI)(R11*1), R11   // text+offl
	SUBQ $32, DI            // last block start
	MOVQ ok+48(FP), R8
	TESTQ R8, R8
	JNZ bounded

floop:
	CMPQ CX, DI
	JG fdone
	CMPQ R14, limit-8(SP)
	JG fdone
	PREFETCHT0 4096(SI)(CX*1)
	VPCMPEQB (SI)(CX*1), Y1, Y4
	VPCMPEQB (R10)(CX*1), Y2, Y5
	VPCMPEQB (R11)(CX*1), Y3, Y6
	VPAND Y4, Y5, Y5
	VPAND Y5, Y6, Y6
	VPMOVMSKB Y6, AX
	TESTL AX, AX
	JZ fnext

fbits:
	BSFL AX, BX
	ADDQ CX, BX
	MOVQ BX, (R12)(R14*8)
	INCQ R14
	LEAL -1(AX), BX
	ANDL BX, AX
	JNZ fbits

fnext:
	ADDQ $32, CX
	JMP floop

bounded:
	MOVQ plen+56(FP), R13
	MOVQ R13, DX
	SHRQ $3, DX
	ADDQ R8, DX             // ok advanced by plen/8 bytes
	ANDQ $7, R13            // and the remaining shift

bloop:
	CMPQ CX, DI
	JG fdone
	CMPQ R14, limit-8(SP)
	JG fdone
	PREFETCHT0 4096(SI)(CX*1)
	VPCMPEQB (SI)(CX*1), Y1, Y4
	VPCMPEQB (R10)(CX*1), Y2, Y5
	VPCMPEQB (R11)(CX*1), Y3, Y6
	VPAND Y4, Y5, Y5
	VPAND Y5, Y6, Y6
	VPMOVMSKB Y6, AX
	MOVQ CX, BX             // no branch before the filter: it would mispredict
	SHRQ $3, BX             // the block's byte in the bitmap
	MOVQ -1(R8)(BX*1), R9   // bits of bytes CX-8 ...
	SHRQ $7, R9             // bit j: byte CX+j-1
	ANDL R9, AX
	SHRXQ R13, (DX)(BX*1), R9 // bit j: byte CX+j+plen
	ANDL R9, AX
	JZ bnext

bbits:
	BSFL AX, BX
	ADDQ CX, BX
	MOVQ BX, (R12)(R14*8)
	INCQ R14
	LEAL -1(AX), BX
	ANDL BX, AX
	JNZ bbits

bnext:
	ADDQ $32, CX
	JMP bloop

fdone:
	VZEROUPPER
	MOVQ R14, n+80(FP)
	MOVQ CX, next+88(FP)
	RET
