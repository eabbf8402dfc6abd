package coordinator

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
)

// This file and service.go are the only ones that see protobuf: the job's
// state is the coordinator's own types, converted for each reply.

// snapshot returns the job as it is now; the result only when asked,
// since it can be large.
func (j *job) snapshot(withResult bool) Snapshot {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := Snapshot{ID: j.id, State: j.state, Query: j.query, Created: j.created, Finished: j.finished,
		Progress: j.progress, Err: j.err, Documents: len(j.docs), Targets: j.targets, TableLen: j.tableLen}
	if withResult && j.result != nil {
		r := *j.result
		r.Top, r.TopDropped = j.top, j.topDropped
		s.Result = &r
	}
	return s
}

// jobToProto converts a snapshot, with the result's table packed if packed
// (see JobStart.packed_top).
func jobToProto(s Snapshot, packed bool) *tallyv1.Job {
	m := &tallyv1.Job{
		Id:        s.ID,
		State:     stateToProto(s.State),
		Spec:      wire.QueryToProto(s.Query),
		CreatedAt: timestamppb.New(s.Created),
		Progress:  progressToProto(s.Progress),
		Documents: uint32(s.Documents),
		Result:    resultToProto(s.Result, packed),
	}
	if !s.Finished.IsZero() {
		m.FinishedAt = timestamppb.New(s.Finished)
	}
	if cq := s.Query.Spec.Count; cq != nil {
		m.TargetCount, m.TargetBytes = uint32(s.Targets.count), uint64(s.Targets.bytes)
		m.TargetsSummarized = len(cq.Targets) != s.Targets.count || s.Targets.cut
	}
	if s.Err != nil {
		m.Error = s.Err.Error()
	}
	return m
}

func stateToProto(s State) tallyv1.JobState {
	switch s {
	case Running:
		return tallyv1.JobState_JOB_STATE_RUNNING
	case Succeeded:
		return tallyv1.JobState_JOB_STATE_SUCCEEDED
	case Failed:
		return tallyv1.JobState_JOB_STATE_FAILED
	case Canceled:
		return tallyv1.JobState_JOB_STATE_CANCELED
	}
	return tallyv1.JobState_JOB_STATE_UNSPECIFIED
}

func progressToProto(p Progress) *tallyv1.JobProgress {
	return &tallyv1.JobProgress{
		BytesReceived: uint64(p.BytesReceived), BytesTotal: uint64(p.BytesTotal), BytesCounted: uint64(p.BytesCounted),
		ChunksDispatched: uint64(p.ChunksDispatched), ChunksDone: uint64(p.ChunksDone),
		Workers: uint32(p.Workers), Waiting: p.Waiting,
	}
}

// resultToProto converts a result: the frequency table, kept compact (its
// tokens share one string), becomes messages only for the reply, or one
// packed message when the client asked for that.
func resultToProto(r *Result, packed bool) *tallyv1.JobResult {
	if r == nil {
		return nil
	}
	m := &tallyv1.JobResult{Total: docToProto(r.Total, r.Stats), Workers: uint32(r.Workers),
		ElapsedSeconds: r.Elapsed.Seconds(), TopDropped: r.TopDropped}
	for _, d := range r.Documents {
		m.Documents = append(m.Documents, docToProto(d, r.Stats))
	}
	if packed && r.Top != nil {
		m.TopTable = wire.TopToTable(r.Top)
	} else {
		m.Top = wire.EntriesToProto(r.Top)
	}
	return m
}

func docToProto(d DocumentResult, stats bool) *tallyv1.DocumentResult {
	return &tallyv1.DocumentResult{Name: d.Name, Stats: wire.StatsToProto(d.Stats, stats), Counts: wire.CountsToProto(d.Counts)}
}

// toProto describes the session's worker.
func (s *session) toProto() *tallyv1.Worker {
	s.mu.Lock()
	defer s.mu.Unlock()
	cores := s.cores
	if s.slots > 0 {
		cores = s.slots
	}
	return &tallyv1.Worker{
		Name:          s.name,
		Address:       s.addr,
		GossipAddress: s.gossip,
		Insecure:      s.insecure,
		Cores:         uint32(cores),
		State:         s.state,
		InFlight:      uint32(len(s.inflight)),
		ChunksDone:    s.done,
		SharedRoot:    s.storage.SharedRoot,
		S3:            s.storage.S3,
	}
}

// toStatus maps an error to a gRPC status, in one place: a bad input is
// InvalidArgument, a limit ResourceExhausted, no workers FailedPrecondition,
// an idle client DeadlineExceeded, a cancel Canceled, and anything else the code other.
func toStatus(err error, other codes.Code) error {
	code := other
	switch {
	case errors.Is(err, errTooManyJobs), errors.Is(err, errMemory), errors.Is(err, task.ErrMemory):
		code = codes.ResourceExhausted
	case errors.Is(err, task.ErrInput):
		code = codes.InvalidArgument
	case errors.Is(err, ErrNoWorkers):
		code = codes.FailedPrecondition
	case errors.Is(err, errIdle):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}

// jobError is why an ended job did not succeed, as a gRPC status.
func jobError(s Snapshot) error {
	switch {
	case s.State == Canceled:
		return status.Errorf(codes.Canceled, "job %s was cancelled", s.ID)
	case errors.Is(s.Err, task.ErrInput), errors.Is(s.Err, task.ErrMemory):
		return toStatus(fmt.Errorf("job %s: %w", s.ID, s.Err), codes.Aborted)
	}
	return toStatus(fmt.Errorf("job %s failed: %w", s.ID, s.Err), codes.Aborted)
}
