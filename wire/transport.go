package wire

import "google.golang.org/grpc"

// Flow control and write buffering of tally's gRPC connections, which
// carry text in 1 MiB messages. gRPC's defaults suit small messages: a
// 64 KiB window that grows from ping to ping, which on loopback leaves the
// sender waiting for window updates several times per message, and a
// 32 KiB write buffer, a write system call (and a wakeup of the reader)
// per two frames. A fixed window also bounds what a connection buffers
// that its receiver has not read: gRPC's growing one may reach 16 MiB.
const (
	// StreamWindow is the flow-control window of a stream: one message.
	StreamWindow = 1 << 20
	// ConnWindow is the window of a connection: two streams' worth.
	ConnWindow = 2 * StreamWindow
	// WriteBuffer is how many bytes a connection gathers per write. It is
	// shared: taken from a pool while there is something to write, so an
	// idle connection holds none.
	WriteBuffer = 256 << 10
)

// ServerOptions are the transport options of a tally gRPC server.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.InitialWindowSize(StreamWindow),
		grpc.InitialConnWindowSize(ConnWindow),
		grpc.WriteBufferSize(WriteBuffer),
		grpc.SharedWriteBuffer(true),
	}
}

// DialOptions are the transport options of a connection to a tally gRPC
// server.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithInitialWindowSize(StreamWindow),
		grpc.WithInitialConnWindowSize(ConnWindow),
		grpc.WithWriteBufferSize(WriteBuffer),
		grpc.WithSharedWriteBuffer(true),
	}
}
