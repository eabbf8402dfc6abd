// Package taskwire converts the values the coordinator and its workers
// exchange (task.Task, task.Result with the kernel's tables) to and from
// their protobuf messages; the query's values they carry convert in wire.
package taskwire

import (
	"errors"
	"fmt"

	"github.com/tallyhq/tally/count"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
)

// TaskToProto converts a task to its message.
func TaskToProto(t task.Task) *tallyv1.Task {
	m := &tallyv1.Task{
		JobId:   t.JobID,
		ChunkId: t.ChunkID,
		Attempt: t.Attempt,
		Spec:    wire.QueryToProto(t.Query),
		Data:    t.Data,
	}
	if r := t.Ref; r != nil {
		m.Ref = &tallyv1.BlockRef{
			Url: r.URL, Version: r.Version, Size: uint64(r.Size), Offset: uint64(r.Offset), Length: uint64(r.Length),
			Whole: r.Whole, ReadSize: uint32(r.Cut.ReadSize), MaxLine: uint32(r.Cut.MaxLine), SplitAtSpace: r.Cut.SplitAtSpace,
		}
	}
	return m
}

// TaskFromProto converts and validates a task message.
func TaskFromProto(m *tallyv1.Task) (task.Task, error) {
	q, err := wire.QueryFromProto(m.GetSpec())
	if err != nil {
		return task.Task{}, err
	}
	t := task.Task{JobID: m.GetJobId(), ChunkID: m.GetChunkId(), Attempt: m.GetAttempt(), Query: q, Data: m.GetData()}
	if r := m.GetRef(); r != nil {
		ref, err := refFromProto(r)
		if err != nil {
			return task.Task{}, err
		}
		t.Ref, t.Data = &ref, nil
	}
	return t, nil
}

// maxSize bounds the sizes and offsets of a ref, so that their sums cannot overflow.
const maxSize = 1 << 62

func refFromProto(m *tallyv1.BlockRef) (task.Ref, error) {
	r := task.Ref{
		URL: m.GetUrl(), Version: m.GetVersion(), Size: int64(m.GetSize()), Offset: int64(m.GetOffset()), Length: int64(m.GetLength()),
		Whole: m.GetWhole(), Cut: task.Cut{ReadSize: int(m.GetReadSize()), MaxLine: int(m.GetMaxLine()), SplitAtSpace: m.GetSplitAtSpace()},
	}
	switch {
	case r.URL == "":
		return r, errors.New("block ref has no url")
	case m.GetSize() > maxSize || m.GetOffset() > maxSize || m.GetLength() > maxSize:
		return r, fmt.Errorf("block ref of %s is out of range", r.URL)
	case r.Length < 1 || r.End() > r.Size:
		return r, fmt.Errorf("block ref [%d, +%d) of %s is outside its %d bytes", r.Offset, r.Length, r.URL, r.Size)
	case r.Whole && (r.Offset != 0 || r.Length != r.Size):
		return r, fmt.Errorf("block ref of %s asks for the whole document but names a part", r.URL)
	}
	if err := r.Cut.Config().Validate(); err != nil {
		return r, fmt.Errorf("block ref of %s: %w", r.URL, err)
	}
	return r, nil
}

// ResultToProto converts a result to its message, and gives the result's
// frequency table back for a later one once it is copied in.
func ResultToProto(r task.Result) *tallyv1.TaskResult {
	m := &tallyv1.TaskResult{JobId: r.JobID, ChunkId: r.ChunkID, Attempt: r.Attempt}
	if r.Err != nil {
		m.Error = r.Err.Error()
		switch {
		case errors.Is(r.Err, task.ErrInput):
			m.ErrorKind = tallyv1.ErrorKind_ERROR_KIND_INPUT
		case errors.Is(r.Err, task.ErrMemory):
			m.ErrorKind = tallyv1.ErrorKind_ERROR_KIND_MEMORY
		}
		return m
	}
	m.Stats = wire.StatsToProto(r.Partial.Stats, true) // the coordinator knows whether its spec asked for lines
	m.Counts = wire.CountsToProto(r.Partial.Counts)
	m.Freq = FreqToProto(r.Partial.Freq)
	r.Partial.Freq.Release() // sent: its memory serves the next chunk
	return m
}

// ResultFromProto converts a result message. A malformed message becomes a
// Result with Err set, so the coordinator treats it like a failed chunk.
func ResultFromProto(m *tallyv1.TaskResult) task.Result {
	r := task.Result{JobID: m.GetJobId(), ChunkID: m.GetChunkId(), Attempt: m.GetAttempt()}
	if msg := m.GetError(); msg != "" || m.GetErrorKind() != tallyv1.ErrorKind_ERROR_KIND_UNSPECIFIED {
		if msg == "" {
			msg = "worker sent an error without a message"
		}
		switch m.GetErrorKind() {
		case tallyv1.ErrorKind_ERROR_KIND_INPUT:
			r.Err = task.InputError(msg)
		case tallyv1.ErrorKind_ERROR_KIND_MEMORY:
			r.Err = task.MemoryError(msg)
		default:
			r.Err = errors.New(msg)
		}
		return r
	}
	freq, err := FreqFromProto(m.GetFreq())
	if err != nil {
		r.Err = err
		return r
	}
	r.Partial = count.Partial{Stats: wire.StatsFromProto(m.GetStats()), Counts: wire.CountsFromProto(m.GetCounts()), Freq: freq}
	return r
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
		if n > query.MaxCount {
			return nil, fmt.Errorf("frequency table count %d is out of range", n)
		}
		f.Add(tok, int64(n))
	}
	return f, nil
}
