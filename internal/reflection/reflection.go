// Package reflection serves gRPC server reflection (grpc.reflection.v1),
// so that grpcurl and its kind can list and call a server's services
// without their .proto files. It answers from the descriptors that the
// generated code embeds, serialised as they are, instead of grpc-go's
// reflection package, which converts them with protodesc: linking protodesc
// (and descriptorpb, and the editions defaults it decodes) cost every start
// of the tally binary, CLI runs included, about half a millisecond.
package reflection

import (
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// legacyMessage is a generated message with the deprecated Descriptor
// method, which returns its file's FileDescriptorProto, gzipped.
type legacyMessage interface {
	protoreflect.ProtoMessage
	Descriptor() ([]byte, []int)
}

// known holds a message of every .proto file that the servers' services
// use, directly or by import: the files reflection can send.
var known = []legacyMessage{
	&tallyv1.CountQuery{}, &tallyv1.CountTextsRequest{}, &tallyv1.ProcessRequest{},
	&timestamppb.Timestamp{}, &healthpb.HealthCheckRequest{}, &rpb.ServerReflectionRequest{},
}

// files maps a file's path to its serialised FileDescriptorProto; built on
// first use.
var files = sync.OnceValues(func() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, m := range known {
		gz, _ := m.Descriptor()
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return nil, err
		}
		out[m.ProtoReflect().Descriptor().ParentFile().Path()] = raw
	}
	return out, nil
})

// Register registers the reflection service on s. Call it after the other
// services are registered: it lists those of s at each request.
func Register(s *grpc.Server) {
	rpb.RegisterServerReflectionServer(s, &server{s: s})
}

type server struct {
	rpb.UnimplementedServerReflectionServer
	s *grpc.Server
}

// ServerReflectionInfo answers each request of the stream in turn.
func (r *server) ServerReflectionInfo(stream rpb.ServerReflection_ServerReflectionInfoServer) error {
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		resp := &rpb.ServerReflectionResponse{ValidHost: req.GetHost(), OriginalRequest: req}
		switch q := req.GetMessageRequest().(type) {
		case *rpb.ServerReflectionRequest_ListServices:
			resp.MessageResponse = &rpb.ServerReflectionResponse_ListServicesResponse{ListServicesResponse: r.services()}
		case *rpb.ServerReflectionRequest_FileByFilename:
			answer(resp)(withImports(q.FileByFilename))
		case *rpb.ServerReflectionRequest_FileContainingSymbol:
			answer(resp)(containing(q.FileContainingSymbol))
		default:
			answer(resp)(nil, status.Errorf(codes.Unimplemented, "%T is not answered by this server", q))
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func (r *server) services() *rpb.ListServiceResponse {
	var names []string
	for name := range r.s.GetServiceInfo() {
		names = append(names, name)
	}
	slices.Sort(names)
	out := &rpb.ListServiceResponse{}
	for _, n := range names {
		out.Service = append(out.Service, &rpb.ServiceResponse{Name: n})
	}
	return out
}

// containing returns the file that defines symbol (a service, method,
// message, field or enum), with its imports.
func containing(symbol string) ([][]byte, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(symbol))
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "symbol %q: %v", symbol, err)
	}
	return withImports(d.ParentFile().Path())
}

// withImports returns the file at path and every file it imports,
// directly or not, each once, the file first.
func withImports(path string) ([][]byte, error) {
	raw, err := files()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "read the embedded descriptors: %v", err)
	}
	var out [][]byte
	seen := map[string]bool{}
	var add func(path string) error
	add = func(path string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		b, ok := raw[path]
		fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if !ok || err != nil {
			return status.Errorf(codes.NotFound, "file %q is not served", path)
		}
		out = append(out, b)
		imports := fd.Imports()
		for i := range imports.Len() {
			if err := add(imports.Get(i).Path()); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(path); err != nil {
		return nil, err
	}
	return out, nil
}

// answer returns a function that puts descriptors, or the error, in resp.
func answer(resp *rpb.ServerReflectionResponse) func([][]byte, error) {
	return func(descriptors [][]byte, err error) {
		if err != nil {
			s := status.Convert(err)
			resp.MessageResponse = &rpb.ServerReflectionResponse_ErrorResponse{ErrorResponse: &rpb.ErrorResponse{ErrorCode: int32(s.Code()), ErrorMessage: s.Message()}}
			return
		}
		resp.MessageResponse = &rpb.ServerReflectionResponse_FileDescriptorResponse{FileDescriptorResponse: &rpb.FileDescriptorResponse{FileDescriptorProto: descriptors}}
	}
}
