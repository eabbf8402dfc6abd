package coordinator

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	tallyv1 "tally/proto/tally/v1"
	"tally/wire"
)

// snapshot returns the job as a message; the result only when asked, since it can be large.
func (j *job) snapshot(withResult bool) *tallyv1.Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	m := &tallyv1.Job{
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
		m.Result = j.result
	}
	return m
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
