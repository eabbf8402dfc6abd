package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/wire"
)

// service implements CoordinatorService; it maps errors to gRPC codes here and nowhere else.
type service struct {
	tallyv1.UnimplementedCoordinatorServiceServer
	c *Coordinator
}

// progressEvery is how often a running job reports progress to its client.
const progressEvery = 250 * time.Millisecond

// bigTable is the size of a frequency table (entries) past which the
// memory of its job is handed back to the system once its result is sent:
// its chunk tables, merged table and reply are tens of megabytes of
// garbage, and the jobs that follow allocate so little (their chunk
// buffers are recycled) that the collector would leave it with the process
// for a long time.
const bigTable = 1 << 16

func (s *service) RunJob(stream tallyv1.CoordinatorService_RunJobServer) error {
	first, err := s.recvStart(stream)
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "the client closed RunJob without a JobStart: its first message must be one")
	}
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "the first message of RunJob must be a start")
	}
	q, err := wire.QueryFromProto(start.GetSpec())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if start.GetChunkSize() > uint64(s.c.cfg.MaxLine) || start.GetBlockSize() > maxBlock {
		return status.Errorf(codes.InvalidArgument, "chunk size %d or block size %d is above the coordinator's limits %d and %d",
			start.GetChunkSize(), start.GetBlockSize(), s.c.cfg.MaxLine, maxBlock)
	}
	// Every stored document is found before the job starts, so that a bad
	// path or url fails the call instead of a job halfway through.
	stored, err := s.c.ServerInputs(start.GetServerPaths(), start.GetIncludeHidden())
	if err != nil {
		return toStatus(err, codes.InvalidArgument)
	}
	objects, err := s.c.URLInputs(stream.Context(), start.GetUrls(), start.GetIncludeHidden())
	if err != nil {
		return toStatus(err, codes.Unavailable)
	}
	// The job's context ends with the call's, with a cause that says the
	// client went away, whatever the transport said (a cancel, a vanished
	// client, one that stopped answering keepalives): such a job reads as
	// cancelled, not failed. An upload that stalls ends it too.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(stream.Context()))
	defer cancel(nil)
	defer context.AfterFunc(stream.Context(), func() { cancel(clientGone(context.Cause(stream.Context()))) })()
	idle := newIdleTimer(s.c.cfg.IdleTimeout, func() { cancel(s.c.idleError("its upload")) })
	defer idle.stop()
	h, err := s.c.Submit(ctx, Request{
		Query: q, ChunkSize: int(start.GetChunkSize()), BlockSize: int(start.GetBlockSize()),
		Inputs: List(append(stored, objects...), &upload{stream: stream, idle: idle}),
		Client: clientKey(stream.Context()),
	})
	if err != nil {
		return toStatus(err, codes.Internal)
	}
	j := h.j
	if err := stream.Send(&tallyv1.RunJobResponse{Event: &tallyv1.RunJobResponse_Accepted{Accepted: &tallyv1.JobAccepted{JobId: j.id}}}); err != nil {
		j.cancel(err)
		return err
	}
	err = s.report(stream, j, start.GetPackedTop(), resultLimit(start.GetMaxResultBytes()))
	if err == nil {
		<-j.fed // a job succeeds only after its upload ended
	}
	// A job that ended early returns at once: the feeding goroutine may sit
	// in stream.Recv on a stalled client, and returning ends the stream,
	// which unblocks it.
	return err
}

// recvStart receives the first message of a RunJob call, waiting at most
// Config.IdleTimeout. A receive cannot be stopped: the goroutine that waits
// on a client that sends nothing returns when the call ends, which the
// caller's return does.
func (s *service) recvStart(stream tallyv1.CoordinatorService_RunJobServer) (*tallyv1.RunJobRequest, error) {
	if s.c.cfg.IdleTimeout <= 0 {
		return stream.Recv()
	}
	type received struct {
		m   *tallyv1.RunJobRequest
		err error
	}
	got := make(chan received, 1)
	go func() {
		m, err := stream.Recv()
		got <- received{m, err}
	}()
	timer := time.NewTimer(s.c.cfg.IdleTimeout)
	defer timer.Stop()
	select {
	case r := <-got:
		return r.m, r.err
	case <-timer.C:
		return nil, toStatus(s.c.idleError("its JobStart"), codes.DeadlineExceeded)
	}
}

// defaultResultLimit is what a client that does not say accepts: gRPC's
// default receive limit, the same in every language's library.
const defaultResultLimit = 4 << 20

// resultLimit is the largest result message a client that declares n
// (JobStart.max_result_bytes, CountTextsRequest.max_result_bytes) accepts.
func resultLimit(n uint64) int {
	switch {
	case n == 0:
		return defaultResultLimit
	case n > math.MaxInt32:
		return math.MaxInt32 // gRPC's own ceiling on a message
	}
	return int(n)
}

// tooLarge is the error of a job whose result of n bytes is more than the
// limit its client accepts.
func tooLarge(id string, n, limit int) error {
	return status.Errorf(codes.ResourceExhausted, "job %s: its result is %d bytes, more than the %d this client accepts: raise the client's gRPC receive limit and set max_result_bytes in the request to it, or ask for less (fewer entries: tally top -n; fewer texts or targets)", id, n, limit)
}

// undelivered records that j's result did not reach its client, and logs it
// after the job's "job ended" line, which said succeeded.
func (s *service) undelivered(j *job, err error) {
	j.undelivered(err)
	s.c.log.Warn("job result not delivered: job recorded as failed", "job", j.id, "err", err)
}

// report sends progress until j ends, then its result (its table packed if
// packed) or its error. A result that does not reach the client, because
// it is larger than limit, the client's receive limit, or because sending
// it failed, turns the succeeded job into a failed one: a job is recorded
// as succeeded only when its answer was delivered.
func (s *service) report(stream tallyv1.CoordinatorService_RunJobServer, j *job, packed bool, limit int) error {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	progress := func() *tallyv1.RunJobResponse {
		return &tallyv1.RunJobResponse{Event: &tallyv1.RunJobResponse_Progress{Progress: progressToProto(j.snapshot(false).Progress)}}
	}
	// A first event at once, so that a client shows progress from the start.
	if err := stream.Send(progress()); err != nil {
		j.cancel(err)
		<-j.done
		return err
	}
	for {
		select {
		case <-j.done:
			snap := j.snapshot(true)
			if snap.State != Succeeded {
				if errors.Is(snap.Err, errMemory) {
					go debug.FreeOSMemory() // a table over its budget was dropped
				}
				return jobError(snap)
			}
			res := resultToProto(snap.Result, packed) // outside j.mu: a table takes milliseconds
			msg := &tallyv1.RunJobResponse{Event: &tallyv1.RunJobResponse_Result{Result: res}}
			var err error
			if n := proto.Size(msg); n > limit {
				err = tooLarge(j.id, n, limit)
				s.undelivered(j, err)
			} else if err = stream.Send(msg); err != nil {
				s.undelivered(j, fmt.Errorf("its result was not delivered: %w", err))
			}
			if snap.TableLen > bigTable {
				s.c.jobs.trimTables() // a table too large for the history goes now, not at the next job
				go debug.FreeOSMemory()
			}
			return err
		case <-tick.C:
			if err := stream.Send(progress()); err != nil {
				j.cancel(err)
				<-j.done
				return err
			}
		}
	}
}

func (s *service) CountTexts(ctx context.Context, req *tallyv1.CountTextsRequest) (*tallyv1.CountTextsResponse, error) {
	cq, err := wire.CountQueryFromProto(req.GetQuery())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	docs := make([]Input, len(req.GetTexts()))
	for i, text := range req.GetTexts() {
		docs[i] = Input{Name: strconv.Itoa(i), Size: int64(len(text)), Reader: strings.NewReader(text)}
	}
	h, err := s.c.Submit(ctx, Request{Query: query.Job{Spec: query.Spec{Count: &cq, Stats: req.GetStats()}}, Inputs: List(docs, nil)})
	if err != nil {
		return nil, toStatus(err, codes.Internal)
	}
	<-h.j.done
	snap := h.j.snapshot(true)
	if snap.State != Succeeded {
		return nil, jobError(snap)
	}
	res := resultToProto(snap.Result, false)
	resp := &tallyv1.CountTextsResponse{Documents: res.GetDocuments(), Total: res.GetTotal()}
	if n, limit := proto.Size(resp), resultLimit(req.GetMaxResultBytes()); n > limit {
		err := tooLarge(h.j.id, n, limit)
		s.undelivered(h.j, err)
		return nil, err
	}
	return resp, nil
}

func (s *service) GetJob(ctx context.Context, req *tallyv1.GetJobRequest) (*tallyv1.GetJobResponse, error) {
	j, err := s.find(req.GetJobId())
	if err != nil {
		return nil, err
	}
	return &tallyv1.GetJobResponse{Job: jobToProto(j.snapshot(true), false)}, nil
}

func (s *service) ListJobs(ctx context.Context, req *tallyv1.ListJobsRequest) (*tallyv1.ListJobsResponse, error) {
	var before uint64
	if tok := req.GetPageToken(); tok != "" {
		var err error
		if before, err = strconv.ParseUint(tok, 10, 64); err != nil || before == 0 {
			return nil, status.Errorf(codes.InvalidArgument, "page_token %q is not one this coordinator gave", tok)
		}
	}
	jobs, next := s.c.jobs.page(int(req.GetPageSize()), before)
	resp := &tallyv1.ListJobsResponse{NextPageToken: next}
	for _, j := range jobs {
		snap := j.snapshot(false)
		snap.Query = summarize(snap.Query) // a running job's too: a list stays small
		resp.Jobs = append(resp.Jobs, jobToProto(snap, false))
	}
	return resp, nil
}

func (s *service) WatchJob(req *tallyv1.WatchJobRequest, stream tallyv1.CoordinatorService_WatchJobServer) error {
	j, err := s.find(req.GetJobId())
	if err != nil {
		return err
	}
	for {
		j.mu.Lock()
		changed := j.changed
		j.mu.Unlock()
		snap := j.snapshot(true)
		if err := stream.Send(&tallyv1.WatchJobResponse{Job: jobToProto(snap, false)}); err != nil {
			return err
		}
		if snap.State != Running {
			return nil
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
		// Coalesce bursts of changes into one snapshot per interval.
		select {
		case <-time.After(progressEvery):
		case <-j.done:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
}

func (s *service) CancelJob(ctx context.Context, req *tallyv1.CancelJobRequest) (*tallyv1.CancelJobResponse, error) {
	j, err := s.find(req.GetJobId())
	if err != nil {
		return nil, err
	}
	j.cancel(fmt.Errorf("cancelled by a client: %w", context.Canceled))
	<-j.done
	return &tallyv1.CancelJobResponse{Job: jobToProto(j.snapshot(false), false)}, nil
}

func (s *service) ListWorkers(ctx context.Context, req *tallyv1.ListWorkersRequest) (*tallyv1.ListWorkersResponse, error) {
	posture := s.c.posture()
	resp := &tallyv1.ListWorkersResponse{Security: posture.Describe(), Insecure: posture.Insecure}
	if s.c.node != nil {
		resp.Coordinator = s.c.node.Name()
	}
	for _, w := range s.c.pool.list() {
		resp.Workers = append(resp.Workers, w.toProto())
	}
	return resp, nil
}

func (s *service) find(id string) (*job, error) {
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "job_id is required")
	}
	j := s.c.jobs.get(id)
	if j == nil {
		return nil, status.Errorf(codes.NotFound, "no job %q (finished jobs are forgotten after %d newer ones)", id, s.c.cfg.JobHistory)
	}
	return j, nil
}
