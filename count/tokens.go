package count

import (
	"bytes"
	"sync"
)

// classMap marks one class of a text's bytes, one bit per byte: bit i%32 of
// bits[1+i/32] for byte i. The bits around the text, in bits[0] and past its
// end, are set: a text's edges border a match as whitespace (or a character
// that is not a word character) does. With it, a tokenizer jumps from token
// to token with bit scans, and the finder checks a candidate's neighbours
// without reading them.
type classMap struct {
	bits []uint32
}

// classify returns the map of the whitespace bytes (words false) or of the
// bytes that are not ASCII word characters (words true; bytes >= 0x80 are
// marked, since only decoding their character can tell), and the text's
// lines and tokens, all in one pass.
// The map comes from spare maps, and release gives it back.
func classify(text []byte, words bool) (m classMap, lines, tokens int64) {
	m = classMap{bits: spareBits(len(text)/32 + 6)}
	var space, notWord []uint32
	if words {
		notWord = m.bits[1:]
	} else {
		space = m.bits[1:]
	}
	lines, tokens, i, prevSpace, cont := classifySIMD(text, space, notWord)
	lines += int64(bytes.Count(text[i:], newline))
	if cont > 0 { // the rest of a whitespace character, never a newline
		prevSpace = true
	}
	tokens += countTokensFrom(text[i+cont:], prevSpace)
	switch {
	case words:
		for ; i < len(text); i++ {
			if b := text[i]; b >= 0x80 || byteClass[b]&clsWordCh == 0 {
				m.set(i)
			}
		}
	default:
		for ; cont > 0; cont-- {
			m.set(i)
			i++
		}
		for i < len(text) {
			r, size := decodeRune(text[i:])
			if isSpace(r) {
				for k := range size {
					m.set(i + k)
				}
			}
			i += size
		}
	}
	m.bits[0] = ^uint32(0)
	w := 1 + len(text)/32
	m.bits[w] |= ^uint32(0) << (len(text) % 32)
	for w++; w < len(m.bits); w++ {
		m.bits[w] = ^uint32(0)
	}
	return m, lines, tokens
}

// spareMaps keeps released maps' bits: a chunk's map is an eighth of its
// size, and making a new one per chunk was nearly all that a count job
// allocates, enough to start a garbage collection every few chunks.
var spareMaps sync.Pool // of *[]uint32

// spareBits returns n zeroed words, from a released map if one is large enough.
func spareBits(n int) []uint32 {
	if p, _ := spareMaps.Get().(*[]uint32); p != nil && cap(*p) >= n {
		b := (*p)[:n]
		clear(b)
		return b
	}
	return make([]uint32, n)
}

// release gives m's bits back for a later map; m must not be used afterwards.
func (m classMap) release() {
	if m.bits != nil {
		spareMaps.Put(&m.bits)
	}
}

func (m classMap) set(i int) { m.bits[1+i/32] |= 1 << (i % 32) }
