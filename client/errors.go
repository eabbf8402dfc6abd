package client

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors a caller may branch on: every error the Client's methods return
// from the coordinator or the connection is an *Error, which errors.Is
// matches against the sentinel of its kind.
var (
	ErrNotFound           = errors.New("not found")               // no such job, server path or object
	ErrInvalidArgument    = errors.New("invalid argument")        // a bad target, query or input
	ErrCanceled           = errors.New("cancelled")               // the call or the job was cancelled
	ErrUnavailable        = errors.New("coordinator unavailable") // cannot reach it, or it went away
	ErrResourceExhausted  = errors.New("resource exhausted")      // a limit: jobs at once, targets, memory
	ErrPermissionDenied   = errors.New("permission denied")       // no or a wrong token or certificate
	ErrFailedPrecondition = errors.New("failed precondition")     // e.g. no worker joined in time
	ErrDeadlineExceeded   = errors.New("deadline exceeded")       // the call's deadline, or an idle upload
)

// Error is an error answered by the coordinator or by the connection to
// it: its gRPC code and message. status.FromError and status.Code read it
// as the status it came from.
type Error struct {
	Code    codes.Code
	Message string
	err     error // as gRPC returned it, with any context wrapped around it
}

func (e *Error) Error() string { return e.err.Error() }

// Unwrap lets errors.Is match the sentinel of e's code, and the error gRPC returned.
func (e *Error) Unwrap() []error {
	if s := sentinel(e.Code); s != nil {
		return []error{e.err, s}
	}
	return []error{e.err}
}

// GRPCStatus is the status e came from.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

func sentinel(c codes.Code) error {
	switch c {
	case codes.NotFound:
		return ErrNotFound
	case codes.InvalidArgument, codes.OutOfRange:
		return ErrInvalidArgument
	case codes.Canceled:
		return ErrCanceled
	case codes.Unavailable:
		return ErrUnavailable
	case codes.ResourceExhausted:
		return ErrResourceExhausted
	case codes.PermissionDenied, codes.Unauthenticated:
		return ErrPermissionDenied
	case codes.FailedPrecondition:
		return ErrFailedPrecondition
	case codes.DeadlineExceeded:
		return ErrDeadlineExceeded
	}
	return nil
}

// typed makes err, if it carries a gRPC status, an *Error; nil stays nil
// and other errors (a document that cannot be read) stay as they are.
func typed(err error) error {
	var already *Error
	if err == nil || errors.As(err, &already) {
		return err
	}
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &Error{Code: s.Code(), Message: s.Message(), err: err}
}
