// Package wire converts the counting kernel's and the tasks' types to and
// from their protobuf messages. It is the one place where they meet the
// generated code, so that the kernel never sees protobuf and each service
// converts the same way.
package wire

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/count"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/task"
)

// QueryToProto converts q to its message.
func QueryToProto(q task.Query) *tallyv1.JobSpec {
	m := &tallyv1.JobSpec{Stats: q.Spec.Stats}
	switch {
	case q.Spec.Count != nil:
		c := q.Spec.Count
		m.Kind = &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{
			Mode:       ModeToProto(c.Mode),
			Targets:    c.Targets,
			IgnoreCase: c.IgnoreCase,
		}}
	case q.Spec.Top != nil:
		m.Kind = &tallyv1.JobSpec_Top{Top: &tallyv1.TopQuery{
			Limit:     uint32(q.TopLimit),
			WordsOnly: q.Spec.Top.WordsOnly,
			Lower:     q.Spec.Top.Lower,
		}}
	}
	return m
}

// QueryFromProto converts and validates a job spec message.
func QueryFromProto(m *tallyv1.JobSpec) (task.Query, error) {
	var q task.Query
	switch k := m.GetKind().(type) {
	case *tallyv1.JobSpec_Count:
		cq, err := CountQueryFromProto(k.Count)
		if err != nil {
			return task.Query{}, err
		}
		q.Spec.Count = &cq
	case *tallyv1.JobSpec_Top:
		q.Spec.Top = &count.TopQuery{WordsOnly: k.Top.GetWordsOnly(), Lower: k.Top.GetLower()}
		q.TopLimit = int(k.Top.GetLimit())
	default:
		return task.Query{}, fmt.Errorf("job spec has neither a count nor a top query")
	}
	q.Spec.Stats = m.GetStats()
	if err := q.Spec.Validate(); err != nil {
		return task.Query{}, err
	}
	return q, nil
}

// CountQueryFromProto converts a count query; it does not validate the targets.
func CountQueryFromProto(m *tallyv1.CountQuery) (count.Query, error) {
	mode, err := ModeFromProto(m.GetMode())
	if err != nil {
		return count.Query{}, err
	}
	return count.Query{Mode: mode, Targets: m.GetTargets(), IgnoreCase: m.GetIgnoreCase()}, nil
}

// ModeToProto converts a counting mode.
func ModeToProto(m count.Mode) tallyv1.Mode {
	switch m {
	case count.Word:
		return tallyv1.Mode_MODE_WORD
	case count.Substring:
		return tallyv1.Mode_MODE_SUBSTRING
	}
	return tallyv1.Mode_MODE_TOKEN
}

// ModeFromProto converts a mode message; unspecified means token, as documented in the proto.
func ModeFromProto(m tallyv1.Mode) (count.Mode, error) {
	switch m {
	case tallyv1.Mode_MODE_UNSPECIFIED, tallyv1.Mode_MODE_TOKEN:
		return count.Token, nil
	case tallyv1.Mode_MODE_WORD:
		return count.Word, nil
	case tallyv1.Mode_MODE_SUBSTRING:
		return count.Substring, nil
	}
	return 0, fmt.Errorf("unknown mode %d", m)
}

// StatsToProto converts document statistics; lines and tokens are set only
// when measured, that is when the job's spec asked for them.
func StatsToProto(s count.Stats, measured bool) *tallyv1.Stats {
	m := &tallyv1.Stats{Bytes: uint64(s.Bytes)}
	if measured {
		m.Lines, m.Tokens = proto.Uint64(uint64(s.Lines)), proto.Uint64(uint64(s.Tokens))
	}
	return m
}

// StatsFromProto converts document statistics.
func StatsFromProto(m *tallyv1.Stats) count.Stats {
	return count.Stats{Bytes: int64(m.GetBytes()), Lines: int64(m.GetLines()), Tokens: int64(m.GetTokens())}
}

// CountsToProto converts per-target counts.
func CountsToProto(c []int64) []uint64 {
	out := make([]uint64, len(c))
	for i, n := range c {
		out[i] = uint64(n)
	}
	return out
}

// CountsFromProto converts per-target counts.
func CountsFromProto(c []uint64) []int64 {
	out := make([]int64, len(c))
	for i, n := range c {
		out[i] = int64(n)
	}
	return out
}

// FreqToProto converts a frequency table to its compact wire form.
func FreqToProto(f *count.Freq) *tallyv1.FreqTable {
	if f == nil {
		return nil
	}
	t := &tallyv1.FreqTable{Tokens: make([][]byte, 0, f.Len()), Counts: make([]uint64, 0, f.Len())}
	f.Each(func(token []byte, n int64) {
		t.Tokens = append(t.Tokens, append([]byte(nil), token...))
		t.Counts = append(t.Counts, uint64(n))
	})
	return t
}

// FreqFromProto converts a wire frequency table; nil stays nil.
func FreqFromProto(m *tallyv1.FreqTable) (*count.Freq, error) {
	if m == nil {
		return nil, nil
	}
	if len(m.GetTokens()) != len(m.GetCounts()) {
		return nil, fmt.Errorf("frequency table has %d tokens but %d counts", len(m.GetTokens()), len(m.GetCounts()))
	}
	f := count.NewFreq()
	for i, tok := range m.GetTokens() {
		n := m.GetCounts()[i]
		if n > count.MaxCount {
			return nil, fmt.Errorf("frequency table count %d is out of range", n)
		}
		f.Add(tok, int64(n))
	}
	return f, nil
}

// EntriesToProto converts sorted top entries. A token that is not valid UTF-8
// travels in raw, since a proto string must be UTF-8.
func EntriesToProto(es []count.Entry) []*tallyv1.TokenCount {
	out := make([]*tallyv1.TokenCount, len(es))
	for i, e := range es {
		tc := &tallyv1.TokenCount{Token: e.Token, Count: uint64(e.Count)}
		if !utf8.ValidString(e.Token) {
			tc.Token = string([]rune(e.Token)) // invalid bytes become U+FFFD
			tc.Raw = []byte(e.Token)
		}
		out[i] = tc
	}
	return out
}

// TopToTable packs sorted top entries into one message: a few large fields
// instead of a message per entry, which costs more to encode and decode than
// counting a table of a few hundred thousand entries in the first place.
func TopToTable(es []count.Entry) *tallyv1.TopTable {
	size := 0
	for _, e := range es {
		size += len(e.Token)
	}
	m := &tallyv1.TopTable{Tokens: make([]byte, 0, size), Lengths: make([]uint32, len(es)), Counts: make([]uint64, len(es))}
	for i, e := range es {
		m.Tokens = append(m.Tokens, e.Token...)
		m.Lengths[i], m.Counts[i] = uint32(len(e.Token)), uint64(e.Count)
	}
	return m
}

// TopFromTable unpacks a table packed by TopToTable. Its tokens share one
// string. A table whose lists disagree is an error, never a table cut short.
func TopFromTable(m *tallyv1.TopTable) ([]count.Entry, error) {
	lengths, counts := m.GetLengths(), m.GetCounts()
	if len(lengths) != len(counts) {
		return nil, fmt.Errorf("top table has %d lengths but %d counts", len(lengths), len(counts))
	}
	all := string(m.GetTokens())
	out := make([]count.Entry, len(lengths))
	off := 0
	for i, n := range lengths {
		if uint64(n) > uint64(len(all)-off) {
			return nil, fmt.Errorf("top table entry %d runs past its %d token bytes", i, len(all))
		}
		if counts[i] > count.MaxCount {
			return nil, fmt.Errorf("top table count %d is out of range", counts[i])
		}
		out[i] = count.Entry{Token: all[off : off+int(n)], Count: int64(counts[i])}
		off += int(n)
	}
	if off != len(all) {
		return nil, fmt.Errorf("top table has %d token bytes but its lengths sum to %d", len(all), off)
	}
	return out, nil
}

// EntriesFromProto converts top entries back, preferring the exact raw bytes.
func EntriesFromProto(m []*tallyv1.TokenCount) []count.Entry {
	out := make([]count.Entry, len(m))
	for i, tc := range m {
		tok := tc.GetToken()
		if tc.GetRaw() != nil {
			tok = string(tc.GetRaw())
		}
		out[i] = count.Entry{Token: tok, Count: int64(tc.GetCount())}
	}
	return out
}
