package worker

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tallyhq/tally/count"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/source/file"
	"github.com/tallyhq/tally/task"
)

// mustFileEngine returns an engine that reads file:// refs under a new
// directory, and the directory.
func mustFileEngine(tb testing.TB, threads int) (*Engine, *file.Volume) {
	tb.Helper()
	v, err := file.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	e := NewEngine(threads)
	e.SetStorage(task.Storage{SharedRoot: v.Dir()}, source.Mux{"file": v})
	return e, v
}

// mustStore writes data as name in v and describes it.
func mustStore(tb testing.TB, v *file.Volume, name string, data []byte) source.Info {
	tb.Helper()
	p := filepath.Join(v.Dir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	info, err := v.Stat(p, name)
	if err != nil {
		tb.Fatal(err)
	}
	return info
}

// splits cuts info into refs of block bytes, read size bytes at a time.
func splits(info source.Info, block, read int64, cut task.Cut) []task.Ref {
	var out []task.Ref
	for lo := int64(0); lo < info.Size; lo += block {
		r := info.Ref()
		r.Offset, r.Length, r.Cut = lo, min(block, info.Size-lo), cut
		r.Cut.ReadSize = int(read)
		out = append(out, r)
	}
	return out
}

// TestRefsMatchRun reads every shared text as splits of many sizes, each
// read in ranges of many sizes, and checks that the merged answers equal
// one pass over the text, for every query.
func TestRefsMatchRun(t *testing.T) {
	e, v := mustFileEngine(t, 2)
	texts := MustReadTexts(t)
	names := make([]string, 0, len(texts))
	for n := range texts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(texts[name]) == 0 {
			continue // no splits: the coordinator answers an empty document itself
		}
		info := mustStore(t, v, name, texts[name])
		for qname, q := range testQueries() {
			want := MustRun(t, q.Spec, texts[name])
			split := q.Spec.Top != nil || !q.Spec.Count.HasSpace()
			for _, sz := range [][2]int64{{1, 1}, {7, 3}, {1000, 100}, {64 << 10, 4096}, {1 << 30, 1 << 20}} {
				if sz[0] < 1000 && len(texts[name]) > 16<<10 || sz[0] == 1000 && len(texts[name]) > 256<<10 {
					continue // a split per byte (or per 1000) of a large text takes minutes
				}
				cut := task.Cut{MaxLine: 4 << 20, SplitAtSpace: split}
				var got count.Partial
				for i, ref := range splits(info, sz[0], sz[1], cut) {
					res := e.Process(context.Background(), task.Task{JobID: "j", ChunkID: uint64(i), Query: q, Ref: &ref})
					if res.Err != nil {
						t.Fatalf("%s %s split %d of %v: %v", name, qname, i, sz, res.Err)
					}
					got.Merge(res.Partial)
				}
				if d := diffPartial(got, want); d != "" {
					t.Errorf("%s %s in splits of %d read by %d: %s", name, qname, sz[0], sz[1], d)
				}
			}
		}
	}
}

// TestWholeRef reads a compressed document whole, decompressed.
func TestWholeRef(t *testing.T) {
	e, v := mustFileEngine(t, 1)
	text := MustReadTexts(t)["alice.txt"]
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(text)
	zw.Close()
	info := mustStore(t, v, "alice.txt.gz", gz.Bytes())
	q := testQueries()["top"]
	ref := info.Ref()
	ref.Whole, ref.Cut = true, task.Cut{ReadSize: 1000, MaxLine: 1 << 20, SplitAtSpace: true}
	res := e.Process(context.Background(), task.Task{Query: q, Ref: &ref})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if d := diffPartial(res.Partial, MustRun(t, q.Spec, text)); d != "" {
		t.Error(d)
	}
	// A split of a compressed document would count compressed bytes: the
	// planner never makes one, and a corrupt archive is an input error.
	corrupt := mustStore(t, v, "bad.gz", gz.Bytes()[:gz.Len()/2])
	ref = corrupt.Ref()
	ref.Whole, ref.Cut = true, task.Cut{ReadSize: 1000, MaxLine: 1 << 20}
	if res := e.Process(context.Background(), task.Task{Query: q, Ref: &ref}); !errors.Is(res.Err, task.ErrInput) {
		t.Errorf("a truncated archive: got %v, want an input error", res.Err)
	}
}

// TestRefErrors: what the input is at fault for fails with an input error
// that names the document; what another worker might read is a plain error.
func TestRefErrors(t *testing.T) {
	e, v := mustFileEngine(t, 1)
	q := testQueries()["token"]
	cut := task.Cut{ReadSize: 64, MaxLine: 128}
	long := mustStore(t, v, "long.txt", []byte("short\n"+strings.Repeat("x", 1000)+"\nend\n"))
	changed := mustStore(t, v, "changed.txt", []byte("the cat\n"))
	os.WriteFile(filepath.Join(v.Dir(), "changed.txt"), []byte("the cats\n"), 0o644)
	missing := mustStore(t, v, "missing.txt", []byte("the\n"))
	os.Remove(filepath.Join(v.Dir(), "missing.txt"))
	for name, tc := range map[string]struct {
		ref   task.Ref
		input bool
	}{
		"line too long": {splits(long, 64, 64, cut)[0], true},
		"changed":       {splits(changed, 64, 64, cut)[0], true},
		"missing":       {splits(missing, 64, 64, cut)[0], true},
		"not readable":  {task.Ref{URL: "s3://bucket/key", Size: 1, Length: 1, Cut: cut}, false},
		"outside":       {task.Ref{URL: "file:///etc/hostname", Size: 1, Length: 1, Cut: cut}, false},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.Process(context.Background(), task.Task{Query: q, Ref: &tc.ref})
			if res.Err == nil || errors.Is(res.Err, task.ErrInput) != tc.input {
				t.Fatalf("got %v, want an error that is an input error: %t", res.Err, tc.input)
			}
			if !strings.Contains(res.Err.Error(), tc.ref.URL[len("file://"):]) && !strings.Contains(res.Err.Error(), tc.ref.URL) {
				t.Errorf("got %v, want it to name %s", res.Err, tc.ref.URL)
			}
		})
	}
}

// flakyOpener fails its first opens with a transient error.
type flakyOpener struct {
	source.Opener
	failures atomic.Int32 // opens left to fail
}

func (f *flakyOpener) Open(ctx context.Context, ref task.Ref) (source.Object, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, errors.New("connection refused")
	}
	return f.Opener.Open(ctx, ref)
}

// TestRefRetries: a store that fails for a moment is tried again; one that
// keeps failing fails the task with an error another worker may not meet.
func TestRefRetries(t *testing.T) {
	e, v := mustFileEngine(t, 1)
	info := mustStore(t, v, "a.txt", []byte("the cat\nthe end\n"))
	q := testQueries()["token"]
	ref := splits(info, 1<<20, 1<<20, task.Cut{MaxLine: 1 << 20})[0]
	flaky := &flakyOpener{Opener: source.Mux{"file": v}}
	e.SetStorage(e.Storage(), flaky)

	flaky.failures.Store(storeAttempts - 1)
	if res := e.Process(context.Background(), task.Task{Query: q, Ref: &ref}); res.Err != nil {
		t.Fatalf("after %d transient failures: got %v, want an answer", storeAttempts-1, res.Err)
	}
	flaky.failures.Store(storeAttempts)
	res := e.Process(context.Background(), task.Task{Query: q, Ref: &ref})
	if res.Err == nil || errors.Is(res.Err, task.ErrInput) || !strings.Contains(res.Err.Error(), "connection refused") {
		t.Fatalf("after %d transient failures: got %v, want the store's error, not an input error", storeAttempts, res.Err)
	}
}

// streamingOpener serves one document from memory as a store whose
// requests are dear (S3): it counts range streams and reads at offsets.
type streamingOpener struct {
	data           []byte
	streams, reads atomic.Int32
}

func (s *streamingOpener) Open(ctx context.Context, ref task.Ref) (source.Object, error) {
	return &streamingObject{s}, nil
}

type streamingObject struct{ s *streamingOpener }

func (o *streamingObject) Size() int64  { return int64(len(o.s.data)) }
func (o *streamingObject) Close() error { return nil }
func (o *streamingObject) ReadAt(p []byte, off int64) (int, error) {
	o.s.reads.Add(1)
	return bytes.NewReader(o.s.data).ReadAt(p, off)
}
func (o *streamingObject) StreamRange(off, n int64) (io.ReadCloser, error) {
	o.s.streams.Add(1)
	return io.NopCloser(bytes.NewReader(o.s.data[off : off+n])), nil
}

// TestSplitInOneStream: a store that streams ranges serves each split's
// reads from one request, not one per ReadSize range.
func TestSplitInOneStream(t *testing.T) {
	text := MustReadTexts(t)["alice.txt"]
	st := &streamingOpener{data: text}
	e := NewEngine(1)
	e.SetStorage(task.Storage{S3: true}, st)
	q := testQueries()["token"]
	info := source.Info{URL: "s3://b/alice.txt", Size: int64(len(text)), Version: "etag"}
	var got count.Partial
	refs := splits(info, 40000, 4096, task.Cut{MaxLine: 1 << 20, SplitAtSpace: true})
	for _, ref := range refs {
		res := e.Process(context.Background(), task.Task{Query: q, Ref: &ref})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		got.Merge(res.Partial)
	}
	if d := diffPartial(got, MustRun(t, q.Spec, text)); d != "" {
		t.Fatal(d)
	}
	if s, r := st.streams.Load(), st.reads.Load(); s != int32(len(refs)) || r > int32(len(refs)) {
		t.Errorf("%d splits read with %d streams and %d reads at offsets, want one stream each and few reads", len(refs), s, r)
	}
}

// TestSplitTopBudget: a split read in many pieces whose merged table grows
// beyond the worker's --max-top-memory is refused, never answered with a
// table that lost tokens to the limit on the way (whole or split).
func TestSplitTopBudget(t *testing.T) {
	e, v := mustFileEngine(t, 1)
	e.SetMaxTop(4 << 20)
	var b bytes.Buffer
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "long-distinct-token-%08d\n", i)
	}
	info := mustStore(t, v, "distinct.txt", b.Bytes())
	top := query.Job{Spec: query.Spec{Top: &query.Top{}}}
	for _, whole := range []bool{false, true} {
		ref := splits(info, info.Size, 256<<10, task.Cut{MaxLine: 1 << 20})[0]
		ref.Whole = whole
		res := e.Process(context.Background(), task.Task{JobID: "j", Query: top, Ref: &ref})
		if !errors.Is(res.Err, task.ErrMemory) {
			n := 0
			if res.Partial.Freq != nil {
				n = res.Partial.Freq.Len()
			}
			t.Errorf("whole=%t: got %v with %d tokens, want a memory error", whole, res.Err, n)
		}
	}
}

// truncatingOpener opens refs from a volume and cuts the file short right
// after the worker maps it, as a writer truncating it mid-read would.
type truncatingOpener struct {
	v    *file.Volume
	path string
	to   int64
}

func (o truncatingOpener) Open(ctx context.Context, ref task.Ref) (source.Object, error) {
	obj, err := o.v.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	return truncating{InPlace: obj.(source.InPlace), o: o}, nil
}

type truncating struct {
	source.InPlace
	o truncatingOpener
}

func (t truncating) Mapped() ([]byte, error) {
	doc, err := t.InPlace.Mapped()
	if err == nil {
		err = os.Truncate(t.o.path, t.o.to)
	}
	return doc, err
}

// TestMappedFileTruncated: a file cut short while a worker counts it from
// its memory map fails the split as an input error (it changed while it was
// read), never a crash (SIGBUS) or a count of the bytes that are left.
func TestMappedFileTruncated(t *testing.T) {
	text := bytes.Repeat([]byte("alpha beta gamma delta\n"), 1<<15) // 736 KiB
	for _, to := range []int64{0, 4096, int64(len(text)) / 2, int64(len(text)) - 1} {
		e, v := mustFileEngine(t, 1)
		info := mustStore(t, v, "a.txt", text)
		e.SetStorage(task.Storage{SharedRoot: v.Dir()}, source.Mux{"file": truncatingOpener{v: v, path: filepath.Join(v.Dir(), "a.txt"), to: to}})
		ref := info.Ref()
		ref.Offset, ref.Length, ref.Cut = 0, info.Size, task.Cut{ReadSize: 64 << 10, MaxLine: 1 << 20}
		q := query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Token, Targets: []string{"gamma"}}}}
		res := e.Process(context.Background(), task.Task{JobID: "j", Query: q, Ref: &ref})
		if !errors.Is(res.Err, task.ErrInput) {
			t.Errorf("truncated to %d bytes while mapped: got %v (counts %v), want an input error", to, res.Err, res.Partial.Counts)
		}
		t.Logf("truncated to %d bytes: %v", to, res.Err)
	}
}
