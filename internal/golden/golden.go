// Package golden reads the golden files that scripts/golden.py writes by
// evaluating SPEC.md's Python expressions (testdata/golden/*.json; see the
// schema in its docstring). The kernel's tests and the CLI's read them.
package golden

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File is one golden file: an input and the oracle's answers over it.
type File struct {
	Schema int
	Input  string
	File   string // the input text, in the text directory
	Repeat int    // how many times the input is the text repeated
	SHA256 string // of the input
	Stats  struct{ Bytes, Lines, Tokens int64 }
	Counts []Count
	Top    []Top
}

// Count is one count query and its answer, one count per target.
type Count struct {
	Mode       string
	IgnoreCase bool `json:"ignore_case"`
	Targets    []string
	Counts     []int64
}

func (c Count) String() string {
	return fmt.Sprintf("%s ignore_case=%v %q", c.Mode, c.IgnoreCase, c.Targets)
}

// Top is one frequency table, whole, in SPEC order.
type Top struct {
	WordsOnly bool `json:"words_only"`
	Lower     bool
	Distinct  int
	Entries   []Entry
}

// Entry is a top row, written [hex of the token's bytes, readable form, count].
type Entry struct {
	Token string
	Count int64
}

func (e *Entry) UnmarshalJSON(b []byte) error {
	var row [3]json.RawMessage
	var hexTok string
	if err := json.Unmarshal(b, &row); err != nil {
		return err
	}
	if err := json.Unmarshal(row[0], &hexTok); err != nil {
		return err
	}
	tok, err := hex.DecodeString(hexTok)
	if err != nil {
		return err
	}
	e.Token = string(tok)
	return json.Unmarshal(row[2], &e.Count)
}

// Load reads the golden file at path and its input, from textDir, and
// checks that the input is the one the answers were computed over.
func Load(path, textDir string) (*File, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	g := new(File)
	if err := json.Unmarshal(raw, g); err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if g.Schema != 1 {
		return nil, nil, fmt.Errorf("%s: got schema %d, want 1", path, g.Schema)
	}
	data, err := os.ReadFile(filepath.Join(textDir, g.File))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: input: %w", path, err)
	}
	text := bytes.Repeat(data, g.Repeat)
	if sum := sha256.Sum256(text); hex.EncodeToString(sum[:]) != g.SHA256 {
		return nil, nil, fmt.Errorf("%s: input %s changed since the golden file was written; rerun scripts/golden.py", path, g.File)
	}
	return g, text, nil
}
