package count

import (
	"unicode"
	"unicode/utf8"
)

// This file is a reference implementation written straight from SPEC.md,
// deliberately slow and simple: decode to characters, then compare character
// by character the way the Python expressions do. The fast paths are tested
// against it.

// naiveDecode reads text as Python's surrogateescape does: an invalid byte b
// becomes the lone surrogate U+DC00+b.
func naiveDecode(text []byte) []rune {
	var rs []rune
	for len(text) > 0 {
		r, n := utf8.DecodeRune(text)
		if r == utf8.RuneError && n == 1 {
			r = 0xDC00 + rune(text[0])
		}
		rs = append(rs, r)
		text = text[n:]
	}
	return rs
}

func naiveEncode(rs []rune) []byte {
	var b []byte
	for _, r := range rs {
		if r >= 0xDC80 && r <= 0xDCFF {
			b = append(b, byte(r-0xDC00))
		} else {
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

func naiveSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F) }

func naiveWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func isDottedI(r rune) bool { return r == 'i' || r == 'I' || r == 0x130 || r == 0x131 }

// pythonPairs are the pairs Python's re/_casefix.py equates beyond the
// SimpleFold orbits and the i's.
var pythonPairs = [][2]rune{{0x390, 0x1FD3}, {0x3B0, 0x1FE3}, {0xFB05, 0xFB06}}

// naiveEq compares two characters, under ignore-case as strings.EqualFold
// does plus Python's dotted and dotless i.
func naiveEq(a, b rune, ignoreCase bool) bool {
	if a == b {
		return true
	}
	if !ignoreCase {
		return false
	}
	if isDottedI(a) && isDottedI(b) {
		return true
	}
	for _, p := range pythonPairs {
		if (a == p[0] && b == p[1]) || (a == p[1] && b == p[0]) {
			return true
		}
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

func naiveMatchAt(text, t []rune, at int, ignoreCase bool) bool {
	if at+len(t) > len(text) {
		return false
	}
	for i, r := range t {
		if !naiveEq(r, text[at+i], ignoreCase) {
			return false
		}
	}
	return true
}

// naiveSplit is str.split().
func naiveSplit(text []rune) [][]rune {
	var toks [][]rune
	start := -1
	for i, r := range text {
		switch {
		case naiveSpace(r) && start >= 0:
			toks = append(toks, text[start:i])
			start = -1
		case !naiveSpace(r) && start < 0:
			start = i
		}
	}
	if start >= 0 {
		toks = append(toks, text[start:])
	}
	return toks
}

// naiveWords is re.findall(r"\w+", text).
func naiveWords(text []rune) [][]rune {
	var toks [][]rune
	start := -1
	for i, r := range text {
		switch {
		case !naiveWord(r) && start >= 0:
			toks = append(toks, text[start:i])
			start = -1
		case naiveWord(r) && start < 0:
			start = i
		}
	}
	if start >= 0 {
		toks = append(toks, text[start:])
	}
	return toks
}

func naiveStats(text []byte) Stats {
	var lines int64
	for _, b := range text {
		if b == '\n' {
			lines++
		}
	}
	return Stats{Bytes: int64(len(text)), Lines: lines, Tokens: int64(len(naiveSplit(naiveDecode(text))))}
}

// naiveCount counts one target as SPEC's Python expressions do: for token
// mode compare every token; otherwise try every position left to right,
// jumping past a match (re.findall, str.count).
func naiveCount(mode Mode, ignoreCase bool, target string, text []byte) int64 {
	rs := naiveDecode(text)
	t := []rune(target)
	var n int64
	if mode == Token {
		for _, tok := range naiveSplit(rs) {
			if len(tok) == len(t) && naiveMatchAt(tok, t, 0, ignoreCase) {
				n++
			}
		}
		return n
	}
	for at := 0; at < len(rs); {
		ok := naiveMatchAt(rs, t, at, ignoreCase)
		if ok && mode == Word {
			end := at + len(t)
			ok = (at == 0 || !naiveWord(rs[at-1])) && (end == len(rs) || !naiveWord(rs[end]))
		}
		if ok {
			n++
			at += len(t)
		} else {
			at++
		}
	}
	return n
}

func naiveRun(s Spec, text []byte) Partial {
	p := Partial{Stats: naiveStats(text)}
	if !s.Stats {
		p.Stats = Stats{Bytes: p.Stats.Bytes}
	}
	if q := s.Count; q != nil {
		for _, t := range q.Targets {
			p.Counts = append(p.Counts, naiveCount(q.Mode, q.IgnoreCase, t, text))
		}
		return p
	}
	rs := naiveDecode(text)
	toks := naiveSplit(rs)
	if s.Top.WordsOnly {
		toks = naiveWords(rs)
	}
	p.Freq = NewFreq()
	for _, tok := range toks {
		if s.Top.Lower {
			low := make([]rune, len(tok))
			for i, r := range tok {
				low[i] = unicode.ToLower(r)
			}
			tok = low
		}
		p.Freq.Add(naiveEncode(tok), 1)
	}
	return p
}
