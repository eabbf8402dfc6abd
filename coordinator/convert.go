package coordinator

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tally/count"
	tallyv1 "tally/proto/tally/v1"
	"tally/wire"
)

// snapshot returns the job as a message; the result only when asked, since it can be large.
func (j *job) snapshot(withResult bool) *tallyv1.Job {
	return j.snapshotAs(withResult, false)
}

// snapshotAs is snapshot with the result's table packed if packed (see
// JobStart.packed_top).
func (j *job) snapshotAs(withResult, packed bool) *tallyv1.Job {
	m, result, top, dropped := j.describe(withResult)
	if withResult {
		m.Result = resultProto(result, top, dropped, packed) // outside j.mu: a table takes milliseconds
	}
	return m
}

// describe returns j as a message without its result, and the parts of the
// result when asked.
func (j *job) describe(withResult bool) (m *tallyv1.Job, result *tallyv1.JobResult, top []count.Entry, dropped bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	m = &tallyv1.Job{
		Id:        j.id,
		State:     j.state,
		Spec:      wire.QueryToProto(j.query),
		CreatedAt: timestamppb.New(j.created),
		Progress:  proto.Clone(j.progress).(*tallyv1.JobProgress),
		Documents: uint32(len(j.docs)),
	}
	if !j.finished.IsZero() {
		m.FinishedAt = timestamppb.New(j.finished)
	}
	if j.err != nil {
		m.Error = j.err.Error()
	}
	if withResult {
		return m, j.result, j.top, j.topDropped
	}
	return m, nil, nil, false
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
		Cores:         uint32(cores),
		State:         s.state,
		InFlight:      uint32(len(s.inflight)),
		ChunksDone:    s.done,
	}
}
