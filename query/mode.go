package query

import (
	"fmt"
	"strings"
)

// Mode selects what counts as an occurrence of a target.
type Mode uint8

// The zero Mode is deliberately invalid, so a Query whose Mode was never set
// is rejected by Validate instead of silently counting tokens.
const (
	// Token counts whole whitespace-separated tokens: text.split().count(t).
	Token Mode = 1
	// Word counts non-overlapping matches of (?<!\w)t(?!\w).
	Word Mode = 2
	// Substring counts non-overlapping occurrences: text.count(t).
	Substring Mode = 3
)

var modeNames = [...]string{Token: "token", Word: "word", Substring: "substring"}

// String returns the mode's name as the CLI spells it: "token", "word" or
// "substring"; an unknown mode prints as Mode(n).
func (m Mode) String() string {
	if m.valid() {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

func (m Mode) valid() bool { return m >= Token && m <= Substring }

// validModes lists the names in the order users see them in errors.
func validModes() string { return strings.Join(modeNames[Token:], ", ") }

// ParseMode is the inverse of Mode.String. Any other string is an error that
// lists the valid modes.
func ParseMode(s string) (Mode, error) {
	for m := Token; m <= Substring; m++ {
		if s == modeNames[m] {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q (valid: %s)", s, validModes())
}
