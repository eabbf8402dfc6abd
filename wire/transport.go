package wire

import "google.golang.org/grpc"

// Flow control and write buffering of tally's gRPC connections, which
// carry text in 1 MiB messages. gRPC's defaults suit small messages: a
// 64 KiB window that grows from ping to ping, which on loopback leaves the
// sender waiting for window updates several times per message, and a
// 32 KiB write buffer, a write system call (and a wakeup of the reader)
// per two frames. Inside the cluster (coordinator and workers, near each
// other) the window is fixed, which also bounds what a connection buffers
// that its receiver has not read: gRPC's growing one may reach 16 MiB. The
// client API keeps the growing window: a client may be far away, where a
// fixed 1 MiB window would hold an upload to 1 MiB per round trip (20 MB/s
// at 50 ms); on loopback the two measured the same.
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

// ServerOptions are the transport options of a server for the cluster's
// own connections: a worker's.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.InitialWindowSize(StreamWindow),
		grpc.InitialConnWindowSize(ConnWindow),
		grpc.WriteBufferSize(WriteBuffer),
		grpc.SharedWriteBuffer(true),
	}
}

// APIServerOptions are the transport options of the coordinator's client
// API: the shared write buffer, and gRPC's growing window.
func APIServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.WriteBufferSize(WriteBuffer), grpc.SharedWriteBuffer(true)}
}

// APIDialOptions are the transport options of a client's connection to a
// coordinator, as APIServerOptions.
func APIDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithWriteBufferSize(WriteBuffer), grpc.WithSharedWriteBuffer(true)}
}

// DialOptions are the transport options of the cluster's own connections
// to a server of ServerOptions: the coordinator's to a worker.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithInitialWindowSize(StreamWindow),
		grpc.WithInitialConnWindowSize(ConnWindow),
		grpc.WithWriteBufferSize(WriteBuffer),
		grpc.WithSharedWriteBuffer(true),
	}
}
