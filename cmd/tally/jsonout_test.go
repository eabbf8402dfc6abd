package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
)

// The reference is the top JSON output as it was before the table got its
// own writer: the old structs, filled as topJSON filled them, encoded by
// reflection. The writer must match it byte for byte.

type referenceTopEntry struct {
	Token string `json:"token"`
	Count int64  `json:"count"`
}

type referenceTopOutput struct {
	Job        string              `json:"job"`
	Mode       string              `json:"mode"`
	IgnoreCase bool                `json:"ignore_case"`
	WordsOnly  bool                `json:"words_only"`
	Lower      bool                `json:"lower"`
	Limit      int                 `json:"n"`
	Documents  []statsJSON         `json:"documents"`
	Total      statsJSON           `json:"total"`
	Top        []referenceTopEntry `json:"top"`
	Workers    int                 `json:"workers"`
	Elapsed    float64             `json:"elapsed_seconds"`
	Skipped    []skippedJSON       `json:"skipped,omitempty"`
}

func referenceTopJSON(r *client.Result, q query.Job) referenceTopOutput {
	mode := query.Token
	if q.Spec.Top.WordsOnly {
		mode = query.Word
	}
	out := referenceTopOutput{Job: r.JobID, Mode: mode.String(), WordsOnly: q.Spec.Top.WordsOnly, Lower: q.Spec.Top.Lower, Limit: q.TopLimit,
		Documents: []statsJSON{}, Top: []referenceTopEntry{}, Workers: r.Workers, Elapsed: r.Elapsed.Seconds()}
	for _, d := range r.Documents {
		out.Documents = append(out.Documents, docJSON(d, r.Stats, nil))
	}
	out.Total = docJSON(r.Total, r.Stats, nil)
	out.Total.Name = ""
	for _, e := range r.Top {
		out.Top = append(out.Top, referenceTopEntry{Token: e.Token, Count: e.Count})
	}
	return out
}

// reflectJSON encodes v as the old writeJSON did.
func reflectJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkTopJSON compares writeJSON, and encoding/json on topOutput, with the reference.
func checkTopJSON(t *testing.T, r *client.Result, q query.Job) {
	t.Helper()
	want := reflectJSON(t, referenceTopJSON(r, q))
	var got bytes.Buffer
	if err := writeJSON(&got, topJSON(r, q)); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Fatalf("writeJSON differs from encoding/json at byte %d:\ngot  %.300q\nwant %.300q", firstDifference(got.String(), want), got.String(), want)
	}
	if viaMarshaler := reflectJSON(t, topJSON(r, q)); viaMarshaler != want {
		t.Fatalf("encoding/json on topOutput (topTable.MarshalJSON) differs at byte %d:\ngot  %.300q\nwant %.300q", firstDifference(viaMarshaler, want), viaMarshaler, want)
	}
}

func firstDifference(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// trickyPieces are what tokens are built from: every kind of escape, HTML
// characters (not escaped), multi-byte and invalid UTF-8, and plain words.
var trickyPieces = []string{
	"", `"`, `\`, "\x00", "\x01", "\x1f", "\x7f", "\t", "\n", "\r", "\b", "\f", "\v", "/",
	"<", ">", "&", "é", "日本", "\u2028", "\u2029", "\ufffd", "\U0001F600",
	"\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
	"the", "word", "a", "x",
}

func randomToken(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(5) {
		b.WriteString(trickyPieces[rng.IntN(len(trickyPieces))])
	}
	return b.String()
}

// randomCount has a random number of digits, from 0 to the largest int64.
func randomCount(rng *rand.Rand) int64 {
	switch digits := rng.IntN(21); digits {
	case 0:
		return 0
	case 20:
		return math.MaxInt64
	default:
		return rng.Int64N(int64(math.Pow10(digits - 1)))
	}
}

func randomTopResult(rng *rand.Rand, entries int) (*client.Result, query.Job) {
	r := &client.Result{JobID: "job" + randomToken(rng), Workers: rng.IntN(64), Elapsed: time.Duration(rng.Int64N(int64(time.Hour)))}
	for range rng.IntN(3) {
		r.Documents = append(r.Documents, client.DocumentResult{Name: randomToken(rng),
			Stats: query.Stats{Bytes: randomCount(rng), Lines: randomCount(rng), Tokens: randomCount(rng)}})
	}
	r.Total = client.DocumentResult{Name: "ignored", Stats: query.Stats{Bytes: randomCount(rng), Lines: randomCount(rng), Tokens: randomCount(rng)}}
	for range entries {
		r.Top = append(r.Top, query.Entry{Token: randomToken(rng), Count: randomCount(rng)})
	}
	q := query.Job{Spec: query.Spec{Top: &query.Top{WordsOnly: rng.IntN(2) == 0, Lower: rng.IntN(2) == 0}}, TopLimit: rng.IntN(100)}
	return r, q
}

func TestTopJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, entries := range []int{0, 1, 2, 3, 10, 100, 1000, 5000} {
		for range 20 {
			r, q := randomTopResult(rng, entries)
			checkTopJSON(t, r, q)
		}
	}
}

func TestTopJSONEmptyTable(t *testing.T) {
	for _, top := range [][]query.Entry{nil, {}} {
		var got bytes.Buffer
		q := query.Job{Spec: query.Spec{Top: &query.Top{}}}
		if err := writeJSON(&got, topJSON(&client.Result{Top: top}, q)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.String(), `"top":[],`) {
			t.Errorf("empty table written as %s", got.String())
		}
		checkTopJSON(t, &client.Result{Top: top}, q)
	}
}

// TestAppendJSONStringEveryRune covers every byte, every pair of bytes and
// every code point, surrogates included (which Go encodes as invalid UTF-8).
func TestAppendJSONStringEveryRune(t *testing.T) {
	check := func(s string) {
		if got, want := string(appendJSONString(nil, s))+"\n", reflectJSON(t, s); got != want {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
	for b := range 1 << 16 {
		check(string([]byte{byte(b)}))
		check(string([]byte{byte(b >> 8), byte(b)}))
	}
	var buf []byte
	for r := rune(0); r <= utf8.MaxRune; r++ {
		buf = utf8.AppendRune(buf[:0], r)
		check(string(buf))
		if r >= 0xD800 && r <= 0xDFFF {
			check(string([]byte{0xE0 | byte(r>>12), 0x80 | byte(r>>6)&0x3F, 0x80 | byte(r)&0x3F}))
		}
	}
}

func FuzzTopJSON(f *testing.F) {
	for _, p := range trickyPieces {
		f.Add(p, "x"+p+"y", int64(len(p)))
	}
	f.Add("\xed\xa0\x80\xed\xb0\x80", "\xe2\x80\xa8\xe2\x80", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, a, b string, n int64) {
		r := &client.Result{JobID: a, Total: client.DocumentResult{Name: b},
			Documents: []client.DocumentResult{{Name: a + b}},
			Top:       []query.Entry{{Token: a, Count: n}, {Token: b, Count: -n}, {Token: a + b, Count: 1}}}
		checkTopJSON(t, r, query.Job{Spec: query.Spec{Top: &query.Top{}}, TopLimit: 3})
	})
}

// BenchmarkTopJSON writes a table the size of the bench corpus's (317k
// entries), against the reflection it replaced.
func BenchmarkTopJSON(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"the", "and", "of", "“’twas", "café", "middlemarch", "x", "dorothea"}
	r := &client.Result{JobID: "94f5e8678469"}
	for i := range 317_000 {
		r.Top = append(r.Top, query.Entry{Token: words[rng.IntN(len(words))] + words[rng.IntN(len(words))], Count: int64(317_000 - i)})
	}
	q := query.Job{Spec: query.Spec{Top: &query.Top{Lower: true}}}
	b.Run("writeJSON", func(b *testing.B) {
		for b.Loop() {
			writeJSON(io.Discard, topJSON(r, q))
		}
	})
	b.Run("reflection", func(b *testing.B) {
		for b.Loop() {
			enc := json.NewEncoder(io.Discard)
			enc.SetEscapeHTML(false)
			enc.Encode(referenceTopJSON(r, q))
		}
	})
}
