package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	alice, zen := filepath.Join(textDir, "alice.txt"), filepath.Join(textDir, "zen.txt")
	ref := runJSON(t, "count", "-e", "the", "-e", "is", alice, zen)

	t.Run("count csv", func(t *testing.T) {
		bare := runTally(t, "", "count", "--format", "csv", "-e", "the", alice)
		if got, want := strings.SplitN(bare.stdout, "\n", 2)[0], "document,bytes,the"; got != want {
			t.Errorf("without --stats: got header %s, want %s", got, want)
		}
		r := runTally(t, "", "count", "--format", "csv", "--stats", "-e", "the", "-e", "is", alice, zen)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if r.code != 0 || err != nil {
			t.Fatalf("got %v (csv error %v), want exit 0 and CSV", r, err)
		}
		if got, want := strings.Join(recs[0], ","), "document,bytes,lines,tokens,the,is"; got != want {
			t.Errorf("got header %s, want %s", got, want)
		}
		if len(recs) != 4 || recs[3][0] != "total" {
			t.Fatalf("got %d rows %q, want header, 2 documents and total", len(recs), recs)
		}
		for i, d := range ref.Documents {
			if recs[i+1][0] != d.Name || recs[i+1][4] != itoa(d.Counts["the"]) {
				t.Errorf("row %d: got %q, want %s with the=%d", i+1, recs[i+1], d.Name, d.Counts["the"])
			}
		}
		if recs[3][4] != itoa(ref.Total.Counts["the"]) || recs[3][5] != itoa(ref.Total.Counts["is"]) {
			t.Errorf("got total row %q, want the=%d is=%d", recs[3], ref.Total.Counts["the"], ref.Total.Counts["is"])
		}
	})
	t.Run("top csv", func(t *testing.T) {
		r := runTally(t, "", "top", "-n", "3", "--format", "csv", alice)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if r.code != 0 || err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != "rank,token,count" {
			t.Fatalf("got %v (csv error %v), want a header and 3 rows", r, err)
		}
	})
	t.Run("totals only", func(t *testing.T) {
		r := runTally(t, "", "count", "--totals-only", "--json", "-e", "the", "-e", "is", alice, zen)
		var out countOut
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Documents) != 0 || out.Total.Counts["the"] != ref.Total.Counts["the"] {
			t.Errorf("got %d documents and total %v, want none and %v", len(out.Documents), out.Total.Counts, ref.Total.Counts)
		}
		if tab := runTally(t, "", "count", "--totals-only", "-e", "the", alice, zen); strings.Contains(tab.stdout, "alice") {
			t.Errorf("got table %q, want only the total row", tab.stdout)
		}
	})
	t.Run("json is --format json", func(t *testing.T) {
		a := runTally(t, "", "count", "--json", "-e", "the", zen)
		b := runTally(t, "", "count", "--format", "json", "-e", "the", zen)
		var oa, ob countOut
		json.Unmarshal([]byte(a.stdout), &oa)
		json.Unmarshal([]byte(b.stdout), &ob)
		if oa.Total.Counts["the"] != ob.Total.Counts["the"] || a.code != 0 || b.code != 0 {
			t.Errorf("got %v and %v, want the same answer", a, b)
		}
	})
	for _, args := range [][]string{{"--format", "xml"}, {"--json", "--format", "csv"}, {"--progress", "sometimes"}} {
		r := runTally(t, "", append([]string{"count", "-e", "the", zen}, args...)...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("count %q: got %v, want exit 2 with one line", args, r)
		}
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
