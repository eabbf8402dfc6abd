package taskwire

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tallyhq/tally/count"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
)

func TestTaskRoundTrip(t *testing.T) {
	q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Word, Targets: []string{"a"}}}}
	ref := &task.Ref{URL: "s3://b/k", Version: "etag", Size: 100, Offset: 10, Length: 20, Cut: task.Cut{ReadSize: 8, MaxLine: 64, SplitAtSpace: true}}
	for name, in := range map[string]task.Task{
		"chunk": {JobID: "j", ChunkID: 3, Attempt: 2, Query: q, Data: []byte("a b\n")},
		"split": {JobID: "j", ChunkID: 4, Attempt: 1, Query: q, Ref: ref},
		"whole": {JobID: "j", ChunkID: 5, Attempt: 1, Query: q, Ref: &task.Ref{URL: "file:///d/a.gz", Size: 7, Length: 7, Whole: true, Cut: ref.Cut}},
	} {
		out, err := TaskFromProto(TaskToProto(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(out, in) {
			t.Errorf("%s: got %+v, want %+v", name, out, in)
		}
	}
}

func TestBadRefs(t *testing.T) {
	good := func() *tallyv1.BlockRef {
		return &tallyv1.BlockRef{Url: "s3://b/k", Size: 100, Offset: 10, Length: 20, ReadSize: 8, MaxLine: 64}
	}
	for name, mutate := range map[string]func(*tallyv1.BlockRef){
		"no url":          func(r *tallyv1.BlockRef) { r.Url = "" },
		"empty":           func(r *tallyv1.BlockRef) { r.Length = 0 },
		"past the end":    func(r *tallyv1.BlockRef) { r.Offset = 90 },
		"huge":            func(r *tallyv1.BlockRef) { r.Size, r.Offset = 1<<63, 1<<63-1 },
		"whole of a part": func(r *tallyv1.BlockRef) { r.Whole = true },
		"no read size":    func(r *tallyv1.BlockRef) { r.ReadSize = 0 },
		"max line short":  func(r *tallyv1.BlockRef) { r.MaxLine = 4 },
	} {
		r := good()
		mutate(r)
		m := &tallyv1.Task{Spec: wire.QueryToProto(query.Job{Spec: query.Spec{Top: &query.Top{}}}), Ref: r}
		if _, err := TaskFromProto(m); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}

func TestResultErrorKinds(t *testing.T) {
	for name, tc := range map[string]struct {
		err   error
		input bool
	}{
		"input":     {task.InputError("s3://b/k: not found"), true},
		"wrapped":   {errors.Join(errors.New("x"), task.ErrInput), true},
		"transient": {errors.New("connection refused"), false},
	} {
		m := ResultToProto(task.Result{JobID: "j", ChunkID: 1, Err: tc.err})
		r := ResultFromProto(m)
		if r.Err == nil || errors.Is(r.Err, task.ErrInput) != tc.input || r.Err.Error() != tc.err.Error() {
			t.Errorf("%s: got %v (input %t), want %v (input %t)", name, r.Err, errors.Is(r.Err, task.ErrInput), tc.err, tc.input)
		}
	}
	// A kind without a message is still an error, never an empty result.
	if r := ResultFromProto(&tallyv1.TaskResult{ErrorKind: tallyv1.ErrorKind_ERROR_KIND_INPUT}); !errors.Is(r.Err, task.ErrInput) {
		t.Errorf("a bare input kind: got %v, want an input error", r.Err)
	}
}

func TestResultMemoryKind(t *testing.T) {
	err := fmt.Errorf("compile job j: %w", task.MemoryError("matcher above the limit of 1.0 MiB"))
	r := ResultFromProto(ResultToProto(task.Result{JobID: "j", ChunkID: 1, Err: err}))
	if !errors.Is(r.Err, task.ErrMemory) || errors.Is(r.Err, task.ErrInput) || r.Err.Error() != err.Error() {
		t.Errorf("got %v (memory %t), want %v as a memory error", r.Err, errors.Is(r.Err, task.ErrMemory), err)
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
	if _, err := FreqFromProto(&tallyv1.FreqTable{Tokens: [][]byte{[]byte("a")}, Counts: []uint64{query.MaxCount + 1}}); err == nil {
		t.Error("got no error for a count out of range, want one (a worker's bad result must not crash the merge)")
	}
	if _, err := FreqFromProto(&tallyv1.FreqTable{Tokens: [][]byte{[]byte("a")}}); err == nil {
		t.Error("got no error for a table with more tokens than counts, want one")
	}
}
