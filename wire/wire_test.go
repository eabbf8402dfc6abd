package wire

import (
	"reflect"
	"testing"

	"tally/count"
	tallyv1 "tally/proto/tally/v1"
)

func TestQueryRoundTrip(t *testing.T) {
	tests := map[string]Query{
		"token":            {Spec: count.Spec{Count: &count.Query{Mode: count.Token, Targets: []string{"the", "Holmes"}}}},
		"word ignore-case": {Spec: count.Spec{Count: &count.Query{Mode: count.Word, Targets: []string{"of the"}, IgnoreCase: true}}},
		"substring":        {Spec: count.Spec{Count: &count.Query{Mode: count.Substring, Targets: []string{"--"}}}},
		"top":              {Spec: count.Spec{Top: &count.TopQuery{WordsOnly: true, Lower: true}}, TopLimit: 7},
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
	if got := q.Spec.Count.Mode; got != count.Token {
		t.Errorf("got mode %v, want token", got)
	}
}

func TestFreqRoundTripKeepsInvalidBytes(t *testing.T) {
	f := count.NewFreq()
	f.Add([]byte("the"), 3)
	f.Add([]byte("\xff\xfe"), 2)
	f.Add([]byte("\uFFFD"), 1) // a real U+FFFD differs from an invalid byte
	back, err := FreqFromProto(FreqToProto(f))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Top(0), f.Top(0); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := FreqFromProto(&tallyv1.FreqTable{Tokens: [][]byte{[]byte("a")}, Counts: []uint64{count.MaxCount + 1}}); err == nil {
		t.Error("got no error for a count out of range, want one (a worker's bad result must not crash the merge)")
	}
	if _, err := FreqFromProto(&tallyv1.FreqTable{Tokens: [][]byte{[]byte("a")}}); err == nil {
		t.Error("got no error for a table with more tokens than counts, want one")
	}
}

func TestEntriesCarryRawBytesOnlyWhenInvalid(t *testing.T) {
	entries := []count.Entry{{Token: "the", Count: 5}, {Token: "a\xffb", Count: 2}}
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

func TestStatsAndCountsRoundTrip(t *testing.T) {
	s := count.Stats{Bytes: 10, Lines: 2, Tokens: 3}
	if got := StatsFromProto(StatsToProto(s)); got != s {
		t.Errorf("got %+v, want %+v", got, s)
	}
	c := []int64{0, 7, 1 << 40}
	if got := CountsFromProto(CountsToProto(c)); !reflect.DeepEqual(got, c) {
		t.Errorf("got %v, want %v", got, c)
	}
}
