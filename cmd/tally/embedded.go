package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tallyhq/tally/client"
	"github.com/tallyhq/tally/coordinator"
	"github.com/tallyhq/tally/source/file"
	"github.com/tallyhq/tally/worker"
)

// runner runs jobs: a cluster's coordinator through the client, or an
// embedded one.
type runner interface {
	Run(ctx context.Context, job client.Job, onProgress func(client.Progress)) (*client.Result, error)
	Close() error
}

// connect returns a runner for the named coordinator, or for an embedded
// coordinator and worker in this process when there is none.
func connect(cf connFlags, sf storeFlags) (runner, error) {
	if cf.coordinator != "" {
		return cf.dial()
	}
	return startEmbedded(sf)
}

// embedded is a coordinator with one worker in this process, which runs
// the cluster's own job code without the network: jobs go in through
// Submit, tasks over an in-process link, and local files are read by
// reference like a shared volume's, by the worker's threads in parallel.
type embedded struct {
	coord   *coordinator.Coordinator
	volume  *file.Volume // the whole file system: the user's own files
	s3      bool         // S3 credentials are set
	chunk   int          // the default chunk size
	threads int          // the worker's
	release func()
}

func startEmbedded(sf storeFlags) (*embedded, error) {
	stores, storage, release, err := sf.stores("/")
	if err != nil {
		return nil, err
	}
	engine := worker.NewEngine(0)
	engine.SetMaxMatcher(worker.DefaultMaxMatcherMemory)
	engine.SetMaxTop(worker.DefaultMaxTopMemory)
	engine.SetStorage(storage, stores)
	cfg := coordinator.DefaultConfig()
	cfg.ListenAddr = "" // no client API: jobs come through Submit
	cfg.Dial = worker.LocalDialer(engine)
	cfg.DataDir = "." // in one process, the server's side is this directory
	cfg.Stores = stores
	// A few tasks per thread keep every core busy. Splits are a chunk unless
	// Run sizes them for the job (blockOf). The worker counts a local file
	// in place in its memory map; one it cannot map (an empty file, a file
	// system without maps) it reads a count job's split embeddedRead bytes
	// at a time, a top job's a chunk at a time, so that the reads stay in
	// the CPU's caches.
	cfg.Window = 2*runtime.GOMAXPROCS(0) + 4
	cfg.BlockSize = cfg.ChunkSize
	cfg.FileReadSize = embeddedRead
	cfg.RemoteBlockSize = coordinator.DefaultBlockSize // S3: a request per split
	cfg.MinBlock = 1                                   // the user's own process does what the user asks
	coord, err := coordinator.Start(cfg)
	if err != nil {
		release()
		return nil, fmt.Errorf("start embedded coordinator: %w", err)
	}
	host, _ := os.Hostname()
	coord.AddWorker("embedded-"+host, "in-process", engine.Threads())
	return &embedded{coord: coord, volume: stores["file"].(*file.Volume), s3: storage.S3, chunk: cfg.ChunkSize, threads: engine.Threads(), release: release}, nil
}

// embeddedRead is the size of the worker's reads of a local file's split
// that it cannot map: with its copy in the page cache's pages, it fits a
// core's L2 cache (512 KiB on AMD Zen 2, 1-2 MiB on recent Intel), where the
// count then reads it; 1 MiB reads were 10-15% slower on two threads on a
// Zen 2. A mapped split is counted in ranges of the same size, which cost
// the same as 64 KiB or 1 MiB ones (Zen 4).
const embeddedRead = 256 << 10

// embeddedBlock is the split size of a count job over total known bytes of
// local files: about eight splits per thread, so that the threads stay busy
// to the end, but no smaller than least (a chunk), which keeps small files
// spread over the cores, and no larger than the cluster's default. Every
// split costs a task and an open of its file: on a 415 MB file, 1 MiB
// splits took 10% longer than 16 MiB ones on one thread and 20% on two
// (docs/performance.md). A top job keeps splits of a chunk: its per-split
// tables grow out of the caches with larger ones (12% slower).
func embeddedBlock(total int64, least, threads int) int {
	b := total / int64(8*max(threads, 1))
	return int(min(max(b, int64(least)), coordinator.DefaultBlockSize))
}

// blockOf is the split size of a job that names none, 0 to leave it to the
// coordinator: about eight splits per thread for a count job of local files
// and server paths (embeddedBlock; stored is the server paths' bytes), the
// chunk size (as streams are cut) when the job names one. A job with URLs
// keeps the coordinator's: a block size in the request would apply to its
// objects too, which take one request per split.
func (e *embedded) blockOf(job client.Job, stored int64) int {
	least := max(cmp.Or(job.ChunkSize, e.chunk), 64<<10) // reading a split's last line costs little
	switch {
	case job.Query.Spec.Count != nil && len(job.URLs) == 0:
		known, _ := docBytes(job.Documents)
		return embeddedBlock(known+stored, least, e.threads)
	case job.ChunkSize > 0:
		return least
	}
	return 0
}

// storedBytes is the sum of the sizes of the stored inputs.
func storedBytes(inputs []coordinator.Input) int64 {
	var n int64
	for _, in := range inputs {
		if in.Object != nil {
			n += in.Object.Size
		}
	}
	return n
}

func (e *embedded) Close() error {
	err := e.coord.Close()
	e.release()
	return err
}

// Run runs job as a cluster would: server paths, then URLs, then documents.
func (e *embedded) Run(ctx context.Context, job client.Job, onProgress func(client.Progress)) (*client.Result, error) {
	if len(job.URLs) > 0 && !e.s3 {
		return nil, usagef("%s: s3:// inputs need credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL or --s3-endpoint for a server other than AWS)", job.URLs[0])
	}
	stored, err := e.coord.ServerInputs(job.ServerPaths, job.Hidden)
	if err != nil {
		return nil, err
	}
	if job.BlockSize == 0 {
		job.BlockSize = e.blockOf(job, storedBytes(stored))
	}
	objects, err := e.coord.URLInputs(ctx, job.URLs, job.Hidden)
	if err != nil {
		return nil, err
	}
	h, err := e.coord.Submit(ctx, coordinator.Request{
		Query: job.Query, ChunkSize: job.ChunkSize, BlockSize: job.BlockSize,
		Inputs: coordinator.List(append(stored, objects...), &localDocuments{docs: job.Documents, volume: e.volume}),
	})
	if err != nil {
		return nil, err
	}
	report := func() {
		if onProgress != nil {
			onProgress(progressOf(h.ID(), h.Snapshot(false).Progress))
		}
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		report()
		select {
		case <-tick.C:
		case <-h.Done():
			done = true
		}
	}
	res, err := h.Wait()
	if err != nil {
		return nil, err
	}
	return resultOf(h.ID(), res), nil
}

// localDocuments are the documents of an embedded job: a local file is
// read in place, by reference; anything else (stdin) is streamed.
type localDocuments struct {
	docs   []client.Document
	volume *file.Volume
}

func (l *localDocuments) Next() (coordinator.Input, error) {
	if len(l.docs) == 0 {
		return coordinator.Input{}, io.EOF
	}
	d := l.docs[0]
	l.docs = l.docs[1:]
	if d.Path != "" {
		abs, err := filepath.Abs(d.Path)
		if err != nil {
			return coordinator.Input{}, fmt.Errorf("cannot read %s: %w", d.Name, err)
		}
		info, err := l.volume.Stat(abs, d.Name)
		if err != nil {
			return coordinator.Input{}, fmt.Errorf("cannot read %w", err)
		}
		return coordinator.Input{Name: d.Name, Object: &info}, nil
	}
	r, err := d.Open()
	if err != nil {
		return coordinator.Input{}, fmt.Errorf("cannot read %s: %w", d.Name, err)
	}
	return coordinator.Input{Name: d.Name, Size: d.Size, Reader: r}, nil
}

func progressOf(id string, p coordinator.Progress) client.Progress {
	return client.Progress{JobID: id, BytesReceived: p.BytesReceived, BytesTotal: p.BytesTotal, BytesCounted: p.BytesCounted,
		ChunksDone: p.ChunksDone, Workers: p.Workers, Waiting: p.Waiting}
}

func resultOf(id string, r *coordinator.Result) *client.Result {
	out := &client.Result{JobID: id, Total: client.DocumentResult(r.Total), Top: r.Top, Workers: r.Workers, Elapsed: r.Elapsed, Stats: r.Stats}
	for _, d := range r.Documents {
		out.Documents = append(out.Documents, client.DocumentResult(d))
	}
	return out
}
