package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The --json output is a public contract: fields may be added, never renamed
// or removed. These checks look at every contract key and its JSON type, and
// allow keys they do not know.

// jsonKind is a JSON type as the contract states it.
type jsonKind int

const (
	jString jsonKind = iota
	jBool
	jInt    // a number without fraction or exponent, >= 0
	jNumber // any number >= 0
	jArray
	jObject
)

func (k jsonKind) String() string {
	return [...]string{"string", "boolean", "integer", "number", "array", "object"}[k]
}

// kindOf reports whether v, decoded with UseNumber, is of kind k.
func kindOf(v any, k jsonKind) bool {
	switch k {
	case jString:
		_, ok := v.(string)
		return ok
	case jBool:
		_, ok := v.(bool)
		return ok
	case jInt:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := n.Int64()
		return err == nil && i >= 0
	case jNumber:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f >= 0
	case jArray:
		_, ok := v.([]any)
		return ok
	case jObject:
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// requireKeys checks that obj has every key in want with its kind.
func requireKeys(t testing.TB, where string, obj map[string]any, want map[string]jsonKind) {
	t.Helper()
	for key, k := range want {
		v, ok := obj[key]
		if !ok {
			t.Errorf("%s: key %q missing (keys: %v)", where, key, keysOf(obj))
			continue
		}
		if !kindOf(v, k) {
			t.Errorf("%s.%s: got %#v, want a JSON %v", where, key, v, k)
		}
	}
}

func keysOf(obj map[string]any) []string {
	var ks []string
	for k := range obj {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// statsKeys are in every document and the total; lineKeys too when --stats
// asked for them, and then in all of them.
var (
	statsKeys = map[string]jsonKind{"bytes": jInt}
	lineKeys  = map[string]jsonKind{"lines": jInt, "tokens": jInt}
)

// checkContract checks the keys and types of the --json output of cmd (count or top).
func checkContract(t testing.TB, cmd, stdout string) {
	t.Helper()
	var obj map[string]any
	decodeOne(t, stdout, &obj)
	top := map[string]jsonKind{"job": jString, "documents": jArray, "total": jObject, "workers": jInt, "elapsed_seconds": jNumber}
	if cmd == "count" {
		top["mode"], top["ignore_case"], top["targets"] = jString, jBool, jArray
	} else {
		top["top"] = jArray
	}
	requireKeys(t, cmd, obj, top)
	if t.Failed() {
		t.FailNow()
	}
	if obj["job"] == "" {
		t.Errorf("%s.job: got \"\", want a job ID", cmd)
	}
	if cmd == "count" && !slices.Contains([]any{"token", "word", "substring"}, obj["mode"]) {
		t.Errorf("count.mode: got %v, want token, word or substring", obj["mode"])
	}
	var targets []string
	tlist, _ := obj["targets"].([]any) // only count has targets
	for i, v := range tlist {
		s, ok := v.(string)
		if !ok {
			t.Errorf("count.targets[%d]: got %#v, want a string", i, v)
		}
		targets = append(targets, s)
	}
	_, withLines := obj["total"].(map[string]any)["lines"]
	docs := obj["documents"].([]any)
	for i, d := range docs {
		where := fmt.Sprintf("%s.documents[%d]", cmd, i)
		doc, ok := d.(map[string]any)
		if !ok {
			t.Errorf("%s: got %#v, want an object", where, d)
			continue
		}
		requireKeys(t, where, doc, map[string]jsonKind{"name": jString})
		checkStats(t, where, cmd, doc, withLines, targets)
	}
	checkStats(t, cmd+".total", cmd, obj["total"].(map[string]any), withLines, targets)
	if cmd == "top" {
		for i, e := range obj["top"].([]any) {
			where := fmt.Sprintf("top.top[%d]", i)
			entry, ok := e.(map[string]any)
			if !ok {
				t.Errorf("%s: got %#v, want an object", where, e)
				continue
			}
			requireKeys(t, where, entry, map[string]jsonKind{"token": jString, "count": jInt})
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkStats checks one document's (or the total's) statistics, with lines
// and tokens or without, and, for count, that counts has exactly one integer
// per target.
func checkStats(t testing.TB, where, cmd string, doc map[string]any, withLines bool, targets []string) {
	t.Helper()
	requireKeys(t, where, doc, statsKeys)
	if withLines {
		requireKeys(t, where, doc, lineKeys)
	} else {
		for k := range lineKeys {
			if v, ok := doc[k]; ok {
				t.Errorf("%s: got %s %v, want it only with the total's (and only with --stats)", where, k, v)
			}
		}
	}
	counts, has := doc["counts"]
	if cmd == "top" {
		if has {
			t.Errorf("%s: got counts %v, want no counts in top output", where, counts)
		}
		return
	}
	requireKeys(t, where, doc, map[string]jsonKind{"counts": jObject})
	m, _ := counts.(map[string]any)
	for _, tg := range targets {
		if !kindOf(m[tg], jInt) {
			t.Errorf("%s.counts[%q]: got %#v, want an integer", where, tg, m[tg])
		}
	}
	for k := range m {
		if !slices.Contains(targets, k) {
			t.Errorf("%s.counts: got key %q, want only the targets %q", where, k, targets)
		}
	}
}

func TestJSONContractCount(t *testing.T) {
	t.Parallel()
	out := mustRun(t, "count", "-e", "the", "-e", "Alice", "-e", "--", "../../testdata/text/alice.txt", "../../testdata/text/zen.txt", "--json")
	if !strings.HasSuffix(out, "}\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("stdout: got %q, want one line holding one JSON object", clip(out))
	}
	checkContract(t, "count", out)
	var o countOut
	decodeOne(t, out, &o)
	if o.Mode != "token" || o.IgnoreCase || !slices.Equal(o.Targets, []string{"the", "Alice", "--"}) {
		t.Errorf("got mode %q, ignore_case %v, targets %q; want token, false, [the Alice --]", o.Mode, o.IgnoreCase, o.Targets)
	}
	if len(o.Documents) != 2 || o.Documents[0].Name != "../../testdata/text/alice.txt" || o.Documents[1].Name != "../../testdata/text/zen.txt" {
		t.Fatalf("documents: got %+v, want alice.txt then zen.txt", o.Documents)
	}
	if o.Workers < 1 {
		t.Errorf("workers: got %d, want >= 1", o.Workers)
	}
	checkTotal(t, o)

	o = runJSON(t, "count", "--mode", "word", "-i", "-e", "ALICE", "../../testdata/text/zen.txt")
	if o.Mode != "word" || !o.IgnoreCase || !slices.Equal(o.Targets, []string{"ALICE"}) {
		t.Errorf("got mode %q, ignore_case %v, targets %q; want word, true, [ALICE]", o.Mode, o.IgnoreCase, o.Targets)
	}
}

func TestJSONContractTop(t *testing.T) {
	t.Parallel()
	out := mustRun(t, "top", "-n", "5", "--json", "../../testdata/text/zen.txt", "../../testdata/text/alice.txt")
	checkContract(t, "top", out)
	var o countOut
	decodeOne(t, out, &o)
	if len(o.Top) != 5 {
		t.Errorf("top -n 5: got %d entries, want 5", len(o.Top))
	}
	for i := 1; i < len(o.Top); i++ {
		a, b := o.Top[i-1], o.Top[i]
		if a.Count < b.Count || a.Count == b.Count && a.Token >= b.Token {
			t.Errorf("top[%d], top[%d]: got %+v before %+v, want count descending, then token bytes ascending", i-1, i, a, b)
		}
	}
	checkTotal(t, o)
}

// checkTotal checks that the total is the sum of the documents.
func checkTotal(t testing.TB, o countOut) {
	t.Helper()
	var sum docOut
	for _, d := range o.Documents {
		sum.Bytes += d.Bytes
		sum.Lines += d.Lines
		sum.Tokens += d.Tokens
		for k, n := range d.Counts {
			if sum.Counts == nil {
				sum.Counts = map[string]int64{}
			}
			sum.Counts[k] += n
		}
	}
	if fmt.Sprint(sum) != fmt.Sprint(o.Total) {
		t.Errorf("total: got %+v, want the documents' sum %+v", o.Total, sum)
	}
}

// TestDuplicateTargets: a target given twice is one key of counts, a column
// per mention in the table, and listed twice in targets.
func TestDuplicateTargets(t *testing.T) {
	t.Parallel()
	zen := "../../testdata/text/zen.txt"
	o := runJSON(t, "count", "-e", "is", "-e", "is", "-e", "the", zen)
	single := runJSON(t, "count", "-e", "is", "-e", "the", zen)
	if !slices.Equal(o.Targets, []string{"is", "is", "the"}) || len(o.Total.Counts) != 2 || o.Total.Counts["is"] != single.Total.Counts["is"] || o.Total.Counts["the"] != single.Total.Counts["the"] {
		t.Errorf("got targets %q and counts %v, want [is is the] and the counts of one mention each, %v", o.Targets, o.Total.Counts, single.Total.Counts)
	}
	table := strings.Split(mustRun(t, "count", "-e", "is", "-e", "is", zen), "\n")
	if got := strings.Fields(table[0]); !slices.Equal(got, []string{"document", "bytes", "is", "is"}) {
		t.Errorf("table header: got %q, want a column per mention", got)
	}
	if got := strings.Fields(table[len(table)-2]); len(got) != 4 || got[2] != got[3] || got[2] != fmt.Sprint(single.Total.Counts["is"]) {
		t.Errorf("table total: got %q, want is twice with %d", got, single.Total.Counts["is"])
	}
}

// TestStatsFlag: without --stats the answers are the same, lines and tokens
// are absent (not zero) in the JSON, and the whole contract still holds.
func TestStatsFlag(t *testing.T) {
	t.Parallel()
	alice, zen := "../../testdata/text/alice.txt", "../../testdata/text/zen.txt"
	for _, args := range [][]string{
		{"count", "-e", "the", "-e", "Alice", alice, zen},
		{"count", "--mode", "word", "-i", "-e", "the", alice, zen},
		{"count", "--mode", "substring", "-e", "he", "-e", "x", alice},
		{"top", "-n", "20", "--lower", alice, zen},
		{"top", "-n", "20", "--words-only", zen},
	} {
		withStats := runJSON(t, args...)
		if withStats.Total.Lines == 0 || withStats.Total.Tokens == 0 {
			t.Errorf("%q --stats: got lines %d, tokens %d; want both measured", args, withStats.Total.Lines, withStats.Total.Tokens)
		}
		out := mustRun(t, append(args, "--json")...)
		checkContract(t, args[0], out)
		if strings.Contains(out, `"lines"`) || strings.Contains(out, `"tokens"`) {
			t.Errorf("%q: got %s, want no lines or tokens without --stats", args, clip(out))
		}
		var bare countOut
		decodeOne(t, out, &bare)
		for i := range withStats.Documents {
			withStats.Documents[i].Lines, withStats.Documents[i].Tokens = 0, 0
		}
		withStats.Total.Lines, withStats.Total.Tokens = 0, 0
		if g, w := fmt.Sprint(bare.Documents, bare.Total, bare.Top), fmt.Sprint(withStats.Documents, withStats.Total, withStats.Top); g != w {
			t.Errorf("%q: without --stats got %s, want %s", args, clip(g), clip(w))
		}
	}
}
