package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// Codec is gRPC's protobuf codec without the copies that cost a link
// between coordinator and worker more CPU than counting the text: it
// writes the same protobuf, so any gRPC tool still talks to either side.
//
//   - A message is marshalled into, and received into, a buffer of Buffers,
//     which is not cleared first.
//   - An OutgoingTask is sent with its Data in place: gRPC writes the
//     chunk's bytes straight from the coordinator's buffer into its frames,
//     and OutgoingTask.Done says when it no longer reads them.
//   - A ReceivedTask keeps its Data in the buffer the message was
//     gathered into, instead of protobuf's copy of it, and gives it back
//     to Buffers with Release once the chunk is counted. A ReceivedUpload
//     leaves an upload's data in the buffers of the frames it came in.
//
// Any other message is protobuf as gRPC's own codec does it.
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

// Name is "proto": the codec speaks protobuf, as gRPC's default one does.
func (Codec) Name() string { return "proto" }

// Marshal encodes v, an OutgoingTask, an OutgoingUpload or a protobuf message.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *OutgoingTask:
		return m.marshal()
	case *OutgoingUpload:
		return m.marshal(), nil
	case proto.Message:
		size := proto.Size(m)
		if size <= 1<<minClass {
			b, err := proto.MarshalOptions{UseCachedSize: true}.Marshal(m)
			return mem.BufferSlice{mem.SliceBuffer(b)}, err
		}
		buf := Buffers.Get(size)
		b, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend((*buf)[:0], m)
		if err != nil {
			Buffers.Put(buf)
			return nil, err
		}
		*buf = b
		return mem.BufferSlice{mem.NewBuffer(buf, Buffers)}, nil
	}
	return nil, fmt.Errorf("wire codec cannot marshal %T", v)
}

// Unmarshal decodes data into v, a ReceivedTask or a protobuf message.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *ReceivedTask:
		return m.unmarshal(data)
	case *ReceivedUpload:
		return m.unmarshal(data)
	case proto.Message:
		buf := data.MaterializeToBuffer(Buffers)
		defer buf.Free()
		return proto.Unmarshal(buf.ReadOnlyData(), m)
	}
	return fmt.Errorf("wire codec cannot unmarshal into %T", v)
}

// Protobuf field numbers that Codec splices: ProcessRequest.task and Task.data.
const (
	requestTaskField = 1
	taskDataField    = 5
)

// OutgoingTask is a ProcessRequest that carries a task, whose Data Codec
// sends without copying it first.
type OutgoingTask struct {
	// Task is the task without its Data (Task.Data must be empty).
	Task *tallyv1.Task
	// Data is the task's text.
	Data []byte
	// Done is called once, when gRPC no longer reads Data: after the
	// message is written out or dropped. The caller must not change Data
	// before.
	Done func()

	taken bool // Marshal handed Data to gRPC, which calls Done
}

// Abandon calls Done unless Marshal handed Data to gRPC. Call it after the
// send returns, whatever its error: a send that failed before marshalling
// never reads Data.
func (o *OutgoingTask) Abandon() {
	if !o.taken {
		o.taken = true
		o.Done()
	}
}

// marshal writes the request as protobuf does (the task's fields in order,
// data last), with Data as a buffer of its own.
func (o *OutgoingTask) marshal() (mem.BufferSlice, error) {
	if len(o.Task.GetData()) > 0 {
		return nil, errors.New("outgoing task carries data in its message as well as beside it")
	}
	fields, err := proto.Marshal(o.Task)
	if err != nil {
		return nil, err
	}
	taskLen := len(fields) + protowire.SizeTag(taskDataField) + protowire.SizeBytes(len(o.Data))
	head := make([]byte, 0, protowire.SizeTag(requestTaskField)+protowire.SizeVarint(uint64(taskLen))+taskLen-len(o.Data))
	head = protowire.AppendTag(head, requestTaskField, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(taskLen))
	head = append(head, fields...)
	head = protowire.AppendTag(head, taskDataField, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(len(o.Data)))
	var msg mem.BufferSlice
	msg, o.taken = lend(head, o.Data, o.Done)
	return msg, nil
}

// lend returns the message head then data, with data as a buffer of its
// own that gRPC calls done for once it no longer reads it; taken is true
// then. A small data is copied after head instead, and done called now.
func lend(head, data []byte, done func()) (msg mem.BufferSlice, taken bool) {
	if len(data) <= 1<<minClass { // gRPC would not free a buffer this small: copy it
		head = append(head, data...)
		done()
		return mem.BufferSlice{mem.SliceBuffer(head)}, true
	}
	return mem.BufferSlice{mem.SliceBuffer(head), mem.NewBuffer(&data, doneFunc(done))}, true
}

// OutgoingUpload is a RunJobRequest that carries an upload's data, which
// Codec sends without copying it first.
type OutgoingUpload struct {
	// Data is the data message's data.
	Data []byte
	// Done is called once, when gRPC no longer reads Data, as for an
	// OutgoingTask.
	Done func()

	taken bool // Marshal handed Data to gRPC, which calls Done
}

// Abandon calls Done unless Marshal handed Data to gRPC. Call it after the
// send returns, whatever its error.
func (o *OutgoingUpload) Abandon() {
	if !o.taken {
		o.taken = true
		o.Done()
	}
}

// marshal writes the request as protobuf does: the data field alone.
func (o *OutgoingUpload) marshal() mem.BufferSlice {
	head := make([]byte, 0, maxUploadHead)
	head = protowire.AppendTag(head, uploadDataField, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(len(o.Data)))
	var msg mem.BufferSlice
	msg, o.taken = lend(head, o.Data, o.Done)
	return msg
}

// doneFunc is a mem.BufferPool of one buffer: Put calls it. gRPC puts a
// buffer back once its last reference is freed.
type doneFunc func()

func (f doneFunc) Get(n int) *[]byte {
	b := make([]byte, n)
	return &b
}

func (f doneFunc) Put(*[]byte) { f() }

// received is the buffer a message was gathered into, which a field of
// the decoded message lies in.
type received struct {
	buf *[]byte // nil when nothing lies in it
}

// Release gives the buffer of the message's bytes back for a later
// message: call it once nothing reads them any more. It is safe to call
// twice.
func (r *received) Release() {
	if r.buf != nil {
		Buffers.Put(r.buf)
		r.buf = nil
	}
}

// decode gathers data into one buffer and calls split on it, which decodes
// it and says whether the message it returns lies in the buffer.
func (r *received) decode(data mem.BufferSlice, split func([]byte) (inPlace bool, err error)) error {
	r.Release()
	buf := Buffers.Get(data.Len())
	data.CopyTo(*buf)
	inPlace, err := split(*buf)
	if err != nil || !inPlace {
		Buffers.Put(buf)
		return err
	}
	r.buf = buf
	return nil
}

// ReceivedTask is a ProcessRequest as Codec receives it: the task's Data
// lies in a buffer of Buffers, which Release gives back.
type ReceivedTask struct {
	Request *tallyv1.ProcessRequest
	received
}

func (r *ReceivedTask) unmarshal(data mem.BufferSlice) error {
	return r.decode(data, func(b []byte) (inPlace bool, err error) {
		r.Request, inPlace, err = splitRequest(b)
		return inPlace, err
	})
}

// ReceivedUpload is a RunJobRequest as Codec receives it. The data of a
// data message stays in the buffers gRPC read its frames into: Data reads
// it from there into the caller's buffer, which spares a copy of every
// uploaded byte into one buffer first, and frees each frame's buffer once
// it is read. Request's data is then empty: read it from Data.
type ReceivedUpload struct {
	Request *tallyv1.RunJobRequest
	// Data reads a data message's data; it is empty for any other message.
	Data mem.Reader
}

// Release frees the data not read yet. It is safe to call twice.
func (r *ReceivedUpload) Release() { r.Data.Close() }

func (r *ReceivedUpload) unmarshal(data mem.BufferSlice) error {
	r.Release()
	r.Request = nil
	if off, ok := uploadDataOffset(data); ok {
		r.Request = &tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{}}
		r.Data.Reset(data)
		var head [maxUploadHead]byte
		r.Data.Read(head[:off])
		return nil
	}
	// Anything else (a header, or data that protobuf would decode
	// otherwise: a field repeated, another member of the oneof) is
	// protobuf's to decode.
	buf := data.MaterializeToBuffer(Buffers)
	defer buf.Free()
	req := &tallyv1.RunJobRequest{}
	if err := proto.Unmarshal(buf.ReadOnlyData(), req); err != nil {
		return err
	}
	if d, ok := req.GetMessage().(*tallyv1.RunJobRequest_Data); ok {
		r.Data.Reset(mem.BufferSlice{mem.SliceBuffer(d.Data)})
		d.Data = nil
	}
	r.Request = req
	return nil
}

// uploadDataField is the field number of RunJobRequest.data.
const uploadDataField = 3

// maxUploadHead is the most bytes a data field's tag and length take.
const maxUploadHead = 1 + binary.MaxVarintLen64

// uploadDataOffset returns where the data starts in an encoded
// RunJobRequest that is exactly one data field: its tag and length, then
// the data to the end. ok is false for any other message.
func uploadDataOffset(data mem.BufferSlice) (off int, ok bool) {
	var head [maxUploadHead]byte
	n := 0
	for _, b := range data {
		if n += copy(head[n:], b.ReadOnlyData()); n == len(head) {
			break
		}
	}
	num, typ, tagLen := protowire.ConsumeTag(head[:n])
	if tagLen < 0 || num != uploadDataField || typ != protowire.BytesType {
		return 0, false
	}
	size, sizeLen := protowire.ConsumeVarint(head[tagLen:n])
	if sizeLen < 0 {
		return 0, false
	}
	off = tagLen + sizeLen
	return off, size == uint64(data.Len()-off)
}

// splitRequest decodes a ProcessRequest with its task's data aliasing b.
// inPlace is false when it does not (a field repeated, decoded by proto).
func splitRequest(b []byte) (req *tallyv1.ProcessRequest, inPlace bool, err error) {
	rest, taskBytes, ok, err := cutField(b, requestTaskField)
	if err != nil {
		return nil, false, err
	}
	req = &tallyv1.ProcessRequest{}
	if !ok {
		return req, false, proto.Unmarshal(b, req)
	}
	if err := proto.Unmarshal(rest, req); err != nil {
		return nil, false, err
	}
	if taskBytes == nil {
		return req, false, nil
	}
	restTask, data, ok, err := cutField(taskBytes, taskDataField)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return req, false, proto.Unmarshal(b, req)
	}
	t := &tallyv1.Task{}
	if err := proto.Unmarshal(restTask, t); err != nil {
		return nil, false, err
	}
	t.Data = data
	req.Task = t
	return req, len(data) > 0, nil
}

// cutField splits the encoded message b into the value of its
// length-delimited field num (nil when absent) and its other fields. ok is
// false when the field occurs more than once: protobuf merges, or keeps
// the last, and the caller leaves that to it.
func cutField(b []byte, num protowire.Number) (rest, value []byte, ok bool, err error) {
	rest = make([]byte, 0, min(len(b), 256))
	for len(b) > 0 {
		n, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen < 0 {
			return nil, nil, false, fmt.Errorf("malformed message: %w", protowire.ParseError(tagLen))
		}
		valLen := protowire.ConsumeFieldValue(n, typ, b[tagLen:])
		if valLen < 0 {
			return nil, nil, false, fmt.Errorf("malformed message: %w", protowire.ParseError(valLen))
		}
		if n == num && typ == protowire.BytesType {
			if value != nil {
				return nil, nil, false, nil
			}
			value, _ = protowire.ConsumeBytes(b[tagLen:])
			if value == nil {
				value = b[tagLen:tagLen] // present but empty
			}
		} else {
			rest = append(rest, b[:tagLen+valLen]...)
		}
		b = b[tagLen+valLen:]
	}
	return rest, value, true, nil
}
