package coordinator

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/metrics"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/source"
	"github.com/tallyhq/tally/source/file"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/worker"
)

// MustVolume opens a file volume on dir and closes it in t.Cleanup.
func MustVolume(tb testing.TB, dir string) *file.Volume {
	tb.Helper()
	v, err := file.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// MustReading starts a coordinator with in-process workers, as the CLI's
// embedded mode does; workers whose index reads says so read v by
// reference, the others do not. Its metrics are the coordinator's.
func MustReading(tb testing.TB, v *file.Volume, threads int, reads []bool, modify func(*Config)) *Coordinator {
	tb.Helper()
	stores := source.Mux{"file": v}
	readers, others := worker.NewEngine(threads), worker.NewEngine(threads)
	readers.SetStorage(task.Storage{SharedRoot: v.Dir()}, stores)
	cfg := testConfig(tb)
	cfg.ListenAddr, cfg.Stores, cfg.Metrics = "", stores, metrics.New(metrics.Coordinator)
	cfg.Dial = func(ctx context.Context, addr string) (task.Link, error) {
		if addr == "reads" {
			return worker.LocalDialer(readers)(ctx, addr)
		}
		return worker.LocalDialer(others)(ctx, addr)
	}
	if modify != nil {
		modify(&cfg)
	}
	c := MustStart(tb, cfg)
	for i, r := range reads {
		addr := "reads"
		if !r {
			addr = "does not read"
		}
		c.AddWorker(fmt.Sprintf("w%d", i), addr, threads)
	}
	waitFor(tb, 5*time.Second, "the workers to be ready", func() bool { return c.pool.ready() == len(reads) })
	return c
}

// MustSubmit runs req on c and returns its result as the client has it.
func MustSubmit(tb testing.TB, c *Coordinator, req Request) *client.Result {
	tb.Helper()
	res, err := submit(tb, c, req)
	if err != nil {
		tb.Fatalf("job: %v", err)
	}
	return res
}

func submit(tb testing.TB, c *Coordinator, req Request) (*client.Result, error) {
	tb.Helper()
	h, err := c.Submit(testCtx(tb, time.Minute), req)
	if err != nil {
		return nil, err
	}
	r, err := h.Wait()
	if err != nil {
		return nil, err
	}
	return &client.Result{JobID: h.ID(), Documents: clientDocResults(r.Documents), Total: client.DocumentResult(r.Total), Top: r.Top, Workers: r.Workers, Stats: r.Stats}, nil
}

func clientDocResults(ds []DocumentResult) []client.DocumentResult {
	out := make([]client.DocumentResult, len(ds))
	for i, d := range ds {
		out[i] = client.DocumentResult(d)
	}
	return out
}

// storedDocs writes ds into v's directory (every third gzip-compressed) and
// returns them as inputs: read by reference and streamed in turn, so that a
// job mixes both in document order.
func storedDocs(tb testing.TB, v *file.Volume, ds []doc) []Input {
	tb.Helper()
	out := make([]Input, len(ds))
	for i, d := range ds {
		if i%2 == 1 {
			out[i] = Input{Name: d.name, Size: int64(len(d.data)), Reader: bytes.NewReader(d.data)}
			continue
		}
		data := d.data
		if i%3 == 0 {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(d.data)
			zw.Close()
			data = b.Bytes()
		}
		info := mustFile(tb, v, fmt.Sprintf("%02d.txt", i), data)
		info.Name = d.name
		out[i] = Input{Name: d.name, Object: &info}
	}
	return out
}

// mustFile writes data as name in v and describes it.
func mustFile(tb testing.TB, v *file.Volume, name string, data []byte) source.Info {
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

// streamed is how many bytes c carried to workers itself.
func streamed(c *Coordinator) float64 { return c.cfg.Metrics.BytesStreamed() }

// TestSubmitStored runs jobs over stored documents read by reference, mixed
// with streamed ones, several at once, for splits from 1 byte up to larger
// than the documents: every answer equals one pass over each document, and
// the coordinator carries none of the stored documents' bytes.
func TestSubmitStored(t *testing.T) {
	v := MustVolume(t, t.TempDir())
	c := MustReading(t, v, 2, []bool{true, true}, func(cfg *Config) { cfg.MinBlock, cfg.ChunkSize, cfg.Window = 1, 4096, 4 })
	large, small := largeDocs(t), smallDocs(t)
	var wg sync.WaitGroup
	for _, block := range []int{1, 7, 1000, 64 << 10, 0} {
		ds := large
		if block < 1000 {
			ds = small // a split per byte of a large text takes long
		}
		in := storedDocs(t, v, ds)
		for qname, q := range exactQueries() {
			wg.Go(func() {
				inputs := make([]Input, len(in))
				for i, d := range in {
					inputs[i] = d
					if d.Reader != nil {
						inputs[i].Reader = bytes.NewReader(ds[i].data) // a stream is read once
					}
				}
				res, err := submit(t, c, Request{Query: q, BlockSize: block, Inputs: List(inputs, nil)})
				if err != nil {
					t.Errorf("%s in blocks of %d: %v", qname, block, err)
					return
				}
				if d := diffResult(res, reference(t, q, ds)); d != "" {
					t.Errorf("%s in blocks of %d differs from one pass over each document:\n%s", qname, block, d)
				}
			})
		}
		wg.Wait()
	}
	if got := streamed(c); got == 0 {
		t.Error("the streamed documents were not counted as streamed")
	}
}

// TestSharedVolume: server paths are read by the workers whose shared root
// holds them, and streamed by the coordinator to workers without one; a
// worker that reads them takes their splits first. Every way is exact.
func TestSharedVolume(t *testing.T) {
	dir, docs := mustDataDir(t)
	q := countQ(query.Token, false, "the", "The")
	want := []doc{docs[0], docs[1]}
	for _, tc := range []struct {
		name     string
		reads    []bool
		streamed bool
	}{
		{"every worker reads", []bool{true, true}, false},
		{"none reads", []bool{false, false}, true},
		{"one reads", []bool{true, false, false}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := MustReading(t, MustVolume(t, dir), 1, tc.reads, func(cfg *Config) { cfg.DataDir, cfg.MinBlock = dir, 1 })
			for _, block := range []int{1, 5, 0} {
				in, err := c.ServerInputs([]string{"books"}, false)
				if err != nil {
					t.Fatal(err)
				}
				h, err := c.Submit(testCtx(t, time.Minute), Request{Query: q, BlockSize: block, Inputs: List(in, nil)})
				if err != nil {
					t.Fatal(err)
				}
				r, err := h.Wait()
				if err != nil {
					t.Fatal(err)
				}
				checkExact(t, &client.Result{Documents: clientDocResults(r.Documents), Total: client.DocumentResult(r.Total), Stats: r.Stats}, q, want)
				size := len(docs[0].data) + len(docs[1].data)
				if tasks := h.Snapshot(false).Progress.ChunksDone; block > 0 && tasks < int64(size/block) {
					t.Errorf("blocks of %d: %d tasks for %d bytes, want a split per block", block, tasks, size)
				}
			}
			if got := streamed(c); (got > 0) != tc.streamed {
				t.Errorf("the coordinator streamed %v bytes; want some: %t", got, tc.streamed)
			}
		})
	}
}

// TestSubmitInputErrors: a stored document that changed since it was
// planned, vanished, or has a line too long fails the job at once with an
// input error that names it.
func TestSubmitInputErrors(t *testing.T) {
	v := MustVolume(t, t.TempDir())
	c := MustReading(t, v, 2, []bool{true}, func(cfg *Config) { cfg.ChunkSize, cfg.MaxLine, cfg.MinBlock = 1024, 2048, 1 })
	q := countQ(query.Substring, false, "x ") // a space: no cut at whitespace
	changed := mustFile(t, v, "changed.txt", []byte("the cat\n"))
	later := time.Now().Add(time.Minute)
	os.WriteFile(filepath.Join(v.Dir(), "changed.txt"), []byte("the dog\n"), 0o644)
	os.Chtimes(filepath.Join(v.Dir(), "changed.txt"), later, later)
	gone := mustFile(t, v, "gone.txt", []byte("the\n"))
	os.Remove(filepath.Join(v.Dir(), "gone.txt"))
	long := mustFile(t, v, "long.txt", []byte("short line\n"+strings.Repeat("x", 5000)+"\nthe end\n"))
	for name, tc := range map[string]struct {
		info source.Info
		want error
	}{
		"changed":       {changed, source.ErrChanged},
		"gone":          {gone, source.ErrNotFound},
		"line too long": {long, task.ErrInput},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := submit(t, c, Request{Query: q, BlockSize: 1000, Inputs: List([]Input{{Name: tc.info.Name, Object: &tc.info}}, nil)})
			if !errors.Is(err, tc.want) || !errors.Is(err, task.ErrInput) || !strings.Contains(err.Error(), tc.info.Name) {
				t.Errorf("got %v, want an input error %v naming %s", err, tc.want, tc.info.Name)
			}
		})
	}
}

// TestCompressedWithoutReaders: a compressed document that no worker can
// read is streamed by the coordinator, decompressed.
func TestCompressedWithoutReaders(t *testing.T) {
	v := MustVolume(t, t.TempDir())
	c := MustReading(t, v, 2, []bool{false}, nil)
	ds := MustReadDocs(t, "alice.txt", "gen-fold.txt")
	in := storedDocs(t, v, ds) // alice.txt is gzip-compressed
	q := topQ(false, true, 0)
	checkExact(t, MustSubmit(t, c, Request{Query: q, Inputs: List(in, nil)}), q, ds)
	if got := streamed(c); got < float64(len(ds[0].data)) {
		t.Errorf("streamed %v bytes, want at least alice's %d", got, len(ds[0].data))
	}
}

// TestSubmitRefusals: a request beyond the limits is refused before any work.
func TestSubmitRefusals(t *testing.T) {
	c := MustReading(t, MustVolume(t, t.TempDir()), 1, []bool{true}, func(cfg *Config) { cfg.MaxTargets = 2 })
	for name, req := range map[string]Request{
		"no inputs":       {Query: countQ(query.Token, false, "a")},
		"no targets":      {Query: countQ(query.Token, false), Inputs: List(nil, nil)},
		"too many":        {Query: countQ(query.Token, false, "a", "b", "c"), Inputs: List(nil, nil)},
		"huge block":      {Query: countQ(query.Token, false, "a"), BlockSize: 1 << 30, Inputs: List(nil, nil)},
		"negative chunk":  {Query: countQ(query.Token, false, "a"), ChunkSize: -1, Inputs: List(nil, nil)},
		"space in token":  {Query: countQ(query.Token, false, "a b"), Inputs: List(nil, nil)},
		"chunk above max": {Query: countQ(query.Token, false, "a"), ChunkSize: 1 << 30, Inputs: List(nil, nil)},
	} {
		if _, err := c.Submit(context.Background(), req); !errors.Is(err, task.ErrInput) {
			t.Errorf("%s: got %v, want an input error", name, err)
		}
	}
}

// TestWholeWaitsForAReader: a whole document (compressed) that only one
// worker could read, planned for it, waits when that worker is gone, says
// what for, and fails after WorkerWait, though another worker is ready.
func TestWholeWaitsForAReader(t *testing.T) {
	v := MustVolume(t, t.TempDir())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("the cat\n"))
	zw.Close()
	info := mustFile(t, v, "a.txt.gz", gz.Bytes())
	var readerUp atomic.Bool
	readerUp.Store(true)
	engine := worker.NewEngine(1)
	workers := map[string]func() (task.Link, error){
		"reader": func() (task.Link, error) {
			if !readerUp.Load() {
				return nil, errors.New("the reader is gone")
			}
			l := newScriptedLink(1, func(task.Task) []event {
				readerUp.Store(false)
				return []event{{err: errors.New("the reader died")}}
			})
			l.StorageFn = func() task.Storage { return task.Storage{SharedRoot: v.Dir()} }
			return l, nil
		},
		"other": func() (task.Link, error) {
			return newScriptedLink(1, func(tk task.Task) []event { return deliver(engine.Process(context.Background(), tk)) }), nil
		},
	}
	cfg := testConfig(t)
	cfg.ListenAddr, cfg.Dial, cfg.Stores, cfg.WorkerWait = "", fakeDialer(workers), source.Mux{"file": v}, time.Second
	c := MustStart(t, cfg)
	c.AddWorker("reader", "reader", 1)
	c.AddWorker("other", "other", 1)
	waitFor(t, 5*time.Second, "two ready workers", func() bool { return c.pool.ready() == 2 })
	_, err := submit(t, c, Request{Query: countQ(query.Token, false, "the"), Inputs: List([]Input{{Name: "a", Object: &info}}, nil)})
	if !errors.Is(err, ErrNoWorkers) || !strings.Contains(err.Error(), "waiting for a worker that can read "+info.URL) {
		t.Fatalf("got %v, want ErrNoWorkers waiting for a worker that can read %s", err, info.URL)
	}
}
