package count

import (
	"fmt"
	"unicode/utf8"
)

// MatcherBytes estimates, from the query alone and before anything is
// built, the most memory that compiling it takes (its matcher, at the peak
// of its construction, and the program's own copies). It is an upper bound
// of what Compile allocates, within a small factor, so that a coordinator
// can refuse a query whose matcher would not fit, and a worker can check
// again against its own memory before compiling. It is linear in the
// targets' bytes.
func MatcherBytes(q Query) int64 {
	n, size := int64(len(q.Targets)), int64(0)
	for _, t := range q.Targets {
		size += int64(len(t))
	}
	// The program's copy of the target list, the map that finds duplicates,
	// and the slot of each target; under ignore-case, the folded copies
	// (each made through a growing buffer: up to 6 bytes allocated per
	// byte) and the fold table, built on first use.
	est := 4096 + 200*n
	if q.IgnoreCase {
		est += 6*size + 4*foldTableSize
	}
	if len(q.Targets) <= maxTeddyTargets {
		// teddy's tables and buckets, its map of fingerprints and, under
		// ignore-case, the targets' canonical runes and the spellings of
		// their first characters (at most 4x4x4 strings of 3 bytes each).
		est += 4096 + 64*n
		if q.IgnoreCase {
			est += 4*size + 24*n + 2048*n
		}
	}
	switch {
	case q.Mode == Token && (q.IgnoreCase || len(q.Targets) > maxIndexTokens):
		// A map of the targets (its keys are the folded copies above).
		return est + 200*n
	case q.IgnoreCase:
		return est + runeACBytes(q.Targets)
	case len(q.Targets) > maxIndexTargets:
		return est + byteACBytes(q.Targets)
	default:
		// The targets as byte slices.
		return est + size + 32*n
	}
}

// byteACBytes bounds newByteAC's memory: its alphabet is the distinct bytes.
func byteACBytes(pats []string) int64 {
	var seen [256]bool
	k, symbols := 1, 0
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			if !seen[p[i]] {
				seen[p[i]] = true
				k++
			}
		}
		symbols += len(p)
	}
	return automatonBytes(k, len(pats), symbols)
}

// runeACBytes bounds newRuneAC's memory: its alphabet is at most the
// distinct characters (folding merges some), each of whose case class
// takes a few map entries.
func runeACBytes(pats []string) int64 {
	seen := map[rune]struct{}{}
	symbols := 0
	for _, p := range pats {
		for _, r := range p {
			if r >= utf8.RuneSelf {
				seen[r] = struct{}{}
			}
			symbols++
		}
	}
	k := len(seen) + 129
	return automatonBytes(k, len(pats), symbols) + 256*int64(k)
}

// MemoryError is a query refused because its matcher's estimated memory
// (MatcherBytes) is above a limit.
type MemoryError struct {
	// Estimate is the matcher's estimated memory and Limit the budget, in bytes.
	Estimate, Limit int64
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("the matcher for these targets would take about %s of memory, above the limit of %s",
		FormatBytes(e.Estimate), FormatBytes(e.Limit))
}

// CheckMatcher returns a *MemoryError when the count query's matcher
// would take more than limit bytes; a limit of 0 or less, or a top query,
// passes.
func CheckMatcher(s Spec, limit int64) error {
	if limit <= 0 || s.Count == nil {
		return nil
	}
	if est := MatcherBytes(*s.Count); est > limit {
		return &MemoryError{Estimate: est, Limit: limit}
	}
	return nil
}

// FormatBytes writes n bytes in the largest binary unit that keeps it at
// least 1, with one decimal: 1.5 GiB, 300.0 MiB, 512 B.
func FormatBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}
