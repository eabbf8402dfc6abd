package localfile

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDisplayName: names that are valid UTF-8 show as they are; others,
// and names that start with a double quote, show Go-quoted, so that no two
// names show the same and each can be read back.
func TestDisplayName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"books/a.txt", "books/a.txt"},
		{"café/ü.txt", "café/ü.txt"},
		{`a\xffb`, `a\xffb`},
		{"a\xffb", `"a\xffb"`},
		{"\xc3", `"\xc3"`},
		{`"a\xffb"`, `"\"a\\xffb\""`},
		{`x"y`, `x"y`},
	} {
		got := DisplayName(tc.in)
		if got != tc.want {
			t.Errorf("DisplayName(%q): got %s, want %s", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("DisplayName(%q): got %q, want valid UTF-8", tc.in, got)
		}
		if back, err := strconv.Unquote(got); strings.HasPrefix(got, `"`) && (err != nil || back != tc.in) {
			t.Errorf("Unquote(%s): got %q, %v; want %q", got, back, err, tc.in)
		}
	}
}
