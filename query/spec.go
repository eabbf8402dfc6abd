package query

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Count asks for the number of matches of each target in one mode.
type Count struct {
	// Mode selects what a match is.
	Mode Mode
	// Targets are counted independently, as if each had its own pass; a
	// duplicate target gets the full count again.
	Targets []string
	// IgnoreCase matches as Python's re.IGNORECASE does.
	IgnoreCase bool
}

// Top asks for a token frequency table.
type Top struct {
	// WordsOnly makes the tokens the maximal runs of word characters
	// (re.findall(r"\w+", text)) instead of the whitespace-separated ones.
	WordsOnly bool
	// Lower maps every character of a token through unicode.ToLower.
	Lower bool
}

// Spec is what a job computes: exactly one of Count or Top is non-nil.
type Spec struct {
	// Count, if set, counts targets.
	Count *Count
	// Top, if set, builds a frequency table.
	Top *Top
	// Stats asks for each text's lines and tokens as well. They cost a pass
	// over the text that most matchers do not make otherwise, so a job
	// measures them only when its output shows them; without Stats the
	// answers' Lines and Tokens are zero.
	Stats bool
}

// Job is a job's whole computation: the Spec plus the number of top
// entries to keep (0: all), which only matters when the job ends.
type Job struct {
	Spec     Spec
	TopLimit int
}

// Validate reports the first problem with the spec as a one-line error that
// names the offending target by its 1-based position, such as
// `target 2 "a b": token mode targets cannot contain whitespace`.
func (s Spec) Validate() error {
	switch {
	case s.Count == nil && s.Top == nil:
		return errors.New("spec has neither a count nor a top query")
	case s.Count != nil && s.Top != nil:
		return errors.New("spec has both a count and a top query")
	case s.Top != nil:
		return nil
	}
	q := s.Count
	if !q.Mode.valid() {
		return fmt.Errorf("unknown mode %s (valid: %s)", q.Mode, validModes())
	}
	if len(q.Targets) == 0 {
		return errors.New("count query has no targets")
	}
	for i, t := range q.Targets {
		if err := targetProblem(q.Mode, t); err != nil {
			return fmt.Errorf("target %d %q: %w", i+1, t, err)
		}
	}
	return nil
}

// ValidateTarget reports why t cannot be a target in mode m, as
// `target "a b": token mode targets cannot contain whitespace`, or nil if it
// can. It is the per-target check of Validate, for callers that check targets
// as they read them.
func ValidateTarget(m Mode, t string) error {
	if !m.valid() {
		return fmt.Errorf("unknown mode %s (valid: %s)", m, validModes())
	}
	if err := targetProblem(m, t); err != nil {
		return fmt.Errorf("target %q: %w", t, err)
	}
	return nil
}

// targetProblem is the reason t is not a valid target in mode m, unwrapped.
func targetProblem(m Mode, t string) error {
	switch {
	case t == "":
		return errors.New("targets cannot be empty")
	case !utf8.ValidString(t):
		return errors.New("targets must be valid UTF-8")
	case strings.ContainsRune(t, '\n'):
		// Chunks are cut at newlines, so a match spanning one would be lost.
		return errors.New("targets cannot contain a newline")
	case m == Token && hasSpace(t):
		return errors.New("token mode targets cannot contain whitespace")
	}
	return nil
}

// HasSpace reports whether any target contains a whitespace character. When
// none does, no match can span whitespace, so a chunker may split an overlong
// line just after any whitespace character without changing the counts.
func (q Count) HasSpace() bool {
	for _, t := range q.Targets {
		if hasSpace(t) {
			return true
		}
	}
	return false
}

// hasSpace reports whether s contains a whitespace character.
func hasSpace(s string) bool {
	for _, r := range s {
		if IsSpace(r) {
			return true
		}
	}
	return false
}
