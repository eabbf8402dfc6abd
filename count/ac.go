package count

import "slices"

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

// automaton is an Aho–Corasick automaton over an alphabet of k symbols.
// Symbol 0 stands for every input symbol that occurs in no pattern. It is
// read-only after buildAutomaton.
//
// States are numbered breadth first. The first ndense of them (the root and
// the shallow states, which nearly every step visits) have a complete row
// of k transitions, as in a DFA; the deeper ones keep only their trie edges
// and a failure link, and a step from one follows failure links until a
// state has the edge or is dense. A DFA row per state costs 4k bytes (k is up
// to 256 for bytes, more for ignore-case runes) for every byte of every
// target: long targets made gigabytes. With the dense rows capped, a state
// costs about 24 bytes, and texts that keep to shallow states, as nearly all
// do, step through the dense table as fast as before.
type automaton struct {
	k int32
	// dense is ndense*k: codes below it are dense states.
	dense  int32
	ndense int32
	// delta maps code+symbol, for the code of a dense state, to the code of
	// the next state: state*k for a dense state, dense+state-ndense for a
	// sparse one. The code is stored complemented (^v, which is negative)
	// when the next state has outputs or is sparse, so the scan loops' fast
	// path is one load and one sign test.
	delta []int32
	// own is the pattern that ends exactly at a state, or -1.
	own []int32
	// dict is the nearest proper suffix state (along the failure chain) whose
	// own is set, or -1: following it from a state enumerates every pattern
	// ending there.
	dict []int32
	// fail is each sparse state's failure link (a state number), by
	// state-ndense; edges (from edgeAt[state-ndense] up to the next one) are
	// its trie edges, as sym<<32|code of the child, in symbol order.
	fail   []int32
	edgeAt []int32
	edges  []uint64
	// plen is each pattern's length in symbols.
	plen []int32
}

// maxDenseEntries caps the dense table at 16 MiB: every automaton that fits
// keeps a complete DFA, as all did before the cap.
var maxDenseEntries = 4 << 20

// automatonBytes bounds the memory that buildAutomaton takes, at its peak,
// for an alphabet of k symbols and patterns of total symbols in all
// (a state per symbol, and the root), npats of them.
func automatonBytes(k, npats, symbols int) int64 {
	n := int64(symbols) + 1
	ndense := min(n, int64(maxDenseEntries/k+1))
	// Building: the patterns as symbols (4 bytes a state), the linked trie
	// (16) and breadth-first order (8) live while the final arrays (own,
	// dict, fail, edgeAt: 16; edges: 8) are made.
	return 56*n + 4*ndense*int64(k) + 12*int64(npats) + 1024
}

// buildAutomaton builds the automaton for distinct, non-empty patterns whose
// symbols are in [1, k).
func buildAutomaton(k int, pats [][]int32) *automaton {
	n := 1
	for _, p := range pats {
		n += len(p)
	}
	// The trie, as linked lists of children: first child, next sibling,
	// the symbol on the edge into each state.
	child := make([]int32, 1, n)
	sibling := make([]int32, 1, n)
	sym := make([]int32, 1, n)
	own := make([]int32, 1, n)
	child[0], sibling[0], own[0] = -1, -1, -1
	a := &automaton{k: int32(k)}
	for pi, p := range pats {
		s := int32(0)
		for _, c := range p {
			next := child[s]
			for next >= 0 && sym[next] != c {
				next = sibling[next]
			}
			if next < 0 {
				next = int32(len(own))
				child = append(child, -1)
				sibling = append(sibling, child[s])
				sym = append(sym, c)
				own = append(own, -1)
				child[s] = next
			}
			s = next
		}
		own[s] = int32(pi)
		a.plen = append(a.plen, int32(len(p)))
	}
	n = len(own)
	// Breadth-first order: order lists the states, rank numbers them.
	order := make([]int32, 1, n)
	for i := 0; i < len(order); i++ {
		for c := child[order[i]]; c >= 0; c = sibling[c] {
			order = append(order, c)
		}
	}
	rank := make([]int32, n)
	for r, s := range order {
		rank[s] = int32(r)
	}
	a.own = make([]int32, n)
	a.edgeAt = make([]int32, n+1)
	a.edges = make([]uint64, 0, n-1)
	for r, s := range order {
		a.own[r] = own[s]
		a.edgeAt[r] = int32(len(a.edges))
		start := len(a.edges)
		for c := child[s]; c >= 0; c = sibling[c] {
			a.edges = append(a.edges, uint64(sym[c])<<32|uint64(rank[c]))
		}
		slices.Sort(a.edges[start:])
	}
	a.edgeAt[n] = int32(len(a.edges))
	child, sibling, sym, own, order, rank = nil, nil, nil, nil, nil, nil
	a.link(k, n)
	return a
}

// link computes failure and dictionary links in breadth-first (state)
// order, fills the dense rows and encodes every transition as a code. A
// dense row's missing transition is its failure state's, whose row is
// complete because it is shallower.
func (a *automaton) link(k, n int) {
	nd := min(n, maxDenseEntries/k+1)
	a.ndense, a.dense = int32(nd), int32(nd*k)
	fail := make([]int32, n)
	a.dict = make([]int32, n)
	a.delta = make([]int32, nd*k)
	// goTo is the state after symbol c from state f, whose links are done.
	goTo := func(f int32, c int32) int32 {
		for {
			if f < a.ndense {
				return a.stateOf(a.delta[int(f)*k+int(c)])
			}
			if next, ok := a.edge(f, c); ok {
				return next
			}
			f = fail[f]
		}
	}
	a.dict[0] = -1
	for s := range int32(n) {
		for _, e := range a.edges[a.edgeAt[s]:a.edgeAt[s+1]] {
			c, next := int32(e>>32), int32(uint32(e))
			f := int32(0)
			if s > 0 {
				f = goTo(fail[s], c)
			}
			fail[next] = f
			if a.own[f] >= 0 {
				a.dict[next] = f
			} else {
				a.dict[next] = a.dict[f]
			}
		}
		if s >= a.ndense {
			continue
		}
		row := a.delta[int(s)*k : int(s+1)*k]
		for c := range int32(k) {
			next, ok := a.edge(s, c)
			switch {
			case ok:
			case s == 0:
				next = 0
			default:
				next = goTo(fail[s], c)
			}
			row[c] = a.code(next)
		}
	}
	// Sparse states keep their failure links and edges, as codes; the
	// dense ones need neither any more.
	a.fail = slices.Clip(fail[nd:])
	for i, e := range a.edges[a.edgeAt[nd]:] {
		a.edges[int(a.edgeAt[nd])+i] = e&^(1<<32-1) | uint64(uint32(a.code(int32(uint32(e)))))
	}
	a.edges = slices.Clip(a.edges[a.edgeAt[nd]:])
	base := a.edgeAt[nd]
	a.edgeAt = slices.Clip(a.edgeAt[nd:])
	for i := range a.edgeAt {
		a.edgeAt[i] -= base
	}
}

// edge returns the child of state s (whose edges are not yet codes, or s
// is dense) along symbol c.
func (a *automaton) edge(s, c int32) (int32, bool) {
	es := a.edges[a.edgeAt[s]:a.edgeAt[s+1]]
	for _, e := range es {
		if int32(e>>32) == c {
			return int32(uint32(e)), true
		}
	}
	return 0, false
}

// code is the code of state s as delta stores it: complemented when s has
// outputs or is sparse.
func (a *automaton) code(s int32) int32 {
	v := a.dense + s - a.ndense
	if s < a.ndense {
		v = s * a.k
	}
	if s >= a.ndense || a.own[s] >= 0 || a.dict[s] >= 0 {
		return ^v
	}
	return v
}

// stateOf is the state of a (possibly complemented) code.
func (a *automaton) stateOf(v int32) int32 {
	if v < 0 {
		v = ^v
	}
	if v < a.dense {
		return v / a.k
	}
	return v - a.dense + a.ndense
}

// sparseNext is the code after symbol c from the sparse state of code s
// (not complemented).
func (a *automaton) sparseNext(s, c int32) int32 {
	st := s - a.dense
	for {
		es := a.edges[a.edgeAt[st]:a.edgeAt[st+1]]
		for _, e := range es {
			if int32(e>>32) == c {
				return int32(uint32(e))
			}
		}
		f := a.fail[st]
		if f < a.ndense {
			return a.delta[f*a.k+c]
		}
		st = f - a.ndense
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
		seqs[i] = make([]int32, len(p))
		for j, b := range []byte(p) {
			if m.class[b] == 0 {
				m.class[b] = k
				k++
			}
			seqs[i][j] = m.class[b]
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
		if s >= a.dense {
			i, s = m.sparse(text, i, s, counts, lastEnd)
			continue
		}
		// report's body, written out: calling it here, on every match of a
		// dense state, slowed the one-pass matchers by a fifth (54600c9).
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

// sparse goes on from the sparse state of code s, entered on text[i]: it
// counts the patterns ending at each state and steps by edges and failure
// links until a step reaches a dense state. It returns the index of the
// last byte read and that state's code (or len(text)-1 and any code).
func (m *byteAC) sparse(text []byte, i int, s int32, counts []int64, lastEnd []int) (int, int32) {
	a := m.a
	for {
		m.report(a.stateOf(s), text, i+1, counts, lastEnd)
		if s < a.dense {
			return i, s
		}
		if i++; i == len(text) {
			return i - 1, 0
		}
		v := a.sparseNext(s, m.class[text[i]])
		if v >= 0 {
			return i, v
		}
		s = ^v
	}
}

// report counts the patterns that end at state p, at byte end, that start
// after their last counted match (and, in word mode, whose boundaries hold).
func (m *byteAC) report(p int32, text []byte, end int, counts []int64, lastEnd []int) {
	a := m.a
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
