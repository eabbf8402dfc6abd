package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
	"github.com/tallyhq/tally/task"
	"github.com/tallyhq/tally/wire"
)

// upload reads documents from a RunJob request stream: a header, then
// data messages, per document.
type upload struct {
	stream tallyv1.CoordinatorService_RunJobServer
	idle   *idleTimer              // runs while a receive waits
	msg    wire.ReceivedUpload     // the last message received; its Data is the current document's unread data
	next   *tallyv1.DocumentHeader // header that ended the current document
	begun  bool                    // a document header has been received
	ended  bool                    // the client closed its side
}

// Next returns the next uploaded document, whose Reader is the upload itself.
func (s *upload) Next() (Input, error) {
	for s.next == nil && !s.ended {
		// Skip what the previous document's reader left unread (nothing, normally).
		if _, err := s.Read(make([]byte, 64<<10)); err != nil && !errors.Is(err, io.EOF) {
			return Input{}, err
		}
	}
	if s.next == nil {
		return Input{}, io.EOF
	}
	h := s.next
	s.next = nil
	if h.GetLocalPath() != "" {
		return Input{}, fmt.Errorf("%w: document %q: %w", task.ErrInput, h.GetName(), errLocalPath)
	}
	return Input{Name: h.GetName(), Size: int64(h.GetSize()), Reader: s}, nil
}

// errLocalPath refuses a document header that names a local path.
var errLocalPath = errors.New("this coordinator does not read its clients' local paths: upload the document, or name it by server path or url")

func (s *upload) Read(p []byte) (int, error) {
	for s.msg.Data.Remaining() == 0 {
		if s.next != nil || s.ended {
			return 0, io.EOF
		}
		s.idle.waiting()
		err := s.stream.RecvMsg(&s.msg)
		s.idle.received()
		m := s.msg.Request
		if errors.Is(err, io.EOF) {
			s.ended = true
			continue
		}
		if status.Code(err) == codes.InvalidArgument { // a message that did not decode
			return 0, fmt.Errorf("%w: %s", task.ErrInput, status.Convert(err).Message())
		}
		if c := status.Code(err); c == codes.Canceled || c == codes.Unavailable || err != nil && s.stream.Context().Err() != nil {
			// The client's call or connection ended (a cancel, a client that
			// vanished or stopped answering keepalives): the job is
			// cancelled, whichever of this error and the call's context the
			// job hears of first.
			return 0, clientGone(err)
		}
		if err != nil {
			return 0, fmt.Errorf("receive upload: %w", err)
		}
		switch msg := m.GetMessage().(type) {
		case *tallyv1.RunJobRequest_Document:
			s.next, s.begun = msg.Document, true
		case *tallyv1.RunJobRequest_Data:
			if !s.begun {
				s.msg.Release()
				return 0, fmt.Errorf("%w: data sent before any document header", task.ErrInput)
			}
		default:
			return 0, fmt.Errorf("%w: unexpected %T after the job start", task.ErrInput, msg)
		}
	}
	return s.msg.Data.Read(p)
}

// errIdle ends a RunJob call whose client sent nothing for Config.IdleTimeout.
var errIdle = errors.New("client idle")

// idleError says that a client sent nothing for the idle timeout while the
// coordinator waited for what.
func (c *Coordinator) idleError(what string) error {
	return fmt.Errorf("%w: the client sent nothing for %s while the coordinator waited for %s (the coordinator's --idle-timeout), so the call was ended",
		errIdle, c.cfg.IdleTimeout, what)
}

// idleTimer calls expire when a receive from a client has waited longer
// than the idle timeout. It runs only while a receive waits: an upload that
// the coordinator does not read (its job's window is full) is not idle.
type idleTimer struct {
	limit time.Duration
	timer *time.Timer // nil without a limit
}

func newIdleTimer(limit time.Duration, expire func()) *idleTimer {
	t := &idleTimer{limit: limit}
	if limit > 0 {
		t.timer = time.AfterFunc(limit, expire)
		t.timer.Stop()
	}
	return t
}

// waiting starts the timer before a receive.
func (t *idleTimer) waiting() {
	if t != nil && t.timer != nil {
		t.timer.Reset(t.limit)
	}
}

// received stops the timer after a receive.
func (t *idleTimer) received() {
	if t != nil && t.timer != nil {
		t.timer.Stop()
	}
}

// stop stops the timer for good.
func (t *idleTimer) stop() { t.received() }

// clientGone is the cause of a job whose client's call ended (err says how):
// it wraps context.Canceled, so the job reads as cancelled.
func clientGone(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return fmt.Errorf("the client went away: %w", context.Canceled)
	}
	return fmt.Errorf("the client went away (%s): %w", status.Convert(err).Message(), context.Canceled)
}
