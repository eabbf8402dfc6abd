package client

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// explain rewrites what grpc-go says when its keepalive pings to the
// coordinator at addr go unanswered ("keepalive ping failed to receive ACK
// within timeout") into what happened, keeping the code (Unavailable).
func explain(addr string, err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "keepalive") {
		return err
	}
	return status.Errorf(codes.Unavailable, "coordinator at %s stopped answering (the connection went silent and a keepalive ping got no answer): %s",
		addr, st.Message())
}

// explainUnary and explainStream apply explain to every call's errors.
func explainUnary(addr string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return explain(addr, invoker(ctx, method, req, reply, cc, opts...))
	}
}

func explainStream(addr string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return nil, explain(addr, err)
		}
		return explainedStream{s, addr}, nil
	}
}

type explainedStream struct {
	grpc.ClientStream
	addr string
}

func (s explainedStream) RecvMsg(m any) error { return explain(s.addr, s.ClientStream.RecvMsg(m)) }
func (s explainedStream) SendMsg(m any) error { return explain(s.addr, s.ClientStream.SendMsg(m)) }
