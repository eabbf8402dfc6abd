package count

import (
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Ignore-case matching compares characters by a canonical representative:
// the smallest rune of the character's unicode.SimpleFold orbit (the classes
// strings.EqualFold uses), merged with the few pairs that Python's
// re.IGNORECASE also equates (re/_casefix.py: characters whose lowercase
// forms differ but whose full uppercase forms are equal):
//
//	U+0130 'İ', U+0131 'ı'  with  'i', 'I'
//	U+1FD3 'ΐ'             with  U+0390 'ΐ'
//	U+1FE3 'ΰ'             with  U+03B0 'ΰ'
//	U+FB06 'ﬆ'             with  U+FB05 'ﬅ'
//
// Each right-hand orbit holds the smaller runes, so its minimum stays the
// representative. testdata/golden/unicode.json checks the resulting classes
// against Python for every code point. Case folding maps one rune to one rune,
// so a match has as many characters as its target, though not always as many
// bytes (the Kelvin sign U+212A is three bytes and matches 'k').

// pyFold maps the runes Python equates beyond the SimpleFold orbits to the
// representative of the orbit they join.
var pyFold = map[rune]rune{0x130: 'I', 0x131: 'I', 0x1FD3: 0x390, 0x1FE3: 0x3B0, 0xFB06: 0xFB05}

// foldTableSize covers Latin, Greek, Cyrillic, Armenian, Georgian and the
// letterlike symbols, where nearly all cased text lives; rarer runes take the
// slower orbit walk.
const foldTableSize = 0x3000

// asciiFold is fold for ASCII bytes, for the loops that fold byte by byte.
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for b := range t {
		t[b] = byte(foldSlow(rune(b)))
	}
	return t
}()

// foldTable is built on first use: only ignore-case jobs need it, and
// building it would add half a millisecond to every start of the CLI.
var foldTable = sync.OnceValue(func() []rune {
	t := make([]rune, foldTableSize)
	for r := range t {
		t[r] = foldSlow(rune(r))
	}
	return t
})

// fold returns the canonical representative of r's ignore-case class.
func fold(r rune) rune {
	if uint32(r) < foldTableSize {
		return foldTable()[r]
	}
	return foldSlow(r)
}

func foldSlow(r rune) rune {
	if c, ok := pyFold[r]; ok {
		return c
	}
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	return min
}

// foldClass returns every rune whose canonical representative is c's.
func foldClass(c rune) []rune {
	c = fold(c)
	class := []rune{c}
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		class = append(class, f)
	}
	for r, to := range pyFold {
		if to == c {
			class = append(class, r)
		}
	}
	return class
}

// foldString returns the canonical form of a valid UTF-8 string: the UTF-8
// encoding of its runes' canonical representatives.
func foldString(s string) string {
	// Folding never lengthens a character (its canonical representative is
	// the class's smallest rune), so one allocation holds the result, and
	// appendFold only reads s.
	b, _ := appendFold(make([]byte, 0, len(s)), unsafe.Slice(unsafe.StringData(s), len(s)))
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

// appendFold appends the canonical form of p to dst. It reports false, with
// dst unspecified, if p holds an invalid byte: targets are valid UTF-8, so such
// a token can never match one.
func appendFold(dst, p []byte) ([]byte, bool) {
	for i := 0; i < len(p); {
		if b := p[i]; b < utf8.RuneSelf {
			dst = append(dst, asciiFold[b])
			i++
			continue
		}
		r, n := decodeRune(p[i:])
		if n == 1 {
			return dst, false
		}
		dst = utf8.AppendRune(dst, fold(r))
		i += n
	}
	return dst, true
}

// appendLower appends p with every character mapped through
// unicode.ToLower (the simple lowercase mapping); invalid bytes are kept.
func appendLower(dst, p []byte) []byte {
	for i := 0; i < len(p); {
		b := p[i]
		if b < utf8.RuneSelf {
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			dst = append(dst, b)
			i++
			continue
		}
		r, n := decodeRune(p[i:])
		if n == 1 {
			dst = append(dst, b)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += n
	}
	return dst
}
