package metrics

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcMetrics are the server RPC metrics, under the names and labels of
// go-grpc-middleware's Prometheus provider, so that dashboards built on it
// keep working.
type grpcMetrics struct {
	started, handled, received, sent, seconds *family
}

func newGRPCMetrics() *grpcMetrics {
	rpc := []string{"grpc_type", "grpc_service", "grpc_method"}
	g := &grpcMetrics{
		started:  newFamily("grpc_server_started_total", "Total number of RPCs started on the server.", counterKind, rpc...),
		handled:  newFamily("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.", counterKind, append(rpc, "grpc_code")...),
		received: newFamily("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", counterKind, rpc...),
		sent:     newFamily("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", counterKind, rpc...),
		seconds:  newFamily("grpc_server_handling_seconds", "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.", histogramKind, rpc...),
	}
	g.seconds.buckets = []float64{.001, .01, .1, .5, 1, 5, 30, 120}
	return g
}

func (g *grpcMetrics) families() []*family {
	return []*family{g.started, g.handled, g.received, g.sent, g.seconds}
}

// rpcType names a method's streaming as the labels do.
func rpcType(clientStream, serverStream bool) string {
	switch {
	case clientStream && serverStream:
		return "bidi_stream"
	case clientStream:
		return "client_stream"
	case serverStream:
		return "server_stream"
	}
	return "unary"
}

// splitMethod splits "/package.Service/Method".
func splitMethod(full string) (service, method string) {
	service, method, _ = strings.Cut(strings.TrimPrefix(full, "/"), "/")
	return service, method
}

// initialize creates every series of s's methods at 0, so that they show
// before the first call.
func (g *grpcMetrics) initialize(s *grpc.Server) {
	for service, info := range s.GetServiceInfo() {
		for _, m := range info.Methods {
			typ := rpcType(m.IsClientStream, m.IsServerStream)
			g.started.with(typ, service, m.Name)
			g.received.with(typ, service, m.Name)
			g.sent.with(typ, service, m.Name)
			g.seconds.with(typ, service, m.Name)
			for c := codes.OK; c <= codes.Unauthenticated; c++ {
				g.handled.with(typ, service, m.Name, c.String())
			}
		}
	}
}

// done records the end of a call that began at start.
func (g *grpcMetrics) done(typ, service, method string, start time.Time, err error) {
	g.handled.with(typ, service, method, status.Code(err).String()).add(1)
	g.seconds.observe(g.seconds.with(typ, service, method), time.Since(start).Seconds())
}

func (g *grpcMetrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	service, method := splitMethod(info.FullMethod)
	start := time.Now()
	g.started.with("unary", service, method).add(1)
	g.received.with("unary", service, method).add(1)
	resp, err := handler(ctx, req)
	if err == nil {
		g.sent.with("unary", service, method).add(1)
	}
	g.done("unary", service, method, start, err)
	return resp, err
}

func (g *grpcMetrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	service, method := splitMethod(info.FullMethod)
	typ := rpcType(info.IsClientStream, info.IsServerStream)
	start := time.Now()
	g.started.with(typ, service, method).add(1)
	err := handler(srv, &countedStream{ServerStream: ss, received: g.received.with(typ, service, method), sent: g.sent.with(typ, service, method)})
	g.done(typ, service, method, start, err)
	return err
}

// countedStream counts the messages a stream receives and sends.
type countedStream struct {
	grpc.ServerStream
	received, sent *series
}

func (s *countedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.received.add(1)
	}
	return err
}

func (s *countedStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.sent.add(1)
	}
	return err
}
