// Package client is the Go API for tally's CoordinatorService: run count and
// top jobs over documents of any size, count small texts, and inspect jobs and
// workers. The tally CLI is built on it.
//
// It is cheap to import: it needs gRPC, protobuf and the query's values
// (package query), not the counting kernel, memberlist or a metrics library.
//
// Count words in texts held in memory:
//
//	c, err := client.Dial("127.0.0.1:7070") // or client.WithTLS, client.WithToken
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	res, err := c.CountTexts(ctx, []string{"the cat and the hat", "The end"},
//		query.Count{Mode: query.Token, Targets: []string{"the"}}, false)
//	// res.Documents[i].Counts[j] is text i's count of target j; res.Total sums them.
//
// Count in files of any size, streamed to the cluster:
//
//	docs, err := client.FileDocuments([]string{"books/"}, nil, client.FileOptions{})
//	res, err := c.Run(ctx, client.Job{
//		Query:     query.Job{Spec: query.Spec{Count: &query.Count{Mode: query.Word, Targets: []string{"Holmes"}}}},
//		Documents: docs,
//	}, nil)
//
// Errors carry the coordinator's gRPC status as an *Error; test them with
// errors.Is against ErrNotFound, ErrInvalidArgument, ErrUnavailable and the
// others. The runnable examples in example_test.go show complete programs
// (pkg.go.dev shows them; go test -run Example runs them).
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/keepalive"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/security"
	"github.com/tallyhq/tally/wire"
)

// uploadMessageBytes is the size of one upload data message.
const uploadMessageBytes = 1 << 20

// MaxResultBytes bounds one message from the coordinator. A full frequency
// table (top -n 0) of a large corpus runs to tens of MB, far above gRPC's
// default 4 MiB.
const MaxResultBytes = 1 << 30

// Keepalive: a client pings a coordinator that has sent nothing for
// KeepaliveTime and gives up on it KeepaliveTimeout later, so that a call
// to a coordinator that stopped (SIGSTOP, a frozen machine, a network that
// vanished without closing the connection) fails with Unavailable in about
// 20 s instead of waiting forever. grpc-go pings no more often than every
// 10 s (it raises a shorter Time to 10 s); coordinators allow pings every 5 s.
const (
	KeepaliveTime    = 10 * time.Second
	KeepaliveTimeout = 10 * time.Second
)

// Client talks to one coordinator. It is safe for concurrent use.
type Client struct {
	addr string
	conn *grpc.ClientConn
	api  tallyv1.CoordinatorServiceClient
}

// Option configures Dial.
type Option func(*options)

type options struct {
	tls      security.TLS
	token    string
	insecure bool
	grpc     []grpc.DialOption
}

// WithTLS connects over TLS, verifying the coordinator with t.CAFile (the
// system roots without one) and presenting t's certificate if it has one.
func WithTLS(t security.TLS) Option { return func(o *options) { o.tls = t } }

// WithToken sends a bearer token with every call. Use it with WithTLS:
// Dial refuses to send a token in clear to a coordinator off loopback,
// unless WithInsecure.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithInsecure lets Dial send a token without TLS to a coordinator that is
// not on loopback, where anyone on the path can read it.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithGRPCOptions adds raw gRPC dial options.
func WithGRPCOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.grpc = append(o.grpc, opts...) }
}

// Dial returns a Client for the coordinator at addr (host:port), in
// plaintext unless WithTLS is given.
func Dial(addr string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.token != "" && !o.tls.Enabled() && !o.insecure && !security.Loopback(addr) {
		return nil, fmt.Errorf("refusing to send the token in clear to %s, which is not a loopback address: connect with TLS (a CA to verify it, --tls-ca) or allow it with --insecure", addr)
	}
	creds, err := o.tls.ClientCredentials("", security.RoleCoordinator)
	if err != nil {
		return nil, err
	}
	all := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// wire.Codec is protobuf that marshals uploads into buffers it
		// does not clear first (gRPC's own clears 1 MiB per message).
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxResultBytes), grpc.ForceCodecV2(wire.Codec{})),
		experimental.WithBufferPool(wire.Buffers),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: KeepaliveTime, Timeout: KeepaliveTimeout}),
		grpc.WithChainUnaryInterceptor(explainUnary(addr)),
		grpc.WithChainStreamInterceptor(explainStream(addr)),
	}
	if o.token != "" {
		all = append(all, grpc.WithPerRPCCredentials(security.TokenCredentials{Token: o.token, Secure: o.tls.Enabled()}))
	}
	conn, err := grpc.NewClient(addr, append(append(all, wire.APIDialOptions()...), o.grpc...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to coordinator %s: %w", addr, err)
	}
	return &Client{addr: addr, conn: conn, api: tallyv1.NewCoordinatorServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// API is the generated stub, for calls this package does not wrap.
func (c *Client) API() tallyv1.CoordinatorServiceClient { return c.api }

// Document is one input of a job. Open is called once, when the document's turn
// to upload comes, and the reader is closed after it.
type Document struct {
	Name string
	Size int64 // bytes if known, else 0; used for progress only
	Open func() (io.ReadCloser, error)
	// Path is the local file the document is, if it is one: the CLI's
	// embedded mode reads such a file in place instead of opening it.
	Path string
}

// Job is a count or top job over documents.
type Job struct {
	Query     query.Job
	ChunkSize int // bytes; 0 uses the coordinator's default
	// BlockSize is the size of the splits of stored documents (server
	// paths and URLs) that one task reads; 0 uses the coordinator's default.
	BlockSize int
	// ServerPaths name documents on the coordinator's side, inside its data
	// directory; they are counted first, without being uploaded.
	ServerPaths []string
	// URLs name stored documents that the cluster's workers read
	// themselves, with its own credentials: s3://BUCKET/KEY, or
	// s3://BUCKET/PREFIX/ for every object under a prefix. They are counted
	// after ServerPaths and before Documents.
	URLs []string
	// Hidden includes dot files when a server path is a directory.
	Hidden    bool
	Documents []Document
}

// Progress is a running job's state, as reported every fraction of a second.
type Progress struct {
	JobID         string
	BytesReceived int64
	BytesTotal    int64
	BytesCounted  int64
	ChunksDone    int64
	Workers       int
	Waiting       string // why the job is not progressing, or ""
}

// DocumentResult is one document's answer. Counts is parallel to the query's
// targets. Stats.Lines and Stats.Tokens are measured only when the job asked
// for them (Result.Stats); Stats.Bytes always is.
type DocumentResult struct {
	Name   string
	Stats  query.Stats
	Counts []int64
}

// Result is a finished job's answer.
type Result struct {
	JobID     string
	Documents []DocumentResult
	Total     DocumentResult
	Top       []query.Entry // top jobs only, in SPEC order
	Workers   int
	Elapsed   time.Duration
	// Stats is set when the documents' lines and tokens were measured:
	// the job's query asked for them (query.Job.Spec.Stats).
	Stats bool
}

// Run uploads the job's documents, reports progress to onProgress (which may be
// nil; it is called from Run's goroutine) and returns the result. An error from
// the coordinator or the connection is an *Error (errors.Is(err, ErrNotFound),
// ErrInvalidArgument, ...). Cancelling ctx cancels the job on the coordinator.
func (c *Client) Run(ctx context.Context, job Job, onProgress func(Progress)) (*Result, error) {
	res, err := c.run(ctx, job, onProgress)
	return res, typed(err)
}

func (c *Client) run(ctx context.Context, job Job, onProgress func(Progress)) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.api.RunJob(ctx)
	if err != nil {
		return nil, fmt.Errorf("start job: %w", err)
	}
	start := &tallyv1.JobStart{Spec: wire.QueryToProto(job.Query), ChunkSize: uint64(job.ChunkSize), BlockSize: uint64(job.BlockSize), MaxResultBytes: MaxResultBytes,
		ServerPaths: job.ServerPaths, Urls: job.URLs, IncludeHidden: job.Hidden, PackedTop: true}
	if err := stream.Send(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Start{Start: start}}); err != nil {
		return nil, c.streamError(stream, err)
	}
	up := &uploader{stream: stream}
	uploadErr := make(chan error, 1)
	go func() {
		err := up.upload(job.Documents)
		// io.EOF means the coordinator ended the call: receive returns why.
		// Any other error stops the job: it must not count a partial upload.
		if err != nil && !errors.Is(err, io.EOF) {
			up.fail(err) // recorded first: it is the error Run reports
			cancel()
		}
		uploadErr <- err
	}()
	res, err := receive(stream, onProgress)
	if err != nil {
		// The job ended first: stop the upload, which may be waiting for a
		// slow source, by closing what it reads.
		if uerr := up.failure(); uerr != nil {
			<-uploadErr
			return nil, uerr // the upload failed and cancelled the call
		}
		cancel()
		up.abort()
		select {
		case <-uploadErr:
		case <-time.After(time.Second):
			// A source that ignores Close (a terminal on stdin) keeps its
			// goroutine until its Read returns; the answer need not wait.
		}
		return nil, err
	}
	<-uploadErr // a job succeeds only after its upload ended
	return res, nil
}

// uploader sends a job's documents; abort stops it from another goroutine.
type uploader struct {
	stream tallyv1.CoordinatorService_RunJobClient

	mu      sync.Mutex // guards cur, stopped and err
	cur     io.Closer  // the document being read
	stopped bool
	err     error // the upload's own failure
}

// fail records the upload's own failure.
func (u *uploader) fail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.err = err
}

// failure is the upload's own failure, if any.
func (u *uploader) failure() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// abort closes the document being read and stops the upload.
func (u *uploader) abort() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stopped = true
	if u.cur != nil {
		u.cur.Close()
	}
}

// reading records r as the document being read; false if the upload was aborted.
func (u *uploader) reading(r io.Closer) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.cur = r
	return !u.stopped
}

// streamError returns the status that ended the stream, which explains a failed Send.
func (c *Client) streamError(stream tallyv1.CoordinatorService_RunJobClient, sendErr error) error {
	if _, err := stream.Recv(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return sendErr
}

// upload sends every document, then closes the send side.
func (u *uploader) upload(docs []Document) error {
	for _, d := range docs {
		if err := u.uploadOne(d); err != nil {
			return err
		}
	}
	return u.stream.CloseSend()
}

func (u *uploader) uploadOne(d Document) error {
	stream := u.stream
	r, err := d.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", d.Name, err)
	}
	defer func() {
		u.reading(nil)
		r.Close()
	}()
	if !u.reading(r) {
		return errors.New("upload stopped")
	}
	hdr := &tallyv1.DocumentHeader{Name: d.Name, Size: uint64(max(d.Size, 0))}
	if err := stream.Send(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Document{Document: hdr}}); err != nil {
		return err
	}
	for {
		// One Read per message: a slow source (a pipe) is sent as it arrives.
		// gRPC writes the message's data from the buffer it was read into
		// and gives the buffer back once it is written out.
		buf := wire.Buffers.Get(uploadMessageBytes)
		n, err := r.Read(*buf)
		out := &wire.OutgoingUpload{Data: (*buf)[:n], Done: func() { wire.Buffers.Put(buf) }}
		if n > 0 {
			if serr := stream.SendMsg(out); serr != nil {
				out.Abandon()
				return serr
			}
		}
		out.Abandon()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", d.Name, err)
		}
	}
}

// receive reads events until the result.
func receive(stream tallyv1.CoordinatorService_RunJobClient, onProgress func(Progress)) (*Result, error) {
	var id string
	for {
		m, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("coordinator ended the job without a result")
			}
			return nil, err
		}
		switch ev := m.GetEvent().(type) {
		case *tallyv1.RunJobResponse_Accepted:
			id = ev.Accepted.GetJobId()
		case *tallyv1.RunJobResponse_Progress:
			if onProgress != nil {
				onProgress(ProgressFromProto(id, ev.Progress))
			}
		case *tallyv1.RunJobResponse_Result:
			return ResultFromProto(id, ev.Result)
		}
	}
}

// CountTexts counts q's targets in each of texts (a unary call, for small
// texts), with the texts' lines and tokens when stats is set. The texts
// travel as protobuf strings, so they must be valid UTF-8; Run takes
// documents of any bytes.
func (c *Client) CountTexts(ctx context.Context, texts []string, q query.Count, stats bool) (*Result, error) {
	for i, t := range texts {
		if !utf8.ValidString(t) {
			return nil, fmt.Errorf("text %d is not valid UTF-8: CountTexts carries UTF-8 strings; use Run for arbitrary bytes", i)
		}
	}
	resp, err := c.api.CountTexts(ctx, &tallyv1.CountTextsRequest{
		Texts:          texts,
		Query:          &tallyv1.CountQuery{Mode: wire.ModeToProto(q.Mode), Targets: q.Targets, IgnoreCase: q.IgnoreCase},
		Stats:          stats,
		MaxResultBytes: MaxResultBytes,
	})
	if err != nil {
		return nil, typed(err)
	}
	return ResultFromProto("", &tallyv1.JobResult{Documents: resp.GetDocuments(), Total: resp.GetTotal()})
}

// ProgressFromProto converts a progress message of job id.
func ProgressFromProto(id string, p *tallyv1.JobProgress) Progress {
	return Progress{
		JobID:         id,
		BytesReceived: int64(p.GetBytesReceived()),
		BytesTotal:    int64(p.GetBytesTotal()),
		BytesCounted:  int64(p.GetBytesCounted()),
		ChunksDone:    int64(p.GetChunksDone()),
		Workers:       int(p.GetWorkers()),
		Waiting:       p.GetWaiting(),
	}
}

// ResultFromProto converts a job result message of job id, whose table may
// be packed (top_table) or not (top). A malformed packed table is an error.
func ResultFromProto(id string, m *tallyv1.JobResult) (*Result, error) {
	r := &Result{
		JobID:   id,
		Total:   documentFromProto(m.GetTotal()),
		Top:     wire.EntriesFromProto(m.GetTop()),
		Workers: int(m.GetWorkers()),
		Elapsed: time.Duration(m.GetElapsedSeconds() * float64(time.Second)),
		Stats:   m.GetTotal().GetStats().Lines != nil,
	}
	if t := m.GetTopTable(); t != nil {
		top, err := wire.TopFromTable(t)
		if err != nil {
			return nil, fmt.Errorf("decode the result of job %q: %w", id, err)
		}
		r.Top = top
	}
	for _, d := range m.GetDocuments() {
		r.Documents = append(r.Documents, documentFromProto(d))
	}
	return r, nil
}

func documentFromProto(d *tallyv1.DocumentResult) DocumentResult {
	return DocumentResult{Name: d.GetName(), Stats: wire.StatsFromProto(d.GetStats()), Counts: wire.CountsFromProto(d.GetCounts())}
}
