//go:build !purego

#include "textflag.h"

DATA t0F<>+0(SB)/8, $0x0F0F0F0F0F0F0F0F
DATA t0F<>+8(SB)/8, $0x0F0F0F0F0F0F0F0F
DATA t0F<>+16(SB)/8, $0x0F0F0F0F0F0F0F0F
DATA t0F<>+24(SB)/8, $0x0F0F0F0F0F0F0F0F
GLOBL t0F<>(SB), RODATA|NOPTR, $32

// LOOKUP sets dst to lo[src&15] & hi[src>>4] for each byte of src; t is
// scratch, src is clobbered. Y15 must hold t0F.
#define LOOKUP(src, lo, hi, t, dst) \
	VPSRLW $4, src, t; \
	VPAND Y15, src, src; \
	VPAND Y15, t, t; \
	VPSHUFB src, lo, src; \
	VPSHUFB t, hi, t; \
	VPAND src, t, dst

// FINGERPRINT sets dst to the buckets whose first three bytes may start at
// each of the 32 positions from SI+CX+o0 (o1 = o0+1, o2 = o0+2).
#define FINGERPRINT(o0, o1, o2, dst) \
	VMOVDQU o0(SI)(CX*1), Y0; \
	LOOKUP(Y0, Y8, Y9, Y1, dst); \
	VMOVDQU o1(SI)(CX*1), Y0; \
	LOOKUP(Y0, Y10, Y11, Y1, Y2); \
	VMOVDQU o2(SI)(CX*1), Y0; \
	LOOKUP(Y0, Y12, Y13, Y1, Y3); \
	VPAND Y2, dst, dst; \
	VPAND Y3, dst, dst

// PRE clears the bytes of dst whose position's byte before, read at
// SI+CX+o, is in the class of Y6 and Y7 (a match cannot start after it).
#define PRE(o, dst) \
	VMOVDQU o(SI)(CX*1), Y0; \
	LOOKUP(Y0, Y6, Y7, Y1, Y2); \
	VPCMPEQB Y4, Y2, Y2; \
	VPAND Y2, dst, dst

// EMIT writes every nonzero byte of src (the block at CX) to out as
// position<<8 | buckets, in order.
#define EMIT(src, bits, skip) \
	VPCMPEQB Y4, src, Y0; \
	VPMOVMSKB Y0, AX; \
	NOTL AX; \
	TESTL AX, AX; \
	JZ skip; \
	VMOVDQU src, block-48(SP); \
bits: \
	BSFL AX, BX; \
	MOVBQZX block-48(SP)(BX*1), DX; \
	ADDQ CX, BX; \
	SHLQ $8, BX; \
	ORQ DX, BX; \
	MOVQ BX, (R12)(R14*8); \
	INCQ R14; \
	LEAL -1(AX), BX; \
	ANDL BX, AX; \
	JNZ bits; \
skip:

// func teddyAVX2(text *byte, from, stop int, masks *[256]byte, pre bool, out *uint64, outLen int) (n, next int)
//
// It scans the 32-byte blocks of positions from, from+32, ... while a block
// ends at or before stop, and writes to out, in order, position<<8 |
// buckets for every position i where
//
//	buckets = F0(text[i]) & F1(text[i+1]) & F2(text[i+2])
//
// is not zero, Fk(b) being masks[64k+b&15] & masks[64k+32+b>>4] (each
// 16-byte table stored twice, once per 128-bit lane). With pre it also
// requires masks[192+b&15] & masks[224+b>>4] == 0 for b = text[i-1]: the
// byte before i is not in the class that rules a match out. The caller
// keeps text[from-1] (with pre) and text[stop+1] readable. It takes two
// blocks per step while it can, and tests them together. It stops early,
// before a step, when out has less than 64 free entries; next is the first
// block not scanned.
TEXT ·teddyAVX2(SB), NOSPLIT, $48-72
	MOVQ text+0(FP), SI
	MOVQ from+8(FP), CX
	MOVQ stop+16(FP), DI
	LEAQ -64(DI), R9        // last start of a double step
	SUBQ $32, DI            // last block start
	MOVQ masks+24(FP), R8
	MOVQ out+40(FP), R12
	MOVQ outLen+48(FP), R13
	SUBQ $64, R13           // room needed for one more step
	MOVQ R13, limit-8(SP)
	XORQ R14, R14           // n
	VMOVDQU t0F<>(SB), Y15
	VPXOR Y4, Y4, Y4
	VMOVDQU 0(R8), Y8
	VMOVDQU 32(R8), Y9
	VMOVDQU 64(R8), Y10
	VMOVDQU 96(R8), Y11
	VMOVDQU 128(R8), Y12
	VMOVDQU 160(R8), Y13
	VMOVDQU 192(R8), Y6
	VMOVDQU 224(R8), Y7
	MOVBLZX pre+32(FP), AX
	TESTL AX, AX
	JNZ ploop2

loop2:
	CMPQ CX, R9
	JG loop1
	CMPQ R14, limit-8(SP)
	JG done
	PREFETCHT0 4096(SI)(CX*1)
	FINGERPRINT(0, 1, 2, Y5)
	FINGERPRINT(32, 33, 34, Y14)
	VPOR Y5, Y14, Y0
	VPTEST Y0, Y0
	JZ next2
	EMIT(Y5, bits2a, skip2a)
	ADDQ $32, CX
	EMIT(Y14, bits2b, skip2b)
	ADDQ $32, CX
	JMP loop2

next2:
	ADDQ $64, CX
	JMP loop2

loop1:
	CMPQ CX, DI
	JG done
	CMPQ R14, limit-8(SP)
	JG done
	FINGERPRINT(0, 1, 2, Y5)
	EMIT(Y5, bits1, skip1)
	ADDQ $32, CX
	JMP loop1

ploop2:
	CMPQ CX, R9
	JG ploop1
	CMPQ R14, limit-8(SP)
	JG done
	PREFETCHT0 4096(SI)(CX*1)
	FINGERPRINT(0, 1, 2, Y5)
	PRE(-1, Y5)
	FINGERPRINT(32, 33, 34, Y14)
	PRE(31, Y14)
	VPOR Y5, Y14, Y0
	VPTEST Y0, Y0
	JZ pnext2
	EMIT(Y5, pbits2a, pskip2a)
	ADDQ $32, CX
	EMIT(Y14, pbits2b, pskip2b)
	ADDQ $32, CX
	JMP ploop2

pnext2:
	ADDQ $64, CX
	JMP ploop2

ploop1:
	CMPQ CX, DI
	JG done
	CMPQ R14, limit-8(SP)
	JG done
	FINGERPRINT(0, 1, 2, Y5)
	PRE(-1, Y5)
	EMIT(Y5, pbits1, pskip1)
	ADDQ $32, CX
	JMP ploop1

done:
	VZEROUPPER
	MOVQ R14, n+56(FP)
	MOVQ CX, next+64(FP)
	RET

// LOOKUP512 sets dst to lo[src&15] & hi[src>>4] for each byte of the ZMM
// src, like LOOKUP but leaving the AND of the two halves, lo part in src
// and hi part in t. Z15 must hold t0F in every byte.
#define HALVES512(src, lo, hi, t) \
	VPSRLW $4, src, t; \
	VPANDQ Z15, src, src; \
	VPANDQ Z15, t, t; \
	VPSHUFB src, lo, src; \
	VPSHUFB t, hi, t

// FINGERPRINT512 sets Z5 to the buckets whose first three bytes may start
// at each of the 64 positions from SI+CX.
#define FINGERPRINT512 \
	VMOVDQU64 (SI)(CX*1), Z0; \
	HALVES512(Z0, Z8, Z9, Z1); \
	VMOVDQU64 1(SI)(CX*1), Z2; \
	HALVES512(Z2, Z10, Z11, Z3); \
	VPTERNLOGD $0x80, Z2, Z1, Z0; \
	VMOVDQU64 2(SI)(CX*1), Z1; \
	HALVES512(Z1, Z12, Z13, Z2); \
	VPTERNLOGD $0x80, Z2, Z1, Z3; \
	VPANDQ Z3, Z0, Z5

// EMIT512 writes the bytes of Z5 whose bits are set in AX (the block at
// CX) to out as position<<8 | buckets, in order, then jumps to next.
#define EMIT512(bits, next) \
	TESTQ AX, AX; \
	JZ next; \
	VMOVDQU64 Z5, block-64(SP); \
bits: \
	BSFQ AX, BX; \
	MOVBQZX block-64(SP)(BX*1), DX; \
	ADDQ CX, BX; \
	SHLQ $8, BX; \
	ORQ DX, BX; \
	MOVQ BX, (R12)(R14*8); \
	INCQ R14; \
	LEAQ -1(AX), BX; \
	ANDQ BX, AX; \
	JNZ bits

// func teddyAVX512(text *byte, from, stop int, masks *[256]byte, pre bool, out *uint64, outLen int) (n, next int)
//
// It is teddyAVX2 on 64-byte blocks (AVX-512 F and BW): the same tables,
// each 16-byte table broadcast to the four 128-bit lanes, and the same
// candidates in the same order. The caller keeps text[from-1] (with pre)
// and text[stop+1] readable; next is the first block not scanned.
TEXT ·teddyAVX512(SB), NOSPLIT, $64-72
	MOVQ text+0(FP), SI
	MOVQ from+8(FP), CX
	MOVQ stop+16(FP), DI
	SUBQ $64, DI            // last block start
	MOVQ masks+24(FP), R8
	MOVQ out+40(FP), R12
	MOVQ outLen+48(FP), R13
	SUBQ $64, R13           // room needed for one more block
	XORQ R14, R14           // n
	VPBROADCASTD t0F<>(SB), Z15
	VBROADCASTI32X4 0(R8), Z8
	VBROADCASTI32X4 32(R8), Z9
	VBROADCASTI32X4 64(R8), Z10
	VBROADCASTI32X4 96(R8), Z11
	VBROADCASTI32X4 128(R8), Z12
	VBROADCASTI32X4 160(R8), Z13
	VBROADCASTI32X4 192(R8), Z6
	VBROADCASTI32X4 224(R8), Z7
	MOVBLZX pre+32(FP), AX
	TESTL AX, AX
	JNZ ploop

loop:
	CMPQ CX, DI
	JG done512
	CMPQ R14, R13
	JG done512
	PREFETCHT0 4096(SI)(CX*1)
	FINGERPRINT512
	VPTESTMB Z5, Z5, K1
	KMOVQ K1, AX
	EMIT512(bits, next)

next:
	ADDQ $64, CX
	JMP loop

ploop:
	CMPQ CX, DI
	JG done512
	CMPQ R14, R13
	JG done512
	PREFETCHT0 4096(SI)(CX*1)
	FINGERPRINT512
	VMOVDQU64 -1(SI)(CX*1), Z0
	HALVES512(Z0, Z6, Z7, Z1)
	VPTESTMB Z0, Z1, K2     // the byte before rules a match out
	KNOTQ K2, K2
	VPTESTMB Z5, Z5, K2, K1
	KMOVQ K1, AX
	EMIT512(pbits, pnext)

pnext:
	ADDQ $64, CX
	JMP ploop

done512:
	VZEROUPPER
	MOVQ R14, n+56(FP)
	MOVQ CX, next+64(FP)
	RET
