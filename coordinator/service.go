package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tallyv1 "tally/proto/tally/v1"
	"tally/wire"
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
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "the first message of RunJob must be a start")
	}
	q, err := wire.QueryFromProto(start.GetSpec())
	if err == nil {
		err = s.c.checkLimits(q)
	}
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if start.GetChunkSize() > uint64(s.c.cfg.MaxLine) {
		return status.Errorf(codes.InvalidArgument, "chunk size %d is above the coordinator's limit %d", start.GetChunkSize(), s.c.cfg.MaxLine)
	}
	ccfg, err := s.c.chunkConfig(q, int(start.GetChunkSize()))
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	files, err := resolveServerPaths(s.c.root, s.c.cfg.DataDir, start.GetServerPaths(), start.GetIncludeHidden())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	j, err := s.c.admit(stream.Context(), q)
	if err != nil {
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	if err := stream.Send(&tallyv1.RunJobResponse{Event: &tallyv1.RunJobResponse_Accepted{Accepted: &tallyv1.JobAccepted{JobId: j.id}}}); err != nil {
		j.cancel(err)
		return err
	}

	// The upload runs beside the progress loop.
	uploaded := make(chan struct{})
	go func() {
		defer close(uploaded)
		upload := &streamSource{stream: stream, job: j}
		s.c.feedJob(j, &serverSource{job: j, root: s.c.root, files: files, then: upload}, ccfg)
	}()
	err = s.report(stream, j, start.GetPackedTop())
	if err == nil {
		<-uploaded // a job succeeds only after its upload ended
	}
	// A job that ended early returns at once: the upload goroutine may sit in
	// stream.Recv on a stalled client, and returning ends the stream, which
	// unblocks it.
	return err
}

// report sends progress until j ends, then its result (its table packed if
// packed) or its error.
func (s *service) report(stream tallyv1.CoordinatorService_RunJobServer, j *job, packed bool) error {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	// A first event at once, so that a client shows progress from the start.
	if err := stream.Send(&tallyv1.RunJobResponse{Event: &tallyv1.RunJobResponse_Progress{Progress: j.snapshot(false).GetProgress()}}); err != nil {
		j.cancel(err)
		<-j.done
		return err
	}
	for {
		select {
		case <-j.done:
			snap := j.snapshotAs(true, packed)
			if snap.GetState() != tallyv1.JobState_JOB_STATE_SUCCEEDED {
				return jobError(j)
			}
			res := snap.GetResult()
			err := stream.Send(&tallyv1.RunJobResponse{Event: &tallyv1.RunJobResponse_Result{Result: res}})
			if len(res.GetTop())+len(res.GetTopTable().GetCounts()) > bigTable {
				go debug.FreeOSMemory()
			}
			return err
		case <-tick.C:
			p := j.snapshot(false).GetProgress()
			if err := stream.Send(&tallyv1.RunJobResponse{Event: &tallyv1.RunJobResponse_Progress{Progress: p}}); err != nil {
				j.cancel(err)
				<-j.done
				return err
			}
		}
	}
}

// jobError maps an ended job's error to a gRPC status.
func jobError(j *job) error {
	j.mu.Lock()
	err, state := j.err, j.state
	j.mu.Unlock()
	switch {
	case state == tallyv1.JobState_JOB_STATE_CANCELED:
		return status.Errorf(codes.Canceled, "job %s was cancelled", j.id)
	case errors.Is(err, errInput):
		return status.Errorf(codes.InvalidArgument, "job %s: %v", j.id, err)
	case errors.Is(err, ErrNoWorkers):
		return status.Errorf(codes.FailedPrecondition, "job %s failed: %v", j.id, err)
	}
	return status.Errorf(codes.Aborted, "job %s failed: %v", j.id, err)
}

func (s *service) CountTexts(ctx context.Context, req *tallyv1.CountTextsRequest) (*tallyv1.CountTextsResponse, error) {
	cq, err := wire.CountQueryFromProto(req.GetQuery())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	q := wire.Query{}
	q.Spec.Count = &cq
	if err := q.Spec.Validate(); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := s.c.checkLimits(q); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	ccfg, err := s.c.chunkConfig(q, 0)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	j, err := s.c.admit(ctx, q)
	if err != nil {
		return nil, status.Error(codes.ResourceExhausted, err.Error())
	}
	s.c.feedJob(j, newTextSource(req.GetTexts()), ccfg)
	<-j.done
	snap := j.snapshot(true)
	if snap.GetState() != tallyv1.JobState_JOB_STATE_SUCCEEDED {
		return nil, jobError(j)
	}
	return &tallyv1.CountTextsResponse{Documents: snap.GetResult().GetDocuments(), Total: snap.GetResult().GetTotal()}, nil
}

// textSource serves in-request texts as documents named by their index.
type textSource struct {
	texts []string
	next  int
	cur   *bytes.Reader
}

func newTextSource(texts []string) *textSource {
	return &textSource{texts: texts, cur: bytes.NewReader(nil)}
}

func (t *textSource) nextDocument() (*tallyv1.DocumentHeader, error) {
	if t.next == len(t.texts) {
		return nil, io.EOF
	}
	text := t.texts[t.next]
	t.cur = bytes.NewReader([]byte(text))
	t.next++
	return &tallyv1.DocumentHeader{Name: strconv.Itoa(t.next - 1), Size: uint64(len(text))}, nil
}

func (t *textSource) Read(p []byte) (int, error) { return t.cur.Read(p) }

func (s *service) GetJob(ctx context.Context, req *tallyv1.GetJobRequest) (*tallyv1.GetJobResponse, error) {
	j, err := s.find(req.GetJobId())
	if err != nil {
		return nil, err
	}
	return &tallyv1.GetJobResponse{Job: j.snapshot(true)}, nil
}

func (s *service) ListJobs(ctx context.Context, req *tallyv1.ListJobsRequest) (*tallyv1.ListJobsResponse, error) {
	resp := &tallyv1.ListJobsResponse{}
	for _, j := range s.c.jobs.list() {
		resp.Jobs = append(resp.Jobs, j.snapshot(false))
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
		if err := stream.Send(&tallyv1.WatchJobResponse{Job: snap}); err != nil {
			return err
		}
		if snap.GetState() != tallyv1.JobState_JOB_STATE_RUNNING {
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
	return &tallyv1.CancelJobResponse{Job: j.snapshot(false)}, nil
}

func (s *service) ListWorkers(ctx context.Context, req *tallyv1.ListWorkersRequest) (*tallyv1.ListWorkersResponse, error) {
	resp := &tallyv1.ListWorkersResponse{}
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
