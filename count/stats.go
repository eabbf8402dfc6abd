package count

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Measure returns the statistics of text.
func Measure(text []byte) Stats {
	lines, tokens := measure(text)
	return Stats{Bytes: int64(len(text)), Lines: lines, Tokens: tokens}
}

var newline = []byte{'\n'}

// measure counts the lines and tokens of text in one pass: with the vector
// kernel where there is one, and the rest (or all) with the portable code.
func measure(text []byte) (lines, tokens int64) {
	lines, tokens, i, prevSpace, cont := statsSIMD(text)
	if cont > 0 { // the rest of a whitespace character, never a newline
		i += cont
		prevSpace = true
	}
	lines += int64(bytes.Count(text[i:], newline))
	return lines, tokens + countTokensFrom(text[i:], prevSpace)
}

// countTokensFrom counts the starts of tokens: non-space characters preceded
// by whitespace, or by the start of text when prevSpace is set. text may
// begin inside a character that is not whitespace: its continuation bytes
// then read as invalid bytes, which are not whitespace either, so the count
// is the same. It reads eight bytes at a time: the bytes of non-ASCII
// characters that are not whitespace can all be treated as non-space bytes,
// so only a block holding a byte that may start a multi-byte space character
// needs the character-by-character path.
func countTokensFrom(text []byte, prevSpace bool) int64 {
	var n int64
	// prev is 0x80 when the character before i is whitespace or i is
	// the start, in the bit where the block arithmetic needs it.
	prev := uint64(0)
	if prevSpace {
		prev = 0x80
	}
	i := 0
	for i+8 <= len(text) {
		x := binary.LittleEndian.Uint64(text[i:])
		if x&highBits != 0 && spaceLeads(x) != 0 {
			r, size := decodeRune(text[i:])
			if isSpace(r) {
				prev = 0x80
			} else {
				n += int64(prev >> 7)
				prev = 0
			}
			i += size
			continue
		}
		space := spaceBytes(x)
		n += int64(bits.OnesCount64(highBits &^ space & (space<<8 | prev)))
		prev = space >> 56
		i += 8
	}
	for i < len(text) {
		r, size := decodeRune(text[i:])
		if isSpace(r) {
			prev = 0x80
		} else {
			n += int64(prev >> 7)
			prev = 0
		}
		i += size
	}
	return n
}
