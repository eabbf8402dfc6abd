package coordinator

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/query"
	"github.com/tallyhq/tally/wire"
)

// rawCodec sends messages as the bytes they are, so that a test can send
// what a proto library would refuse to marshal (invalid UTF-8 in a string).
// Its name is "proto", so the server decodes them as protobuf.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// badUTF8 marshals m, whose string fields hold the marker "zz" where a
// test wants invalid UTF-8, and puts two bytes that are not UTF-8 there
// (the same length, so the wire format stays well formed).
func badUTF8(tb testing.TB, m proto.Message) []byte {
	tb.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Contains(b, []byte("zz")) {
		tb.Fatal("no marker zz in the message")
	}
	return bytes.ReplaceAll(b, []byte("zz"), []byte{0xff, 0xfe})
}

// rawRunJob sends msgs on a RunJob stream of conn as raw bytes, closes its
// side and returns the error the call ends with.
func rawRunJob(ctx context.Context, conn *grpc.ClientConn, msgs ...[]byte) error {
	desc := &grpc.StreamDesc{StreamName: "RunJob", ClientStreams: true, ServerStreams: true}
	stream, err := conn.NewStream(ctx, desc, tallyv1.CoordinatorService_RunJob_FullMethodName, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := stream.SendMsg(m); err != nil {
			break // the status comes from RecvMsg
		}
	}
	stream.CloseSend()
	for {
		var reply []byte
		if err := stream.RecvMsg(&reply); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the call ended without an error")
			}
			return err
		}
	}
}

// TestClientMessageErrors checks that what a client gets wrong in its
// messages is InvalidArgument, not Unknown or Internal.
func TestClientMessageErrors(t *testing.T) {
	c := MustEmbedded(t, 1, 1, nil)
	conn, err := grpc.NewClient(c.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx := testCtx(t, 20*time.Second)
	start := func(target string) *tallyv1.RunJobRequest {
		s := &tallyv1.JobStart{Spec: wire.QueryToProto(countQ(query.Token, false, target))}
		return &tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Start{Start: s}}
	}
	header := func(name string) *tallyv1.RunJobRequest {
		return &tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Document{Document: &tallyv1.DocumentHeader{Name: name}}}
	}
	valid := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("empty RunJob stream", func(t *testing.T) {
		err := rawRunJob(ctx, conn)
		wantCode(t, err, codes.InvalidArgument)
		if !strings.Contains(err.Error(), "JobStart") {
			t.Errorf("got %v, want a message that names the missing JobStart", err)
		}
	})
	t.Run("invalid UTF-8 in the job start", func(t *testing.T) {
		err := rawRunJob(ctx, conn, badUTF8(t, start("zz")))
		wantCode(t, err, codes.InvalidArgument)
		t.Log(err)
	})
	t.Run("invalid UTF-8 in a document header", func(t *testing.T) {
		data := &tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{Data: []byte("a b\n")}}
		err := rawRunJob(ctx, conn, valid(start("a")), badUTF8(t, header("zz")), valid(data))
		wantCode(t, err, codes.InvalidArgument)
		t.Log(err)
	})
	t.Run("invalid UTF-8 in CountTexts", func(t *testing.T) {
		req := badUTF8(t, &tallyv1.CountTextsRequest{Texts: []string{"zz"}, Query: wire.QueryToProto(countQ(query.Token, false, "a")).GetCount()})
		var reply []byte
		err := conn.Invoke(ctx, tallyv1.CoordinatorService_CountTexts_FullMethodName, req, &reply, grpc.ForceCodec(rawCodec{}))
		wantCode(t, err, codes.InvalidArgument)
		t.Log(err)
	})
	t.Run("a valid job still runs", func(t *testing.T) {
		data := &tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{Data: []byte("a b a\n")}}
		err := rawRunJob(ctx, conn, valid(start("a")), valid(header("d")), valid(data))
		if !strings.Contains(err.Error(), "without an error") {
			t.Errorf("got %v, want a result", err)
		}
	})
}
