// Package wire converts the query's values (package query) to and from
// their protobuf messages, and holds the gRPC codec and buffer pool that
// carry them without copies. It is the one place where they meet the
// generated code, so that each service converts the same way; it does not
// import the kernel, so clients use it at no cost (the coordinator-worker
// task messages, which carry the kernel's tables, are in wire/taskwire).
package wire

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
)

// QueryToProto converts q to its message.
func QueryToProto(q query.Job) *tallyv1.JobSpec {
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
func QueryFromProto(m *tallyv1.JobSpec) (query.Job, error) {
	var q query.Job
	switch k := m.GetKind().(type) {
	case *tallyv1.JobSpec_Count:
		cq, err := CountQueryFromProto(k.Count)
		if err != nil {
			return query.Job{}, err
		}
		q.Spec.Count = &cq
	case *tallyv1.JobSpec_Top:
		q.Spec.Top = &query.Top{WordsOnly: k.Top.GetWordsOnly(), Lower: k.Top.GetLower()}
		q.TopLimit = int(k.Top.GetLimit())
	default:
		return query.Job{}, fmt.Errorf("job spec has neither a count nor a top query")
	}
	q.Spec.Stats = m.GetStats()
	if err := q.Spec.Validate(); err != nil {
		return query.Job{}, err
	}
	return q, nil
}

// CountQueryFromProto converts a count query; it does not validate the targets.
func CountQueryFromProto(m *tallyv1.CountQuery) (query.Count, error) {
	mode, err := ModeFromProto(m.GetMode())
	if err != nil {
		return query.Count{}, err
	}
	return query.Count{Mode: mode, Targets: m.GetTargets(), IgnoreCase: m.GetIgnoreCase()}, nil
}

// ModeToProto converts a counting mode.
func ModeToProto(m query.Mode) tallyv1.Mode {
	switch m {
	case query.Word:
		return tallyv1.Mode_MODE_WORD
	case query.Substring:
		return tallyv1.Mode_MODE_SUBSTRING
	}
	return tallyv1.Mode_MODE_TOKEN
}

// ModeFromProto converts a mode message; unspecified means token, as documented in the proto.
func ModeFromProto(m tallyv1.Mode) (query.Mode, error) {
	switch m {
	case tallyv1.Mode_MODE_UNSPECIFIED, tallyv1.Mode_MODE_TOKEN:
		return query.Token, nil
	case tallyv1.Mode_MODE_WORD:
		return query.Word, nil
	case tallyv1.Mode_MODE_SUBSTRING:
		return query.Substring, nil
	}
	return 0, fmt.Errorf("unknown mode %d", m)
}

// StatsToProto converts document statistics; lines and tokens are set only
// when measured, that is when the job's spec asked for them.
func StatsToProto(s query.Stats, measured bool) *tallyv1.Stats {
	m := &tallyv1.Stats{Bytes: uint64(s.Bytes)}
	if measured {
		m.Lines, m.Tokens = proto.Uint64(uint64(s.Lines)), proto.Uint64(uint64(s.Tokens))
	}
	return m
}

// StatsFromProto converts document statistics.
func StatsFromProto(m *tallyv1.Stats) query.Stats {
	return query.Stats{Bytes: int64(m.GetBytes()), Lines: int64(m.GetLines()), Tokens: int64(m.GetTokens())}
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

// EntriesToProto converts sorted top entries. A token that is not valid UTF-8
// travels in raw, since a proto string must be UTF-8.
func EntriesToProto(es []query.Entry) []*tallyv1.TokenCount {
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
func TopToTable(es []query.Entry) *tallyv1.TopTable {
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
func TopFromTable(m *tallyv1.TopTable) ([]query.Entry, error) {
	lengths, counts := m.GetLengths(), m.GetCounts()
	if len(lengths) != len(counts) {
		return nil, fmt.Errorf("top table has %d lengths but %d counts", len(lengths), len(counts))
	}
	all := string(m.GetTokens())
	out := make([]query.Entry, len(lengths))
	off := 0
	for i, n := range lengths {
		if uint64(n) > uint64(len(all)-off) {
			return nil, fmt.Errorf("top table entry %d runs past its %d token bytes", i, len(all))
		}
		if counts[i] > query.MaxCount {
			return nil, fmt.Errorf("top table count %d is out of range", counts[i])
		}
		out[i] = query.Entry{Token: all[off : off+int(n)], Count: int64(counts[i])}
		off += int(n)
	}
	if off != len(all) {
		return nil, fmt.Errorf("top table has %d token bytes but its lengths sum to %d", len(all), off)
	}
	return out, nil
}

// EntriesFromProto converts top entries back, preferring the exact raw bytes.
func EntriesFromProto(m []*tallyv1.TokenCount) []query.Entry {
	out := make([]query.Entry, len(m))
	for i, tc := range m {
		tok := tc.GetToken()
		if tc.GetRaw() != nil {
			tok = string(tc.GetRaw())
		}
		out[i] = query.Entry{Token: tok, Count: int64(tc.GetCount())}
	}
	return out
}
