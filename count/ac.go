package count

// Aho–Corasick automaton for counting many targets in one pass.
//
// Public Go packages do not fit: they drop duplicate patterns or report
// overlapping or earliest-ending matches, while SPEC wants, per target, the
// leftmost non-overlapping matches that str.count and re.findall give. The
// automaton here reports every occurrence of every pattern, in order of end
// position; the scanners then apply each target's greedy rule on their own:
// an occurrence counts if it starts at or after the end of that target's
// previous counted match (and, in word mode, its boundaries hold; one that
// fails them does not move the target's end, as re.findall just tries the
// next position). For one pattern, occurrences in end order are also in start
// order, so this is exactly the leftmost-first scan.

// automaton is a deterministic Aho–Corasick automaton over an alphabet of k
// symbols. Symbol 0 stands for every input symbol that occurs in no pattern.
// It is read-only after buildAutomaton.
type automaton struct {
	k int32
	// delta maps state*k+symbol to the next state, premultiplied by k so the
	// scan loop does no multiplication; it is stored complemented (^v, which
	// is negative) when the next state has outputs.
	delta []int32
	// own is the pattern that ends exactly at a state, or -1.
	own []int32
	// dict is the nearest proper suffix state (along the failure chain) whose
	// own is set, or -1: following it from a state enumerates every pattern
	// ending there.
	dict []int32
	// plen is each pattern's length in symbols.
	plen []int32
}

// buildAutomaton builds the automaton for distinct, non-empty patterns whose
// symbols are in [1, k).
func buildAutomaton(k int, pats [][]int32) *automaton {
	a := &automaton{k: int32(k), own: []int32{-1}}
	trie := newRow(nil, k)
	for pi, p := range pats {
		s := int32(0)
		for _, c := range p {
			next := trie[int(s)*k+int(c)]
			if next < 0 {
				next = int32(len(a.own))
				a.own = append(a.own, -1)
				trie = newRow(trie, k)
				trie[int(s)*k+int(c)] = next
			}
			s = next
		}
		a.own[s] = int32(pi)
		a.plen = append(a.plen, int32(len(p)))
	}
	a.delta = trie
	a.link(k)
	for i, v := range a.delta {
		if a.own[v] >= 0 || a.dict[v] >= 0 {
			a.delta[i] = ^(v * a.k)
		} else {
			a.delta[i] = v * a.k
		}
	}
	return a
}

// newRow appends a row of k missing (-1) transitions.
func newRow(trie []int32, k int) []int32 {
	for range k {
		trie = append(trie, -1)
	}
	return trie
}

// link computes failure and dictionary links breadth first and completes the
// transition table into a DFA: a missing transition becomes the failure
// state's transition, which is already complete because it is shallower.
func (a *automaton) link(k int) {
	n := len(a.own)
	fail := make([]int32, n)
	a.dict = make([]int32, n)
	for i := range a.dict {
		a.dict[i] = -1
	}
	queue := make([]int32, 0, n)
	for c := range k {
		if next := a.delta[c]; next < 0 {
			a.delta[c] = 0
		} else {
			queue = append(queue, next)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := range k {
			i := int(s)*k + c
			f := a.delta[int(fail[s])*k+c]
			next := a.delta[i]
			if next < 0 {
				a.delta[i] = f
				continue
			}
			fail[next] = f
			if a.own[f] >= 0 {
				a.dict[next] = f
			} else {
				a.dict[next] = a.dict[f]
			}
			queue = append(queue, next)
		}
	}
}

// byteAC counts case-sensitive word or substring targets in one pass over
// the bytes. Targets are valid UTF-8, so a byte-level occurrence always starts
// and ends on character boundaries and is a character-level occurrence.
type byteAC struct {
	a     *automaton
	class [256]int32
	word  bool
}

func newByteAC(pats []string, word bool) *byteAC {
	m := &byteAC{word: word}
	k := int32(1)
	seqs := make([][]int32, len(pats))
	for i, p := range pats {
		for _, b := range []byte(p) {
			if m.class[b] == 0 {
				m.class[b] = k
				k++
			}
			seqs[i] = append(seqs[i], m.class[b])
		}
	}
	m.a = buildAutomaton(int(k), seqs)
	return m
}

func (m *byteAC) measures() bool { return false }

func (m *byteAC) match(text []byte, counts []int64) (lines, tokens int64) {
	a := m.a
	lastEnd := make([]int, len(a.plen))
	s := int32(0)
	for i := 0; i < len(text); i++ {
		v := a.delta[s+m.class[text[i]]]
		if v >= 0 {
			s = v
			continue
		}
		s = ^v
		end := i + 1
		p := s / a.k
		if a.own[p] < 0 {
			p = a.dict[p]
		}
		for ; p >= 0; p = a.dict[p] {
			pat := a.own[p]
			start := end - int(a.plen[pat])
			if start < lastEnd[pat] {
				continue
			}
			if m.word && (wordBefore(text, start) || wordAt(text, end)) {
				continue
			}
			counts[pat]++
			lastEnd[pat] = end
		}
	}
	return 0, 0
}
