package coordinator

import (
	"time"

	"github.com/tallyhq/tally/query"
)

// State is where a job is in its life.
type State int

// The states of a job: it runs, then ends in one of the others.
const (
	Running State = iota
	Succeeded
	Failed
	Canceled
)

// String names the state, as metrics and logs do.
func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Canceled:
		return "canceled"
	}
	return "unknown"
}

// Progress is how far a job is.
type Progress struct {
	BytesReceived    int64  // document bytes read: by the coordinator, or by workers for splits
	BytesTotal       int64  // the documents' sizes, where known
	BytesCounted     int64  // bytes counted and merged
	ChunksDispatched int64  // dispatches, retries included
	ChunksDone       int64  // tasks merged
	Workers          int    // live workers
	Waiting          string // why the job is not progressing, or ""
}

// DocumentResult is one document's answer; Counts is parallel to the
// query's targets.
type DocumentResult struct {
	Name   string
	Stats  query.Stats
	Counts []int64
}

// Result is a finished job's answer.
type Result struct {
	Documents []DocumentResult
	Total     DocumentResult
	// Top is the frequency table of a top job, in SPEC order.
	Top []query.Entry
	// TopDropped is set when the history no longer keeps Top.
	TopDropped bool
	Workers    int // distinct workers that counted tasks of the job
	Elapsed    time.Duration
	// Stats is set when the documents' Lines and Tokens were measured, as
	// the job's spec asked; otherwise they are zero and mean nothing.
	Stats bool
}

// Snapshot is a job as it is at one moment.
type Snapshot struct {
	ID        string
	State     State
	Query     query.Job
	Created   time.Time
	Finished  time.Time // zero while it runs
	Progress  Progress
	Err       error   // why it failed or was cancelled
	Result    *Result // when it succeeded and the result was asked for
	Documents int     // documents received so far
	// Targets describes the count query's targets as submitted; Query holds
	// only a summary of them (see summarize) once the job has ended.
	Targets targetStats
	// TableLen is the entries of a top job's merged table when it ended:
	// -n keeps fewer, but the memory was the whole table's.
	TableLen int
}
