package client

import (
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestExplain(t *testing.T) {
	keepalive := status.Error(codes.Unavailable, "connection error: desc = \"keepalive ping failed to receive ACK within timeout\"")
	got := explain("10.0.0.1:7070", keepalive)
	if status.Code(got) != codes.Unavailable || !strings.Contains(got.Error(), "coordinator at 10.0.0.1:7070 stopped answering") {
		t.Errorf("got %v, want Unavailable saying the coordinator at 10.0.0.1:7070 stopped answering", got)
	}
	for _, err := range []error{nil, io.EOF, status.Error(codes.Unavailable, "connection refused"), status.Error(codes.Internal, "keepalive")} {
		if got := explain("10.0.0.1:7070", err); got != err {
			t.Errorf("explain(%v): got %v, want it unchanged", err, got)
		}
	}
}
