package reflection

import (
	"context"
	"net"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// ask sends one request on a fresh reflection stream to a server with the
// coordinator's services, and returns the answer.
func ask(t *testing.T, req *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	tallyv1.RegisterCoordinatorServiceServer(s, tallyv1.UnimplementedCoordinatorServiceServer{})
	healthpb.RegisterHealthServer(s, health.NewServer())
	Register(s)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	return resp
}

func TestListServices(t *testing.T) {
	resp := ask(t, &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	var got []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		got = append(got, s.GetName())
	}
	want := []string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "tally.v1.CoordinatorService"}
	if !slices.Equal(got, want) {
		t.Errorf("services %q, want %q", got, want)
	}
}

// TestFilesAsProtodesc checks that the files sent for a symbol are those
// grpc-go's reflection would send, as protodesc writes them, and that they
// hold every import, so that a client can build them into a file set.
func TestFilesAsProtodesc(t *testing.T) {
	for _, symbol := range []string{
		"tally.v1.CoordinatorService", "tally.v1.CoordinatorService.CountTexts", "tally.v1.CountQuery",
		"tally.v1.WorkerService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
	} {
		t.Run(symbol, func(t *testing.T) {
			resp := ask(t, &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}})
			raw := resp.GetFileDescriptorResponse().GetFileDescriptorProto()
			if len(raw) == 0 {
				t.Fatalf("no files: %v", resp.GetErrorResponse())
			}
			set := &descriptorpb.FileDescriptorSet{}
			for _, b := range raw {
				got := &descriptorpb.FileDescriptorProto{}
				if err := proto.Unmarshal(b, got); err != nil {
					t.Fatal(err)
				}
				fd, err := protoregistry.GlobalFiles.FindFileByPath(got.GetName())
				if err != nil {
					t.Fatal(err)
				}
				if want := protodesc.ToFileDescriptorProto(fd); !proto.Equal(got, want) {
					t.Errorf("file %s differs from protodesc's", got.GetName())
				}
				set.File = append(set.File, got)
			}
			if _, err := protodesc.NewFiles(set); err != nil {
				t.Errorf("the files sent do not build: %v", err)
			}
		})
	}
}

func TestFileByFilename(t *testing.T) {
	resp := ask(t, &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: "tally/v1/coordinator.proto"}})
	if n := len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()); n != 3 {
		t.Errorf("got %d files, want coordinator.proto, common.proto and timestamp.proto", n)
	}
}

func TestNotFound(t *testing.T) {
	for _, req := range []*rpb.ServerReflectionRequest{
		{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "tally.v1.Nothing"}},
		{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: "nothing.proto"}},
	} {
		if got := ask(t, req).GetErrorResponse().GetErrorCode(); got != int32(codes.NotFound) {
			t.Errorf("%v: error code %d, want NotFound", req, got)
		}
	}
}
