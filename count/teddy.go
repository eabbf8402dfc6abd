package count

import (
	"bytes"
	"math/bits"
	"unicode/utf8"
)

// teddy counts a few targets in one pass over the text, in any mode, in the
// manner of the Teddy searcher of Hyperscan and Rust's aho-corasick: each
// target is put in one of 8 buckets, and a position is a candidate for the
// buckets whose targets may start with the text's next three bytes. Each of
// the three bytes is looked up in two 16-entry tables of bucket bits, one
// per nibble, 32 or 64 positions at a time (VPSHUFB, AVX2 or AVX-512), and
// the lookups are ANDed; in token and word mode, with a target of up to
// three bytes, the byte before must also be one that can border a match. Only candidates are verified, with the mode's rules. That is one
// pass for all targets where the per-target matchers make one each, and it
// runs near memory speed while candidates are rare. When they are not (a
// common word, a one-letter target), the dense matcher (automaton, token
// lookup or per-target passes) is faster: teddy counts its work on the first
// teddyProbe bytes of each text and hands the rest to that matcher when the
// work exceeds what the dense matcher would cost there.
//
// Under ignore-case the tables hold the first bytes of every spelling of a
// target's first characters (each replaced by any member of its class, so
// 'k' also puts the lead byte of U+212A there), and the rest is compared
// character by character through fold: a match may hold multi-byte
// characters and be longer or shorter in bytes than its target.
type teddy struct {
	mode    Mode
	pats    []string
	folded  [][]rune // under ignore-case: each target's canonical runes
	pre     bool     // token or word mode and a short target: check the byte before
	buckets [teddyBuckets][]int32
	// masks holds the kernel's nibble tables (see teddyAVX2); tabs and keep
	// are the same tables per byte, for the portable scan.
	masks    [256]byte
	tabs     [3][256]uint8
	keep     [256]uint8
	fallback matcher
	maxWork  int // per KiB of the probe, past which the fallback is faster
}

const (
	teddyBuckets = 8
	// maxTeddyTargets bounds the targets teddy takes: with more, each bucket
	// holds many and nearly every position is a candidate.
	maxTeddyTargets = 64
)

// The probe that picks the matcher for each text: teddy hands the text
// past the first teddyProbe bytes (and the rest of their line) to the dense
// matcher when its work there exceeds, per KiB, teddyWork per target, or
// teddyFoldWork under ignore-case. BenchmarkTeddy (CPU time, the corpora in
// 1 MiB pieces, on a Xeon of 2026-12) put teddy's scan at 0.13 ns a byte and
// a unit of work at 7-12 ns, and the per-target passes at about 0.09 ns a
// byte plus 0.03 per target (0.3 with the boundary map that short targets
// need): they break even near 8 units per KiB per target. Under ignore-case
// the dense matchers read every character (0.29 GB/s for three rare
// words), so teddy stays ahead up to about 300. They are variables so that
// tests can move the hand-over.
var (
	teddyProbe    = 16 << 10
	teddyWork     = 8
	teddyFoldWork = 256
)

// teddyStep is the step of the probe: jobs of common words lose less to
// it (forty words: 0.8x the dense matcher's speed with one probe of 64
// KiB, 0.9x with one of 16 KiB, 1.0x in steps of 4 KiB; ten: 0.95-1.0x),
// as a few KiB of text already hold dozens of candidates of such words.
const teddyStep = 4 << 10

// tokenReject is the class of bytes that rule out a token-mode match
// starting right after them: every ASCII byte but whitespace. Bit 1 is
// 0x30..0x7F, bit 2 is 0x00..0x08 and 0x0E..0x0F, bit 4 is 0x10..0x1B, bit
// 8 is 0x21..0x2F.
var tokenReject = newBoundary(
	[16]byte{1 | 2 | 4, 1 | 2 | 4 | 8, 1 | 2 | 4 | 8, 1 | 2 | 4 | 8, 1 | 2 | 4 | 8, 1 | 2 | 4 | 8, 1 | 2 | 4 | 8, 1 | 2 | 4 | 8,
		1 | 2 | 4 | 8, 1 | 4 | 8, 1 | 4 | 8, 1 | 4 | 8, 1 | 8, 1 | 8, 1 | 2 | 8, 1 | 2 | 8},
	[16]byte{2, 4, 8, 1, 1, 1, 1, 1})

// newTeddy returns a teddy matcher for pats, which falls back to dense for
// texts where candidates are common, or nil when teddy cannot take them.
// teddyWork and teddyFoldWork are read here, teddyProbe by each match.
func newTeddy(mode Mode, ignoreCase bool, pats []string, dense matcher) *teddy {
	if len(pats) > maxTeddyTargets {
		return nil
	}
	m := &teddy{mode: mode, pats: pats, fallback: dense, maxWork: teddyWork * len(pats)}
	if ignoreCase {
		m.maxWork = teddyFoldWork
	}
	// The byte before a candidate is checked only for targets whose whole
	// text is their fingerprint, such as "the", whose occurrences inside
	// words would otherwise all be verified; a longer target's three bytes
	// leave few candidates, and the check costs a fifth of the scan.
	for _, p := range pats {
		m.pre = m.pre || mode != Substring && len(p) <= maxFilterLen
	}
	keys := make(map[string]int)
	for id, p := range pats {
		spellings := []string{p[:min(3, len(p))]}
		key := spellings[0]
		if ignoreCase {
			m.folded = append(m.folded, foldRunes(p))
			spellings = foldSpellings(p)
			key = string(m.folded[id][:min(3, len(m.folded[id]))])
		}
		b, ok := keys[key]
		if !ok {
			b = len(keys) % teddyBuckets
			keys[key] = b
		}
		m.buckets[b] = append(m.buckets[b], int32(id))
		for _, sp := range spellings {
			m.addFingerprint(sp, b)
		}
	}
	if m.pre {
		reject := tokenReject
		if mode == Word {
			reject = wordByte
		}
		copy(m.masks[192:], reject[:])
		for c := range m.keep {
			if !reject.has(byte(c)) {
				m.keep[c] = 0xFF
			}
		}
	}
	for k := range m.tabs {
		for c := range 256 {
			m.tabs[k][c] = m.masks[64*k+c&15] & m.masks[64*k+32+c>>4]
		}
	}
	return m
}

// addFingerprint adds bucket b to the tables of the bytes fp, and of every
// byte at the positions past it, which a target shorter than three bytes
// leaves free.
func (m *teddy) addFingerprint(fp string, b int) {
	bit := byte(1) << b
	for k := range 3 {
		lo, hi := m.masks[64*k:64*k+32], m.masks[64*k+32:64*k+64]
		if k >= len(fp) {
			for i := range lo {
				lo[i] |= bit
				hi[i] |= bit
			}
			continue
		}
		v := fp[k]
		lo[v&15] |= bit
		lo[16+v&15] |= bit
		hi[v>>4] |= bit
		hi[16+v>>4] |= bit
	}
}

// foldSpellings returns the first three bytes (or fewer, for a shorter
// text) of every way a text may spell the start of p under ignore-case:
// each of p's first characters replaced by any member of its class, in
// UTF-8. Every match of p starts with one of them.
func foldSpellings(p string) []string {
	spellings := []string{""}
	for _, r := range p {
		var next []string
		grew := false
		for _, sp := range spellings {
			if len(sp) >= 3 {
				next = append(next, sp)
				continue
			}
			grew = true
			for _, v := range foldClass(r) {
				next = append(next, string(utf8.AppendRune([]byte(sp), v)))
			}
		}
		spellings = next
		if !grew {
			break
		}
	}
	for i, sp := range spellings {
		spellings[i] = sp[:min(3, len(sp))]
	}
	return spellings
}

// foldRunes returns the canonical runes of a valid UTF-8 string.
func foldRunes(s string) []rune {
	rs := make([]rune, 0, utf8.RuneCountInString(s))
	for _, r := range s {
		rs = append(rs, fold(r))
	}
	return rs
}

func (m *teddy) measures() bool { return false }

func (m *teddy) match(text []byte, counts []int64) (lines, tokens int64) {
	if m.fallback != nil && len(text) > teddyProbe {
		// Cutting the text after a newline changes no count (SPEC: chunking
		// never changes an answer), so each step of the probe is a text of
		// its own, and so is the rest. A text whose first steps already
		// cost more than the whole probe may goes to the fallback at once.
		step := min(teddyStep, teddyProbe)
		budget := m.maxWork * teddyProbe >> 10
		work, done := 0, 0
		for done < teddyProbe {
			nl := bytes.IndexByte(text[min(done+step, len(text)):], '\n')
			if nl < 0 {
				break
			}
			end := min(done+step, len(text)) + nl + 1
			work += m.count(text[done:end], counts)
			done = end
			if work > budget {
				break
			}
		}
		text = text[done:]
		if work > m.maxWork*done>>10 {
			m.fallback.match(text, counts)
			return 0, 0
		}
	}
	m.count(text, counts)
	return 0, 0
}

// count counts the targets in text and returns its work: candidates plus
// verifications.
func (m *teddy) count(text []byte, counts []int64) (work int) {
	var lastEnd [maxTeddyTargets]int // word and substring mode: end of the last match counted
	var buf [256]uint64
	for next := 0; next < len(text); {
		var n int
		n, next = m.candidates(text, next, buf[:])
		work += n
		for _, c := range buf[:n] {
			i := int(c >> 8)
			for set := uint(c & 0xFF); set != 0; set &= set - 1 {
				for _, id := range m.buckets[bits.TrailingZeros(set)] {
					work++
					switch m.mode {
					case Token:
						if !spaceBefore(text, i) {
							continue
						}
						if end, ok := m.matchAt(text, i, id); ok && spaceAt(text, end) {
							counts[id]++
						}
					default:
						if i < lastEnd[id] {
							continue
						}
						end, ok := m.matchAt(text, i, id)
						if !ok || m.mode == Word && (wordBefore(text, i) || wordAt(text, end)) {
							continue
						}
						counts[id]++
						lastEnd[id] = end
					}
				}
			}
		}
	}
	return work
}

// matchAt reports whether target id occurs at text[i:], and where it ends.
func (m *teddy) matchAt(text []byte, i int, id int32) (end int, ok bool) {
	if m.folded == nil {
		p := m.pats[id]
		end = i + len(p)
		return end, end <= len(text) && string(text[i:end]) == p
	}
	for _, want := range m.folded[id] {
		if i >= len(text) {
			return 0, false
		}
		if b := text[i]; b < utf8.RuneSelf {
			if rune(asciiFold[b]) != want {
				return 0, false
			}
			i++
			continue
		}
		r, size := decodeRune(text[i:])
		if fold(r) != want {
			return 0, false
		}
		i += size
	}
	return i, true
}

// candidates writes to out the candidates of text from position from on, as
// position<<8 | buckets, in order, and returns how many it wrote and the
// first position not yet scanned. The kernel takes whole blocks of 32
// positions whose bytes, and the one before, lie in the text; the portable
// scan takes the rest (or all), with the same tables.
func (m *teddy) candidates(text []byte, from int, out []uint64) (n, next int) {
	head := 0
	if m.pre {
		head = 1
	}
	if useSIMD && from >= head && from+32 <= len(text)-2 {
		return teddySIMD(text, from, &m.masks, m.pre, out)
	}
	end := len(text)
	if useSIMD && from < head {
		end = head
	}
	return m.scan(text, from, end, out)
}

// scan is the portable candidates, for the positions from from up to end.
func (m *teddy) scan(text []byte, from, end int, out []uint64) (n, next int) {
	i := from
	for ; i < end && n < len(out); i++ {
		set := m.tabs[0][text[i]]
		if set == 0 {
			continue
		}
		if i+1 < len(text) {
			set &= m.tabs[1][text[i+1]]
		}
		if i+2 < len(text) {
			set &= m.tabs[2][text[i+2]]
		}
		if m.pre && i > 0 {
			set &= m.keep[text[i-1]]
		}
		if set != 0 {
			out[n] = uint64(i)<<8 | uint64(set)
			n++
		}
	}
	return n, i
}
