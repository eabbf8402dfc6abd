package wire

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
)

func TestQueryRoundTrip(t *testing.T) {
	tests := map[string]query.Job{
		"token":            {Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"the", "Holmes"}}}},
		"word ignore-case": {Spec: query.Spec{Count: &query.Count{Mode: query.Word, Targets: []string{"of the"}, IgnoreCase: true}}},
		"substring":        {Spec: query.Spec{Count: &query.Count{Mode: query.Substring, Targets: []string{"--"}}}},
		"with stats":       {Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"a"}}, Stats: true}},
		"top":              {Spec: query.Spec{Top: &query.Top{WordsOnly: true, Lower: true}}, TopLimit: 7},
		"top with stats":   {Spec: query.Spec{Top: &query.Top{}, Stats: true}},
	}
	for name, q := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := QueryFromProto(QueryToProto(q))
			if err != nil {
				t.Fatalf("round trip: %v", err)
			}
			if !reflect.DeepEqual(got, q) {
				t.Errorf("got %+v, want %+v", got, q)
			}
		})
	}
}

func TestQueryFromProtoRejects(t *testing.T) {
	tests := map[string]*tallyv1.JobSpec{
		"empty spec":        {},
		"no targets":        {Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{}}},
		"empty target":      {Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Targets: []string{""}}}},
		"space in token":    {Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Targets: []string{"a b"}}}},
		"newline in target": {Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Mode: tallyv1.Mode_MODE_SUBSTRING, Targets: []string{"a\nb"}}}},
		"unknown mode":      {Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Mode: 9, Targets: []string{"a"}}}},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := QueryFromProto(m); err == nil {
				t.Errorf("got no error for %v, want one", m)
			}
		})
	}
}

func TestUnspecifiedModeIsToken(t *testing.T) {
	q, err := QueryFromProto(&tallyv1.JobSpec{Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Targets: []string{"a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Spec.Count.Mode; got != query.Token {
		t.Errorf("got mode %v, want token", got)
	}
}

func TestEntriesCarryRawBytesOnlyWhenInvalid(t *testing.T) {
	entries := []query.Entry{{Token: "the", Count: 5}, {Token: "a\xffb", Count: 2}}
	m := EntriesToProto(entries)
	if m[0].GetRaw() != nil {
		t.Errorf("got raw %q for a valid token, want none", m[0].GetRaw())
	}
	if got, want := m[1].GetToken(), "a\uFFFDb"; got != want {
		t.Errorf("got display token %q, want %q", got, want)
	}
	if got := EntriesFromProto(m); !reflect.DeepEqual(got, entries) {
		t.Errorf("got %v, want %v", got, entries)
	}
}

func TestTopTableRoundTrip(t *testing.T) {
	for _, entries := range [][]query.Entry{
		{},
		{{Token: "the", Count: 5}, {Token: "a\xffb", Count: 2}, {Token: "\x00", Count: 1}, {Token: "\uFFFD", Count: 1}},
		{{Token: strings.Repeat("long", 1000), Count: query.MaxCount}, {Token: "x", Count: 1}},
	} {
		got, err := TopFromTable(TopToTable(entries))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, entries) {
			t.Errorf("got %v, want %v", got, entries)
		}
	}
}

// TestTopTableMalformed checks that a table whose lists disagree is an
// error: a client must never print a table cut short or shifted.
func TestTopTableMalformed(t *testing.T) {
	for name, m := range map[string]*tallyv1.TopTable{
		"more lengths than counts": {Tokens: []byte("ab"), Lengths: []uint32{1, 1}, Counts: []uint64{1}},
		"more counts than lengths": {Tokens: []byte("ab"), Lengths: []uint32{2}, Counts: []uint64{1, 1}},
		"a length past the bytes":  {Tokens: []byte("ab"), Lengths: []uint32{1, 2}, Counts: []uint64{2, 1}},
		"a huge length":            {Tokens: []byte("ab"), Lengths: []uint32{1 << 31}, Counts: []uint64{2}},
		"bytes left over":          {Tokens: []byte("abc"), Lengths: []uint32{1, 1}, Counts: []uint64{2, 1}},
		"a count out of range":     {Tokens: []byte("a"), Lengths: []uint32{1}, Counts: []uint64{query.MaxCount + 1}},
	} {
		if got, err := TopFromTable(m); err == nil {
			t.Errorf("%s: got %v and no error, want an error", name, got)
		}
	}
}

func TestStatsAndCountsRoundTrip(t *testing.T) {
	s := query.Stats{Bytes: 10, Lines: 2, Tokens: 3}
	if got := StatsFromProto(StatsToProto(s, true)); got != s {
		t.Errorf("got %+v, want %+v", got, s)
	}
	// Unmeasured lines and tokens are absent from the message, not zero.
	m := StatsToProto(query.Stats{Bytes: 10}, false)
	if m.GetBytes() != 10 || m.Lines != nil || m.Tokens != nil {
		t.Errorf("unmeasured: got %v, want bytes 10 and no lines or tokens", m)
	}
	if m := StatsToProto(query.Stats{Bytes: 1}, true); m.Lines == nil || m.Tokens == nil {
		t.Errorf("measured zeros: got %v, want lines and tokens present", m)
	}
	c := []int64{0, 7, 1 << 40}
	if got := CountsFromProto(CountsToProto(c)); !reflect.DeepEqual(got, c) {
		t.Errorf("got %v, want %v", got, c)
	}
}

// BenchmarkTopForms encodes and decodes a table of the size of the corpora's
// full top --lower table (317k entries) in both of its forms on the wire.
func BenchmarkTopForms(b *testing.B) {
	entries := make([]query.Entry, 317_000)
	for i := range entries {
		entries[i] = query.Entry{Token: fmt.Sprintf("tok%x", i*2654435761%1000003), Count: int64(len(entries) - i)}
	}
	b.Run("entries", func(b *testing.B) {
		for b.Loop() {
			data, err := proto.Marshal(&tallyv1.JobResult{Top: EntriesToProto(entries)})
			var m tallyv1.JobResult
			if err == nil {
				err = proto.Unmarshal(data, &m)
			}
			if err != nil || len(EntriesFromProto(m.GetTop())) != len(entries) {
				b.Fatal(err)
			}
		}
	})
	b.Run("packed", func(b *testing.B) {
		for b.Loop() {
			data, err := proto.Marshal(&tallyv1.JobResult{TopTable: TopToTable(entries)})
			var m tallyv1.JobResult
			if err == nil {
				err = proto.Unmarshal(data, &m)
			}
			if err != nil {
				b.Fatal(err)
			}
			if got, err := TopFromTable(m.GetTopTable()); err != nil || len(got) != len(entries) {
				b.Fatal(err)
			}
		}
	})
}
