package count

import (
	"bytes"
	"fmt"
	"slices"
)

// Program is a compiled Spec. It is read-only after Compile, so Run is safe
// for concurrent use by many goroutines: each call keeps its scratch state to
// itself.
type Program struct {
	spec Spec
	// For count jobs: the matcher counts each distinct target (after folding
	// under ignore-case) once, and slot maps every target to its distinct one.
	m     matcher
	slot  []int
	npats int
}

// matcher counts distinct targets in text, adding to counts (one per
// pattern). A matcher that cuts the text into tokens anyway measures it on
// the way: it says so with measures, and match returns the text's lines and
// tokens, sparing Run a pass. For the others Run measures the text first,
// which also brings a chunk into the CPU's cache for the matcher's passes.
type matcher interface {
	measures() bool
	match(text []byte, counts []int64) (lines, tokens int64)
}

// Up to this many case-sensitive targets, one vectorised candidate pass per
// target (see finder) beats a one-pass automaton or token lookup, measured
// on English text with common words as targets, whose candidates are many
// (BenchmarkMatchers: the two cross at about 60 targets). They are variables
// so that tests can send every job to the one-pass matchers.
var (
	maxIndexTokens  = 32
	maxIndexTargets = 48
)

// Compile validates s and prepares it to run.
func Compile(s Spec) (*Program, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	p := &Program{spec: cloneSpec(s)}
	if q := p.spec.Count; q != nil {
		pats := p.distinct(q)
		p.m = newMatcher(q.Mode, q.IgnoreCase, pats)
	}
	return p, nil
}

// distinct fills slot and returns the distinct targets. Duplicates each get
// the full count, and counting a pattern once is cheaper than counting it twice.
func (p *Program) distinct(q *Query) []string {
	var pats []string
	seen := make(map[string]int)
	for _, t := range q.Targets {
		key := t
		if q.IgnoreCase {
			key = foldString(t)
		}
		id, ok := seen[key]
		if !ok {
			id = len(pats)
			seen[key] = id
			pats = append(pats, t)
		}
		p.slot = append(p.slot, id)
	}
	p.npats = len(pats)
	return pats
}

func newMatcher(mode Mode, ignoreCase bool, pats []string) matcher {
	switch {
	case mode == Token && (ignoreCase || len(pats) > maxIndexTokens):
		return newTokenSet(pats, ignoreCase)
	case ignoreCase:
		return newRuneAC(pats, mode == Word)
	case len(pats) > maxIndexTargets:
		return newByteAC(pats, mode == Word)
	case mode == Token:
		return newIndexToken(pats)
	default:
		return newIndexWord(pats, mode == Word)
	}
}

func toBytes(pats []string) [][]byte {
	out := make([][]byte, len(pats))
	for i, p := range pats {
		out[i] = []byte(p)
	}
	return out
}

func cloneSpec(s Spec) Spec {
	if s.Count != nil {
		q := *s.Count
		q.Targets = slices.Clone(q.Targets)
		s.Count = &q
	}
	if s.Top != nil {
		t := *s.Top
		s.Top = &t
	}
	return s
}

// Spec returns a copy of the spec the program was compiled from.
func (p *Program) Spec() Spec { return cloneSpec(p.spec) }

// Run computes the spec over text: Stats.Bytes always, Stats.Lines and
// Stats.Tokens when the spec asks for them; Counts (one per target) for a
// count job, Freq for a top job.
func (p *Program) Run(text []byte) Partial { return p.RunLimited(text, 0) }

// RunLimited is Run with a top job's frequency table bounded to tableLimit
// bytes (no bound when 0): a table that would grow beyond it drops the
// tokens that do not fit and reports Over, so that a worker can refuse a
// chunk of too many distinct tokens instead of running out of memory.
func (p *Program) RunLimited(text []byte, tableLimit int64) Partial {
	out := Partial{Stats: Stats{Bytes: int64(len(text))}}
	want := p.spec.Stats
	var lines, tokens int64
	if t := p.spec.Top; t != nil {
		var measured bool
		out.Freq, tokens, measured = runTop(*t, text, tableLimit)
		switch {
		case !want:
		case measured:
			lines = int64(bytes.Count(text, newline))
		default:
			lines, tokens = measure(text)
		}
	} else {
		if want && !p.m.measures() {
			lines, tokens = measure(text)
		}
		uniq := make([]int64, p.npats)
		if l, t := p.m.match(text, uniq); p.m.measures() {
			lines, tokens = l, t
		}
		out.Counts = make([]int64, len(p.slot))
		for i, id := range p.slot {
			out.Counts[i] = uniq[id]
		}
	}
	if want {
		// A matcher that measures does so whether asked or not; the
		// answer must not depend on which matcher ran.
		out.Stats.Lines, out.Stats.Tokens = lines, tokens
	}
	return out
}

// Partial is the result of a Spec over some text. Partials merge
// associatively and commutatively: merging the Partials of a document's
// line-aligned chunks, in any order, equals Run over the whole document.
type Partial struct {
	// Stats are the text's statistics; Lines and Tokens only when the spec
	// asks for them.
	Stats Stats
	// Counts holds, for a count job, one count per Query.Targets entry.
	Counts []int64
	// Freq is the token table of a top job, nil otherwise.
	Freq *Freq
}

// Merge adds o into p. Either side may be the zero Partial (no Counts, nil
// Freq), so a zero Partial is the identity to start a merge from. p never
// shares memory with o afterwards. Merge panics if both hold counts for
// different numbers of targets, which only a mix-up of jobs can cause.
func (p *Partial) Merge(o Partial) {
	p.Stats.Add(o.Stats)
	switch {
	case len(o.Counts) == 0:
	case len(p.Counts) == 0:
		p.Counts = append([]int64(nil), o.Counts...)
	case len(p.Counts) != len(o.Counts):
		panic(fmt.Sprintf("count: merge of partials with %d and %d counts", len(p.Counts), len(o.Counts)))
	default:
		for i, n := range o.Counts {
			p.Counts[i] += n
		}
	}
	if o.Freq != nil {
		if p.Freq == nil {
			p.Freq = NewFreq()
		}
		p.Freq.Merge(o.Freq)
	}
}
