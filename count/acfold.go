package count

import (
	"math/bits"
	"unicode/utf8"
)

// runeAC counts ignore-case word or substring targets in one pass. It walks
// the text's characters, maps each to the symbol of its ignore-case class
// (every member of a class that occurs in a target gets that class's symbol)
// and steps the automaton. Positions are character indexes, because a match
// has as many characters as its target but not always as many bytes. Word
// boundaries are checked on the text's own characters, never on the folded
// ones: U+0345 folds with 'ι' yet is a mark, not a word character.
type runeAC struct {
	a     *automaton
	ascii [utf8.RuneSelf]int32
	// other holds the symbols of non-ASCII runes. Invalid bytes decode to
	// surrogates, which no valid target contains, so they find nothing here.
	other map[rune]int32
	word  bool
	// ringMask sizes the ring of recent character offsets that locates a
	// match's first character: it must hold the longest target.
	ringMask int
}

func newRuneAC(pats []string, word bool) *runeAC {
	m := &runeAC{word: word, other: make(map[rune]int32)}
	symbol := map[rune]int32{} // canonical rune -> symbol
	seqs := make([][]int32, len(pats))
	maxLen := 0
	for i, p := range pats {
		seqs[i] = make([]int32, 0, utf8.RuneCountInString(p))
		for _, r := range p {
			c := fold(r)
			sym, ok := symbol[c]
			if !ok {
				sym = int32(len(symbol) + 1)
				symbol[c] = sym
				m.addClass(c, sym)
			}
			seqs[i] = append(seqs[i], sym)
		}
		maxLen = max(maxLen, len(seqs[i]))
	}
	m.a = buildAutomaton(len(symbol)+1, seqs)
	m.ringMask = 1<<bits.Len(uint(maxLen)) - 1
	return m
}

func (m *runeAC) addClass(c rune, sym int32) {
	for _, r := range foldClass(c) {
		if r < utf8.RuneSelf {
			m.ascii[r] = sym
		} else {
			m.other[r] = sym
		}
	}
}

func (m *runeAC) measures() bool { return false }

func (m *runeAC) match(text []byte, counts []int64) (lines, tokens int64) {
	a := m.a
	lastEnd := make([]int, len(a.plen))
	ring := make([]int, m.ringMask+1)
	s := int32(0)
	n := 0 // characters read so far
	for i := 0; i < len(text); {
		ring[n&m.ringMask] = i
		var sym int32
		if b := text[i]; b < utf8.RuneSelf {
			sym = m.ascii[b]
			i++
		} else {
			r, size := decodeRune(text[i:])
			sym = m.other[r]
			i += size
		}
		n++
		v := a.delta[s+sym]
		if v >= 0 {
			s = v
			continue
		}
		s = ^v
		if s >= a.dense {
			i, n, s = m.sparse(text, i, n, s, ring, counts, lastEnd)
			continue
		}
		// report's body, written out, as in byteAC.match: a call per match
		// costs the dense path too much.
		p := s / a.k
		if a.own[p] < 0 {
			p = a.dict[p]
		}
		for ; p >= 0; p = a.dict[p] {
			pat := a.own[p]
			start := n - int(a.plen[pat])
			if start < lastEnd[pat] {
				continue
			}
			if m.word && (wordBefore(text, ring[start&m.ringMask]) || wordAt(text, i)) {
				continue
			}
			counts[pat]++
			lastEnd[pat] = n
		}
	}
	return 0, 0
}

// sparse goes on from the sparse state of code s, entered on the
// character that ends at byte i (the n-th): it counts the patterns ending
// at each state and steps by edges and failure links until a step reaches
// a dense state. It returns where the scan goes on (the byte index and
// characters read) and that state's code.
func (m *runeAC) sparse(text []byte, i, n int, s int32, ring []int, counts []int64, lastEnd []int) (int, int, int32) {
	a := m.a
	for {
		m.report(a.stateOf(s), text, i, n, ring, counts, lastEnd)
		if s < a.dense || i == len(text) {
			return i, n, s
		}
		ring[n&m.ringMask] = i
		var sym int32
		sym, i = m.symbolAt(text, i)
		n++
		v := a.sparseNext(s, sym)
		if v >= 0 {
			return i, n, v
		}
		s = ^v
	}
}

// symbolAt returns the symbol of the character at text[i] and the index
// past it.
func (m *runeAC) symbolAt(text []byte, i int) (int32, int) {
	if b := text[i]; b < utf8.RuneSelf {
		return m.ascii[b], i + 1
	}
	r, size := decodeRune(text[i:])
	return m.other[r], i + size
}

// report counts the patterns that end at state p after n characters (at
// byte end), that start after their last counted match (and, in word mode,
// whose boundaries hold).
func (m *runeAC) report(p int32, text []byte, end, n int, ring []int, counts []int64, lastEnd []int) {
	a := m.a
	if a.own[p] < 0 {
		p = a.dict[p]
	}
	for ; p >= 0; p = a.dict[p] {
		pat := a.own[p]
		start := n - int(a.plen[pat])
		if start < lastEnd[pat] {
			continue
		}
		if m.word && (wordBefore(text, ring[start&m.ringMask]) || wordAt(text, end)) {
			continue
		}
		counts[pat]++
		lastEnd[pat] = n
	}
}
