package worker

import (
	"errors"

	"tally/count"
	tallyv1 "tally/proto/tally/v1"
	"tally/wire"
)

// Task is one chunk of one job, as the coordinator hands it to a worker.
type Task struct {
	JobID   string
	ChunkID uint64
	Attempt uint32
	Query   wire.Query
	Data    []byte
	// Read, when Data is nil, reads the chunk's bytes for an in-process
	// worker, which then reads them itself: the embedded mode's engine
	// threads read their blocks of a local file in parallel, each into its
	// own cache. It reads into buf when buf is large enough and returns the
	// buffer it used, for the next call. It never crosses the network.
	Read func(buf []byte) (data, used []byte, err error)
}

// Result is the answer to a Task. Err is set when the chunk could not be counted;
// Partial is then empty.
type Result struct {
	JobID   string
	ChunkID uint64
	Attempt uint32
	Partial count.Partial
	Err     error
}

// TaskToProto converts a task to its message.
func TaskToProto(t Task) *tallyv1.Task {
	return &tallyv1.Task{
		JobId:   t.JobID,
		ChunkId: t.ChunkID,
		Attempt: t.Attempt,
		Spec:    wire.QueryToProto(t.Query),
		Data:    t.Data,
	}
}

// TaskFromProto converts and validates a task message.
func TaskFromProto(m *tallyv1.Task) (Task, error) {
	q, err := wire.QueryFromProto(m.GetSpec())
	if err != nil {
		return Task{}, err
	}
	return Task{JobID: m.GetJobId(), ChunkID: m.GetChunkId(), Attempt: m.GetAttempt(), Query: q, Data: m.GetData()}, nil
}

// ResultToProto converts a result to its message.
func ResultToProto(r Result) *tallyv1.TaskResult {
	m := &tallyv1.TaskResult{JobId: r.JobID, ChunkId: r.ChunkID, Attempt: r.Attempt}
	if r.Err != nil {
		m.Error = r.Err.Error()
		return m
	}
	m.Stats = wire.StatsToProto(r.Partial.Stats)
	m.Counts = wire.CountsToProto(r.Partial.Counts)
	m.Freq = wire.FreqToProto(r.Partial.Freq)
	r.Partial.Freq.Release() // sent: its memory serves the next chunk
	return m
}

// ResultFromProto converts a result message. A malformed message becomes a
// Result with Err set, so the coordinator treats it like a failed chunk.
func ResultFromProto(m *tallyv1.TaskResult) Result {
	r := Result{JobID: m.GetJobId(), ChunkID: m.GetChunkId(), Attempt: m.GetAttempt()}
	if m.GetError() != "" {
		r.Err = errors.New(m.GetError())
		return r
	}
	freq, err := wire.FreqFromProto(m.GetFreq())
	if err != nil {
		r.Err = err
		return r
	}
	r.Partial = count.Partial{Stats: wire.StatsFromProto(m.GetStats()), Counts: wire.CountsFromProto(m.GetCounts()), Freq: freq}
	return r
}
