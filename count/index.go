package count

import "bytes"

// The matchers here serve jobs with at most maxIndexTargets case-sensitive
// targets that teddy does not take (one target; no vector kernels) or hands
// back (texts dense in its candidates): one vectorised candidate pass per
// target (see finder) beats a one-pass automaton for that many targets,
// even for common words. With the
// vector kernels and a short target (whose three checked bytes often occur
// inside other words), the token and word matchers first classify the
// text's bytes in one pass that also measures it, so that each target's pass
// can drop the candidates whose neighbours rule out a match without reading
// them.

// maxFilterLen is the longest target that makes a matcher classify the text.
const maxFilterLen = 3

func hasShort(pats [][]byte) bool {
	for _, p := range pats {
		if len(p) <= maxFilterLen {
			return true
		}
	}
	return false
}

// indexToken counts a few case-sensitive token-mode targets: an occurrence
// is a token exactly when it is preceded and followed by whitespace or the
// text's edge. Tokens never overlap. A valid target never starts with a
// continuation byte, so every occurrence found starts on a character boundary.
type indexToken struct {
	pats   [][]byte
	filter bool // some target is short: classify the text
}

func newIndexToken(pats []string) *indexToken {
	m := &indexToken{pats: toBytes(pats)}
	m.filter = hasShort(m.pats)
	return m
}

func (m *indexToken) measures() bool { return m.filter && useSIMD }

func (m *indexToken) match(text []byte, counts []int64) (lines, tokens int64) {
	var ok []uint32
	if m.measures() {
		var space classMap
		space, lines, tokens = classify(text, false)
		defer space.release()
		ok = space.bits
	}
	var f finder
	for id, p := range m.pats {
		f.reset(text, p, ok)
		exact := f.exactCandidates()
		for c := f.candidates(); c != nil; c = f.candidates() {
			for _, start := range c {
				end := start + len(p)
				if spaceBefore(text, start) && spaceAt(text, end) && (exact || bytes.Equal(text[start:end], p)) {
					counts[id]++
				}
			}
		}
	}
	return lines, tokens
}

// indexWord counts a few case-sensitive word or substring targets, one
// vectorised pass per target. Occurrences count left to right without
// overlapping, as str.count and re.findall count them: one that starts
// before the end of the last counted match is skipped. A word-mode
// occurrence whose boundaries fail does not move that end, as re.findall
// just retries at the next position.
type indexWord struct {
	pats   [][]byte
	word   bool
	filter bool // word mode and some target is short: classify the text
}

func newIndexWord(pats []string, word bool) *indexWord {
	m := &indexWord{pats: toBytes(pats), word: word}
	m.filter = word && hasShort(m.pats)
	return m
}

func (m *indexWord) measures() bool { return m.filter && useSIMD }

func (m *indexWord) match(text []byte, counts []int64) (lines, tokens int64) {
	var ok []uint32
	if m.measures() {
		var notWord classMap
		notWord, lines, tokens = classify(text, true)
		defer notWord.release()
		ok = notWord.bits
	}
	var f finder
	for id, p := range m.pats {
		f.reset(text, p, ok)
		exact := f.exactCandidates()
		lastEnd := 0
		for c := f.candidates(); c != nil; c = f.candidates() {
			for _, start := range c {
				end := start + len(p)
				if start < lastEnd || !exact && !bytes.Equal(text[start:end], p) {
					continue
				}
				if m.word && (wordBefore(text, start) || wordAt(text, end)) {
					continue
				}
				counts[id]++
				lastEnd = end
			}
		}
	}
	return lines, tokens
}
