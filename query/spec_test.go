package query

import (
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mode
		wantErr string
	}{
		{in: "token", want: Token},
		{in: "word", want: Word},
		{in: "substring", want: Substring},
		{in: "Token", wantErr: `unknown mode "Token" (valid: token, word, substring)`},
		{in: "", wantErr: `unknown mode "" (valid: token, word, substring)`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMode(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v, want %v", got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Fatalf("String: got %q, want %q", got.String(), tc.in)
			}
		})
	}
	if got := Mode(9).String(); got != "Mode(9)" {
		t.Errorf("Mode(9).String(): got %q, want %q", got, "Mode(9)")
	}
}

func TestValidate(t *testing.T) {
	count := func(m Mode, targets ...string) Spec { return Spec{Count: &Count{Mode: m, Targets: targets}} }
	for _, tc := range []struct {
		name    string
		spec    Spec
		wantErr string // "" means valid
	}{
		{"token", count(Token, "the", "K", "\ufffd"), ""},
		{"top", Spec{Top: &Top{Lower: true}}, ""},
		{"word with space", count(Word, "a b", "a\u00a0b"), ""},
		{"substring with tab", count(Substring, "\t"), ""},
		{"neither", Spec{}, "spec has neither a count nor a top query"},
		{"both", Spec{Count: &Count{Mode: Token, Targets: []string{"a"}}, Top: &Top{}}, "spec has both a count and a top query"},
		{"zero mode", count(0, "a"), "unknown mode Mode(0) (valid: token, word, substring)"},
		{"no targets", count(Word), "count query has no targets"},
		{"empty target", count(Token, "a", ""), `target 2 "": targets cannot be empty`},
		{"token space", count(Token, "the", "a b"), `target 2 "a b": token mode targets cannot contain whitespace`},
		{"token nbsp", count(Token, "a\u00a0b"), `target 1 "a\u00a0b": token mode targets cannot contain whitespace`},
		{"token unit separator", count(Token, "a\x1fb"), `target 1 "a\x1fb": token mode targets cannot contain whitespace`},
		{"token ideographic space", count(Token, "a\u3000"), `target 1 "a\u3000": token mode targets cannot contain whitespace`},
		{"newline word", count(Word, "a\nb"), `target 1 "a\nb": targets cannot contain a newline`},
		{"newline substring", count(Substring, "\n"), `target 1 "\n": targets cannot contain a newline`},
		{"invalid utf8", count(Substring, "a\xffb"), `target 1 "a\xffb": targets must be valid UTF-8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if got := errString(err); got != tc.wantErr {
				t.Fatalf("Validate: got %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestValidateTarget(t *testing.T) {
	if err := ValidateTarget(Token, "a b"); errString(err) != `target "a b": token mode targets cannot contain whitespace` {
		t.Errorf("got %v", err)
	}
	if err := ValidateTarget(Word, "a b"); err != nil {
		t.Errorf("got %v, want nil", err)
	}
	if err := ValidateTarget(Mode(4), "a"); err == nil || !strings.Contains(err.Error(), "unknown mode") {
		t.Errorf("got %v, want unknown mode", err)
	}
}

func TestHasSpace(t *testing.T) {
	for _, tc := range []struct {
		targets []string
		want    bool
	}{
		{[]string{"a", "b"}, false},
		{[]string{"a", "b c"}, true},
		{[]string{"\u0085"}, true},
		{[]string{"x\u2028"}, true},
		{[]string{"\x1c"}, true},
		{[]string{"\u200b", "\u180e", "\ufeff"}, false},
	} {
		t.Run(strings.Join(tc.targets, "|"), func(t *testing.T) {
			if got := (Count{Mode: Word, Targets: tc.targets}).HasSpace(); got != tc.want {
				t.Fatalf("got %t, want %t", got, tc.want)
			}
		})
	}
}
