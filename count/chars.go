package count

import (
	"unicode"
	"unicode/utf8"

	"github.com/tallyhq/tally/query"
)

// invalidBase maps an invalid byte b to the rune invalidBase+b, as Python's
// surrogateescape does (U+DC80..U+DCFF). Those runes are surrogates, which
// valid UTF-8 never decodes to, so an invalid byte can never compare equal to
// a real character, in particular not to a real U+FFFD in a target.
const invalidBase = 0xDC00

// Byte classes for the scanners; a byte with none of them is not whitespace
// in any context. Only four lead bytes can start a non-ASCII whitespace
// character (U+0085, U+00A0: C2; U+1680: E1; U+2000..U+205F: E2; U+3000: E3),
// so every other byte >= 0x80 is known to be inside a non-space character
// without decoding.
const (
	clsSpace  = 1 // ASCII whitespace
	clsMaybe  = 2 // lead byte that may start a multi-byte whitespace character
	clsWordCh = 4 // ASCII word character
)

var byteClass = func() (t [256]uint8) {
	for b := 0; b < 0x80; b++ {
		switch {
		case isSpace(rune(b)):
			t[b] = clsSpace
		case isWord(rune(b)):
			t[b] = clsWordCh
		}
	}
	for _, b := range []byte{0xC2, 0xE1, 0xE2, 0xE3} {
		t[b] = clsMaybe
	}
	return t
}()

// isSpace is query.IsSpace, the one whitespace rule, by a short name.
func isSpace(r rune) bool { return query.IsSpace(r) }

// isWord reports whether r matches Python's \w for str: a letter, a number or
// the underscore.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// decodeRune decodes the character at the start of p (len(p) > 0). An
// invalid byte decodes to invalidBase+b with size 1; a real U+FFFD stays
// U+FFFD with size 3.
func decodeRune(p []byte) (rune, int) {
	if p[0] < utf8.RuneSelf {
		return rune(p[0]), 1
	}
	r, n := utf8.DecodeRune(p)
	if r == utf8.RuneError && n == 1 {
		return invalidBase + rune(p[0]), 1
	}
	return r, n
}

// decodeLastRune is decodeRune for the character that ends p. It agrees with
// a forward decode because a valid sequence's lead byte is never a
// continuation byte: the forward decoder always starts a character there.
func decodeLastRune(p []byte) (rune, int) {
	last := p[len(p)-1]
	if last < utf8.RuneSelf {
		return rune(last), 1
	}
	r, n := utf8.DecodeLastRune(p)
	if r == utf8.RuneError && n == 1 {
		return invalidBase + rune(last), 1
	}
	return r, n
}

// wordBefore reports whether the character ending at text[:i] is a word
// character; there is none at the start of the text.
func wordBefore(text []byte, i int) bool {
	if i == 0 {
		return false
	}
	if b := text[i-1]; b < utf8.RuneSelf {
		return byteClass[b]&clsWordCh != 0
	}
	r, _ := decodeLastRune(text[:i])
	return isWord(r)
}

// wordAt reports whether the character starting at text[i] is a word
// character; there is none at the end of the text.
func wordAt(text []byte, i int) bool {
	if i >= len(text) {
		return false
	}
	if b := text[i]; b < utf8.RuneSelf {
		return byteClass[b]&clsWordCh != 0
	}
	r, _ := decodeRune(text[i:])
	return isWord(r)
}

// spaceBefore reports whether the character ending at text[:i] is
// whitespace, or i is the start of the text.
func spaceBefore(text []byte, i int) bool {
	if i == 0 {
		return true
	}
	if b := text[i-1]; b < utf8.RuneSelf {
		return byteClass[b] == clsSpace
	}
	r, _ := decodeLastRune(text[:i])
	return isSpace(r)
}

// spaceAt reports whether the character starting at text[i] is whitespace,
// or i is the end of the text.
func spaceAt(text []byte, i int) bool {
	if i >= len(text) {
		return true
	}
	if b := text[i]; b < utf8.RuneSelf {
		return byteClass[b] == clsSpace
	}
	r, _ := decodeRune(text[i:])
	return isSpace(r)
}
