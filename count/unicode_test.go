package count

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"
)

// unicodeTables is testdata/golden/unicode.json: Python 3.11's view of every
// code point, written by scripts/golden.py. Code points Python does not know
// (unassigned in its Unicode 14 data) are skipped: SPEC allows differences on
// characters new in Unicode 15.
type unicodeTables struct {
	Schema                int
	Assigned, Space, Word [][2]rune
	Lower                 [][2]rune
	Classes               [][]rune
	UnidataVersion        string `json:"unidata_version"`
}

func loadUnicode(t *testing.T) unicodeTables {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "golden", "unicode.json"))
	if err != nil {
		t.Fatal(err)
	}
	var u unicodeTables
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func rangeSet(ranges [][2]rune) []bool {
	set := make([]bool, unicode.MaxRune+1)
	for _, r := range ranges {
		for c := r[0]; c <= r[1]; c++ {
			set[c] = true
		}
	}
	return set
}

// TestUnicodeTables checks the character predicates and mappings against
// Python over every code point Python knows.
func TestUnicodeTables(t *testing.T) {
	u := loadUnicode(t)
	known := rangeSet(u.Assigned)
	// each reports up to a few mismatches of got against want over all runes.
	each := func(t *testing.T, what string, got, want func(rune) bool) {
		t.Helper()
		bad := 0
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if known[r] && got(r) != want(r) {
				if bad++; bad <= 10 {
					t.Errorf("%s(%U): got %t, want %t", what, r, got(r), want(r))
				}
			}
		}
	}
	space, word := rangeSet(u.Space), rangeSet(u.Word)
	t.Run("space", func(t *testing.T) {
		each(t, "isSpace", isSpace, func(r rune) bool { return space[r] })
		each(t, "spaceAt", func(r rune) bool { return spaceAt(utf8.AppendRune(nil, r), 0) }, func(r rune) bool {
			return space[r] && utf8.ValidRune(r)
		})
	})
	t.Run("word", func(t *testing.T) {
		each(t, "isWord", isWord, func(r rune) bool { return word[r] })
		each(t, "wordAt", func(r rune) bool { return wordAt(utf8.AppendRune(nil, r), 0) }, func(r rune) bool {
			return word[r] && utf8.ValidRune(r)
		})
	})
	t.Run("lower", func(t *testing.T) {
		lower := map[rune]rune{}
		for _, p := range u.Lower {
			lower[p[0]] = p[1]
		}
		each(t, "ToLower==Python", func(r rune) bool { return unicode.ToLower(r) == r }, func(r rune) bool {
			l, ok := lower[r]
			return !ok || l == r
		})
		for r, l := range lower {
			if known[r] && unicode.ToLower(r) != l {
				t.Errorf("ToLower(%U): got %U, want %U", r, unicode.ToLower(r), l)
			}
		}
	})
	t.Run("fold", func(t *testing.T) { checkFoldClasses(t, u.Classes, known) })
}

// checkFoldClasses checks that fold partitions the known runes exactly as
// Python's re.IGNORECASE does.
func checkFoldClasses(t *testing.T, classes [][]rune, known []bool) {
	inClass := make(map[rune][]rune)
	for _, c := range classes {
		for _, r := range c {
			inClass[r] = c
		}
	}
	bad := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !known[r] {
			continue
		}
		want, ok := inClass[r]
		if !ok {
			want = []rune{r}
		}
		var got []rune
		for _, m := range foldClass(r) {
			if known[m] {
				got = append(got, m)
			}
		}
		slices.Sort(got)
		consistent := true
		for _, m := range want {
			consistent = consistent && fold(m) == fold(r)
		}
		if !slices.Equal(got, want) || !consistent {
			if bad++; bad <= 10 {
				t.Errorf("ignore-case class of %U: got %U, want %U", r, got, want)
			}
		}
	}
	// Chunkers split at whitespace when no target holds any; that is only safe
	// if no whitespace character matches anything but itself.
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isSpace(r) && len(foldClass(r)) != 1 {
			t.Errorf("whitespace %U has ignore-case class %U", r, foldClass(r))
		}
	}
}
