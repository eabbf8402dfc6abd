package main

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// TestMessageJSON: the admin commands' JSON has count's style: proto field
// names, 64-bit numbers as numbers, enums as short lower-case words,
// timestamps in RFC 3339, unset messages and optional fields left out.
func TestMessageJSON(t *testing.T) {
	job := &tallyv1.Job{
		Id:        "abc",
		State:     tallyv1.JobState_JOB_STATE_RUNNING,
		Spec:      &tallyv1.JobSpec{Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Mode: tallyv1.Mode_MODE_WORD, Targets: []string{"the", "<a>"}}}},
		CreatedAt: timestamppb.New(time.Date(2026, 12, 5, 23, 0, 0, 500_000_000, time.UTC)),
		Progress:  &tallyv1.JobProgress{BytesCounted: 1 << 40, ChunksDone: 3},
		Result: &tallyv1.JobResult{Total: &tallyv1.DocumentResult{Name: "total", Stats: &tallyv1.Stats{Bytes: 9, Lines: proto.Uint64(0)},
			Counts: []uint64{7, 0}}},
		TargetBytes: 6,
	}
	var b bytes.Buffer
	if err := writeMessage(&b, job); err != nil {
		t.Fatal(err)
	}
	want := `{"created_at":"2026-12-05T23:00:00.5Z","documents":0,"error":"","id":"abc",` +
		`"progress":{"bytes_counted":1099511627776,"bytes_received":0,"bytes_total":0,"chunks_dispatched":0,"chunks_done":3,"waiting":"","workers":0},` +
		`"result":{"documents":[],"elapsed_seconds":0,"top":[],"top_dropped":false,"total":{"counts":[7,0],"name":"total","stats":{"bytes":9,"lines":0}},"workers":0},` +
		`"spec":{"count":{"ignore_case":false,"mode":"word","targets":["the","<a>"]},"stats":false},"state":"running","target_bytes":6,"target_count":0,"targets_summarized":false}` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
