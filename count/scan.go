package count

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The scanners here cut text into tokens (runs of non-whitespace) and words
// (runs of word characters). Whitespace is found eight bytes at a time: only
// four lead bytes can start a non-ASCII whitespace character, so every other
// byte >= 0x80 is known to be inside a non-space character (or invalid, which
// is not whitespace either) without decoding.

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
	lowSeven = 0x7F7F7F7F7F7F7F7F
)

// spaceBytes sets the high bit of each byte of x that is ASCII whitespace:
// 0x09..0x0D or 0x1C..0x20. Bytes >= 0x80 are never set. Each byte b is
// compared with k by adding 0x80-k to its low seven bits: the sum reaches the
// high bit exactly when b >= k, and never carries into the next byte.
func spaceBytes(x uint64) uint64 {
	low := x &^ highBits
	ge09 := (low + (0x80-0x09)*lowBits) & highBits
	ge0E := (low + (0x80-0x0E)*lowBits) & highBits
	ge1C := (low + (0x80-0x1C)*lowBits) & highBits
	ge21 := (low + (0x80-0x21)*lowBits) & highBits
	return (ge09&^ge0E | ge1C&^ge21) &^ x
}

// spaceLeads sets the high bit of each byte of x that can start a
// multi-byte whitespace character: 0xC2, 0xE1, 0xE2 or 0xE3.
func spaceLeads(x uint64) uint64 {
	return equalBytes(x, 0xC2) | equalBytes(x, 0xE1) | equalBytes(x, 0xE2) | equalBytes(x, 0xE3)
}

// equalBytes sets the high bit of each byte of x that equals b. A byte of
// v = x^b is zero exactly when neither it nor its low seven bits plus 0x7F
// reach the high bit; unlike the usual has-zero-byte trick, which subtracts,
// no borrow crosses bytes, so every byte's answer is exact.
func equalBytes(x uint64, b byte) uint64 {
	v := x ^ (lowBits * uint64(b))
	return ^((v&lowSeven + lowSeven) | v) & highBits
}

// skipSpace returns the index of the first non-space character at or after
// i, or len(text). Like skipToken, it looks at eight bytes at a time, which
// avoids a mispredicted branch per byte at the end of every run.
func skipSpace(text []byte, i int) int {
	for i+8 <= len(text) {
		x := binary.LittleEndian.Uint64(text[i:])
		stop := highBits &^ spaceBytes(x)
		if stop == 0 {
			i += 8
			continue
		}
		shift := bits.TrailingZeros64(stop) &^ 7
		i += shift / 8
		if byteClass[byte(x>>shift)] != clsMaybe {
			return i
		}
		r, size := decodeRune(text[i:])
		if !isSpace(r) {
			return i
		}
		i += size
	}
	for i < len(text) {
		r, size := decodeRune(text[i:])
		if !isSpace(r) {
			return i
		}
		i += size
	}
	return i
}

// skipToken returns the index of the first whitespace character at or after
// i, or len(text). Bytes of non-ASCII characters are non-space unless they
// are one of the four leads that may start a multi-byte space character.
func skipToken(text []byte, i int) int {
	for i+8 <= len(text) {
		x := binary.LittleEndian.Uint64(text[i:])
		space := spaceBytes(x)
		stop := space
		if x&highBits != 0 {
			stop |= spaceLeads(x)
		}
		if stop == 0 {
			i += 8
			continue
		}
		shift := bits.TrailingZeros64(stop) &^ 7
		i += shift / 8
		if space>>shift&0x80 != 0 {
			return i
		}
		r, size := decodeRune(text[i:])
		if isSpace(r) {
			return i
		}
		i += size
	}
	for i < len(text) {
		r, size := decodeRune(text[i:])
		if isSpace(r) {
			return i
		}
		i += size
	}
	return i
}

// skipNonWord returns the index of the first word character at or after i,
// or len(text).
func skipNonWord(text []byte, i int) int {
	for i < len(text) {
		b := text[i]
		if b < utf8.RuneSelf {
			if byteClass[b]&clsWordCh != 0 {
				return i
			}
			i++
			continue
		}
		r, size := decodeRune(text[i:])
		if isWord(r) {
			return i
		}
		i += size
	}
	return i
}

// skipWord returns the index of the first non-word character at or after i,
// or len(text).
func skipWord(text []byte, i int) int {
	for i < len(text) {
		b := text[i]
		if b < utf8.RuneSelf {
			if byteClass[b]&clsWordCh == 0 {
				return i
			}
			i++
			continue
		}
		r, size := decodeRune(text[i:])
		if !isWord(r) {
			return i
		}
		i += size
	}
	return i
}
