package count

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Stats are the per-document statistics every job reports.
type Stats struct {
	// Bytes is len(data).
	Bytes int64
	// Lines is data.count(b"\n"), as wc -l counts.
	Lines int64
	// Tokens is len(text.split()).
	Tokens int64
}

// Add adds o's statistics to s. Line-aligned chunks never share a token, so
// the sums over the chunks are the document's statistics.
func (s *Stats) Add(o Stats) {
	s.Bytes += o.Bytes
	s.Lines += o.Lines
	s.Tokens += o.Tokens
}

// Measure returns the statistics of text.
func Measure(text []byte) Stats {
	return Stats{
		Bytes:  int64(len(text)),
		Lines:  int64(bytes.Count(text, newline)),
		Tokens: countTokens(text),
	}
}

var newline = []byte{'\n'}

// countTokens counts the starts of tokens: non-space characters preceded by
// whitespace or the start of the text. It reads eight bytes at a time: the
// bytes of non-ASCII characters that are not whitespace can all be treated as
// non-space bytes, so only a block holding a byte that may start a
// multi-byte space character needs the character-by-character path.
func countTokens(text []byte) int64 {
	var n int64
	// prevSpace is 0x80 when the character before i is whitespace or i is
	// the start, in the bit where the block arithmetic needs it.
	prevSpace := uint64(0x80)
	i := 0
	for i+8 <= len(text) {
		x := binary.LittleEndian.Uint64(text[i:])
		if x&highBits != 0 && spaceLeads(x) != 0 {
			r, size := decodeRune(text[i:])
			if isSpace(r) {
				prevSpace = 0x80
			} else {
				n += int64(prevSpace >> 7)
				prevSpace = 0
			}
			i += size
			continue
		}
		space := spaceBytes(x)
		n += int64(bits.OnesCount64(highBits &^ space & (space<<8 | prevSpace)))
		prevSpace = space >> 56
		i += 8
	}
	for i < len(text) {
		r, size := decodeRune(text[i:])
		if isSpace(r) {
			prevSpace = 0x80
		} else {
			n += int64(prevSpace >> 7)
			prevSpace = 0
		}
		i += size
	}
	return n
}
