package count

import (
	"bytes"
	"math"
	"unicode/utf8"
)

// tokenSet counts token-mode targets in the same pass that counts the text's
// tokens: it cuts the text into tokens once and looks each one up, instead of
// scanning once per target. Under ignore-case the keys and the looked-up
// tokens are in canonical folded form (see fold).
type tokenSet struct {
	ids  map[string]int32 // target (folded if fold) -> pattern index
	fold bool
	// ends has a bit for the first and last byte of every key, and minLen
	// and maxLen bound the keys' byte lengths, so that most tokens skip the
	// map. Folding can change a token's byte length, so the bounds are only
	// used when fold is false.
	ends           [1 << 16 / 64]uint64
	minLen, maxLen int
}

func newTokenSet(pats []string, fold bool) *tokenSet {
	m := &tokenSet{ids: make(map[string]int32, len(pats)), fold: fold, minLen: math.MaxInt}
	for i, p := range pats {
		if fold {
			p = foldString(p)
		}
		m.ids[p] = int32(i)
		k := endsKey(p[0], p[len(p)-1])
		m.ends[k/64] |= 1 << (k % 64)
		m.minLen = min(m.minLen, len(p))
		m.maxLen = max(m.maxLen, len(p))
	}
	return m
}

func endsKey(first, last byte) int { return int(first)<<8 | int(last) }

func (m *tokenSet) hasEnds(first, last byte) bool {
	k := endsKey(first, last)
	return m.ends[k/64]&(1<<(k%64)) != 0
}

func (m *tokenSet) measures() bool { return true }

func (m *tokenSet) match(text []byte, counts []int64) (lines, tokens int64) {
	var buf []byte
	for i := skipSpace(text, 0); i < len(text); i = skipSpace(text, i) {
		j := skipToken(text, i)
		tok := text[i:j]
		i = j
		tokens++
		if m.fold {
			// Folding maps ASCII to ASCII, so the end bytes can be checked
			// before folding when they are ASCII.
			first, last := tok[0], tok[len(tok)-1]
			if first < utf8.RuneSelf && last < utf8.RuneSelf && !m.hasEnds(asciiFold[first], asciiFold[last]) {
				continue
			}
			var ok bool
			if buf, ok = appendFold(buf[:0], tok); !ok {
				continue
			}
			tok = buf
		} else if len(tok) < m.minLen || len(tok) > m.maxLen || !m.hasEnds(tok[0], tok[len(tok)-1]) {
			continue
		}
		if id, ok := m.ids[string(tok)]; ok {
			counts[id]++
		}
	}
	return int64(bytes.Count(text, newline)), tokens
}
