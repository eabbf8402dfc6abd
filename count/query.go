package count

import "github.com/tallyhq/tally/query"

// The kernel's names for the query's values, which package query defines
// so that clients share them without importing the kernel.
type (
	Mode     = query.Mode
	Query    = query.Count
	TopQuery = query.Top
	Spec     = query.Spec
	Stats    = query.Stats
	Entry    = query.Entry
)

// The modes, as query defines them.
const (
	Token     = query.Token
	Word      = query.Word
	Substring = query.Substring
)
