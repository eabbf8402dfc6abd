package count

import "bytes"

// The matchers here serve jobs with at most maxIndexTargets case-sensitive
// targets: one bytes.Index or bytes.Count pass per target, which the standard
// library vectorises, beats a one-pass automaton for so few targets.

// indexToken counts a few case-sensitive token-mode targets with bytes.Index
// (vectorised) and a whitespace check on both sides of each occurrence, one
// pass per target. An occurrence is a token exactly when it is preceded and
// followed by whitespace or the text's edge. Tokens never overlap, so after a
// match the search resumes at its end, and after a non-token occurrence one
// byte later. A valid target never starts with a continuation byte, so every
// occurrence found starts on a character boundary.
type indexToken struct {
	pats [][]byte
}

func (m *indexToken) match(text []byte, counts []int64) (int64, bool) {
	for id, p := range m.pats {
		for i := 0; ; {
			j := bytes.Index(text[i:], p)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(p)
			if spaceBefore(text, start) && spaceAt(text, end) {
				counts[id]++
				i = end
			} else {
				i = start + 1
			}
		}
	}
	return 0, false
}

// indexWord counts a few case-sensitive word or substring targets, one
// vectorised pass per target. Substring counts are bytes.Count, which counts
// non-overlapping occurrences left to right, as str.count does. A word-mode
// occurrence whose boundaries fail is skipped by one byte, as re.findall
// retries at the next position.
type indexWord struct {
	pats [][]byte
	word bool
}

func (m *indexWord) match(text []byte, counts []int64) (int64, bool) {
	for id, p := range m.pats {
		if !m.word {
			counts[id] = int64(bytes.Count(text, p))
			continue
		}
		for i := 0; ; {
			j := bytes.Index(text[i:], p)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(p)
			if !wordBefore(text, start) && !wordAt(text, end) {
				counts[id]++
				i = end
			} else {
				i = start + 1
			}
		}
	}
	return 0, false
}
