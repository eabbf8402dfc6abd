// Package task holds the values that the coordinator and its workers
// exchange: a unit of work (Task) that carries its job's query.Job and its
// bytes or a reference to where they are stored (Ref), its answer (Result),
// and the Link a coordinator sends tasks over. It is a leaf that both sides
// import, so that neither imports the other; it imports only the kernel and
// the cut rules.
package task

import (
	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/query"
)

// Query is a job's computation: the kernel's Spec plus the number of top
// entries to keep, which only matters when the job ends.
type Query struct {
	Spec     query.Spec
	TopLimit int
}

// Task is one unit of one job: a chunk of text the coordinator sends, or a
// Ref to a byte range that the worker reads itself.
type Task struct {
	JobID   string
	ChunkID uint64 // unique within the job; results are merged once per id
	Attempt uint32 // dispatches of this task so far, from 1
	Query   query.Job
	// Data is the chunk's text: whole lines, except a document's last chunk.
	// Nil when Ref is set.
	Data []byte
	// Ref, when set, names the bytes to read and count instead of Data.
	Ref *Ref
}

// Result is the answer to a Task. Err is set when the task could not be
// counted; Partial is then empty. An Err that wraps ErrInput or ErrMemory
// fails the job at once (the input is at fault, or too large for the
// worker's memory, and would fail on any worker); any other is tried
// again, on another worker when there is one.
type Result struct {
	JobID   string
	ChunkID uint64
	Attempt uint32
	Partial count.Partial
	Err     error
}

// Ref is a byte range of a stored document that a worker reads itself, as
// Hadoop's FileSplit: a value, not a handle, so that any worker that can
// reach the storage can read it, and a coordinator that cannot reach a
// worker's storage can read it on the worker's behalf.
type Ref struct {
	// URL names the document: file:///absolute/path or s3://bucket/key.
	URL string
	// Version is the document's version when the job was planned (an
	// ETag, or the size and modification time): reading another version
	// fails with an input error instead of mixing two texts in one count.
	Version string
	// Size is the document's size in bytes when planned.
	Size int64
	// Offset and Length are the nominal split, [Offset, Offset+Length):
	// the worker counts the lines that chunk.ReadRange assigns to it.
	Offset, Length int64
	// Whole asks for the document read from its start to its end as a
	// stream, and decompressed if it is gzip or zstd, which cannot be read
	// at an offset: Offset is 0 and Length is Size.
	Whole bool
	// Cut is how the worker reads and cuts the split.
	Cut Cut
}

// Cut is the line rule of a split and the size of its reads.
type Cut struct {
	// ReadSize is how many bytes the worker reads and counts at a time: a
	// split is read as a run of ranges of this size, in one buffer.
	ReadSize int
	// MaxLine is the longest line kept whole; a longer one fails the job.
	MaxLine int
	// SplitAtSpace allows a cut after ASCII whitespace inside a long line,
	// when no target contains whitespace (chunk.Config.SplitAtSpace).
	SplitAtSpace bool
}

// Config is the chunk config that reads the split by c.
func (c Cut) Config() chunk.Config {
	return chunk.Config{Size: c.ReadSize, MaxLine: c.MaxLine, SplitAtSpace: c.SplitAtSpace}
}

// End is the end of the nominal split.
func (r Ref) End() int64 { return r.Offset + r.Length }
