package coordinator

import (
	"context"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/wire"
)

// A request message that does not decode (invalid UTF-8 in a string field,
// a malformed wire format) is the client's error: InvalidArgument. grpc-go
// turns a codec's error into Internal and writes that status to the client
// inside RecvMsg, before a handler or interceptor sees it, so the mapping
// has to start in the codec: decoder's codec takes such a failure for a
// tally.v1 message, records it against the message and reports success;
// the service, wrapped by decoder.service, takes the record back after each
// receive and fails the call with InvalidArgument. Messages of other
// packages (health, reflection) fail as grpc-go makes them fail.

// decoder maps the decoding failures of CoordinatorService's requests to
// InvalidArgument. It is safe for concurrent use.
type decoder struct {
	failed sync.Map // message (a pointer) → why it did not decode; taken back by check
}

// codec is the server's codec: protobuf (wire.Codec, which receives into
// buffers it does not clear), with the failures above recorded.
func (d *decoder) codec() encoding.CodecV2 {
	return recordingCodec{CodecV2: wire.Codec{}, failed: &d.failed}
}

type recordingCodec struct {
	encoding.CodecV2
	failed *sync.Map
}

func (c recordingCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if _, ours := tallyMessage(v); ours && err != nil {
		c.failed.Store(v, err)
		return nil
	}
	return err
}

// tallyMessage names the tally.v1 message that v receives, if it is one.
func tallyMessage(v any) (protoreflect.FullName, bool) {
	var m protov2.Message
	switch v := v.(type) {
	case *wire.ReceivedUpload:
		m = (*tallyv1.RunJobRequest)(nil)
	case protov2.Message:
		m = v
	default:
		return "", false
	}
	d := m.ProtoReflect().Descriptor()
	return d.FullName(), d.ParentFile().Package() == "tally.v1"
}

// check is the error of a receive into m: the decoding failure recorded for
// m, as InvalidArgument, if there is one.
func (d *decoder) check(m any, err error) error {
	if bad, ok := d.failed.LoadAndDelete(m); ok {
		name, _ := tallyMessage(m)
		return status.Errorf(codes.InvalidArgument, "malformed %s from the client: %v", name, bad)
	}
	return err
}

// service returns CoordinatorService's description with every receive of a
// request message checked.
func (d *decoder) service() *grpc.ServiceDesc {
	desc := tallyv1.CoordinatorService_ServiceDesc
	desc.Methods = slices.Clone(desc.Methods)
	for i := range desc.Methods {
		h := desc.Methods[i].Handler
		desc.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
			return h(srv, ctx, func(m any) error { return d.check(m, dec(m)) }, in)
		}
	}
	desc.Streams = slices.Clone(desc.Streams)
	for i := range desc.Streams {
		h := desc.Streams[i].Handler
		desc.Streams[i].Handler = func(srv any, ss grpc.ServerStream) error { return h(srv, checkedStream{ss, d}) }
	}
	return &desc
}

// checkedStream checks each message it receives.
type checkedStream struct {
	grpc.ServerStream
	d *decoder
}

func (s checkedStream) RecvMsg(m any) error { return s.d.check(m, s.ServerStream.RecvMsg(m)) }
