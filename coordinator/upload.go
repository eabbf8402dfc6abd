package coordinator

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tallyv1 "tally/proto/tally/v1"
	"tally/task"
)

// upload reads documents from a RunJob request stream: a header, then
// data messages, per document.
type upload struct {
	stream tallyv1.CoordinatorService_RunJobServer
	buf    []byte                  // unread data of the current document
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
	s.buf = nil
	if h.GetLocalPath() != "" {
		return Input{}, fmt.Errorf("%w: document %q: %w", task.ErrInput, h.GetName(), errLocalPath)
	}
	return Input{Name: h.GetName(), Size: int64(h.GetSize()), Reader: s}, nil
}

// errLocalPath refuses a document header that names a local path.
var errLocalPath = errors.New("this coordinator does not read its clients' local paths: upload the document, or name it by server path or url")

func (s *upload) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.next != nil || s.ended {
			return 0, io.EOF
		}
		m, err := s.stream.Recv()
		if errors.Is(err, io.EOF) {
			s.ended = true
			continue
		}
		if status.Code(err) == codes.InvalidArgument { // a message that did not decode
			return 0, fmt.Errorf("%w: %s", task.ErrInput, status.Convert(err).Message())
		}
		if err != nil {
			return 0, fmt.Errorf("receive upload: %w", err)
		}
		switch msg := m.GetMessage().(type) {
		case *tallyv1.RunJobRequest_Document:
			s.next, s.begun = msg.Document, true
		case *tallyv1.RunJobRequest_Data:
			if !s.begun {
				return 0, fmt.Errorf("%w: data sent before any document header", task.ErrInput)
			}
			s.buf = msg.Data
		default:
			return 0, fmt.Errorf("%w: unexpected %T after the job start", task.ErrInput, msg)
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}
