package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"text/tabwriter"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/query"
)

// TestTopTableLayout: the hand-aligned top table is byte for byte what
// text/tabwriter makes of the same rows, for tables of every size, counts
// of every width and tokens that need escaping.
func TestTopTableLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	tokens := []string{"the", "a", `"quoted"`, "tab\there", "é", "\xff\xfe", "日本", "back\\slash", "\u2028", "x"}
	for trial := range 200 {
		r := &client.Result{Documents: make([]client.DocumentResult, rng.IntN(3))}
		r.Total.Stats = query.Stats{Bytes: rng.Int64N(1e9), Lines: rng.Int64N(1e6), Tokens: rng.Int64N(1e7)}
		r.Stats = trial%2 == 0
		n := rng.IntN(5)
		if trial%20 == 0 {
			n = 1000 + rng.IntN(200) // ranks of four digits
		}
		c := rng.Int64N(1e12)
		for range n {
			r.Top = append(r.Top, query.Entry{Token: tokens[rng.IntN(len(tokens))], Count: c})
			c = rng.Int64N(c + 1)
		}
		var want bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "rank\tcount\t token")
		for i, e := range r.Top {
			q := strconv.Quote(e.Token)
			fmt.Fprintf(tw, "%d\t%d\t %s\n", i+1, e.Count, q[1:len(q)-1])
		}
		tw.Flush()
		fmt.Fprintf(&want, "%d documents, %d bytes", len(r.Documents), r.Total.Stats.Bytes)
		if r.Stats {
			fmt.Fprintf(&want, ", %d lines, %d tokens", r.Total.Stats.Lines, r.Total.Stats.Tokens)
		}
		fmt.Fprintln(&want)
		// The rows formatted in one part (as a small table is) or in
		// several at once (as a large one is) must read the same.
		for _, parts := range []int{1, 3} {
			var got bytes.Buffer
			if err := writeTopTableIn(&got, r, parts); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("trial %d, %d parts: got\n%s\nwant\n%s", trial, parts, got.String(), want.String())
			}
		}
	}
}

// TestAppendUnquoted checks the table's token cell against strconv.Quote for
// every byte value, alone and around text and multi-byte characters.
func TestAppendUnquoted(t *testing.T) {
	for b := range 256 {
		for _, tok := range []string{string([]byte{byte(b)}), "a" + string([]byte{byte(b)}) + "z", "é" + string([]byte{byte(b)}), "\u2028" + string([]byte{byte(b)})} {
			q := strconv.Quote(tok)
			if got := string(appendUnquoted([]byte("x "), tok)); got != "x "+q[1:len(q)-1] {
				t.Errorf("token %q: got %q, want %q", tok, got, "x "+q[1:len(q)-1])
			}
		}
	}
}
