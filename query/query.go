// Package query defines what a tally job computes (a Spec: targets to count
// in a Mode, or a frequency table) and the plain values its answers are made
// of (Stats, Entry). It is the part of the counting vocabulary that clients
// share with the kernel, without the kernel: importing it costs nothing.
package query

import "unicode"

// IsSpace reports whether r is whitespace as Python's str.split sees it:
// unicode.IsSpace plus the information separators U+001C..U+001F. Token
// boundaries, token-mode targets and line splitting all use this one rule.
func IsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F)
}

// Stats are a text's statistics: a job reports Bytes always, and Lines and
// Tokens when its Spec asks for them.
type Stats struct {
	// Bytes is len(data).
	Bytes int64
	// Lines is data.count(b"\n"), as wc -l counts.
	Lines int64
	// Tokens is len(text.split()).
	Tokens int64
}

// Add adds o's statistics to s. Line-aligned chunks never share a token, so
// the sums over the chunks are the document's statistics.
func (s *Stats) Add(o Stats) {
	s.Bytes += o.Bytes
	s.Lines += o.Lines
	s.Tokens += o.Tokens
}

// Entry is one row of a frequency table.
type Entry struct {
	// Token holds the token's raw bytes, which may be invalid UTF-8.
	Token string
	// Count is how many times the token occurred.
	Count int64
}

// MaxCount is the largest count a job reports: a count from outside
// (a worker's result, a coordinator's answer) above it is refused instead
// of wrapping around.
const MaxCount = 1<<56 - 1
