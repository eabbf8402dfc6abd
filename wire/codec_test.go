package wire

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// frames cuts b into pieces of n bytes, as gRPC hands a message to its
// codec (one buffer per HTTP/2 frame).
func frames(b []byte, n int) mem.BufferSlice {
	var s mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		s = append(s, mem.SliceBuffer(bytes.Clone(b[:k])))
		b = b[k:]
	}
	return s
}

func text(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "the sand of Holmes\n"[i%19]
	}
	return b
}

func sampleTask(data []byte) *tallyv1.Task {
	return &tallyv1.Task{JobId: "j-1", ChunkId: 7, Attempt: 2, Data: data,
		Spec: &tallyv1.JobSpec{Kind: &tallyv1.JobSpec_Count{Count: &tallyv1.CountQuery{Targets: []string{"Holmes", "sand"}, IgnoreCase: true}}}}
}

func TestOutgoingTaskIsProtobuf(t *testing.T) {
	for _, n := range []int{1, 100, 1 << minClass, 1<<minClass + 1, 1<<20 + 17} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := text(n)
			want, err := proto.Marshal(&tallyv1.ProcessRequest{Task: sampleTask(data)})
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			out := &OutgoingTask{Task: sampleTask(nil), Data: data, Done: func() { done++ }}
			got, err := Codec{}.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Materialize(); !bytes.Equal(b, want) {
				t.Fatalf("got %d bytes unlike protobuf's %d", len(b), len(want))
			}
			small := n <= 1<<minClass
			if wantDone := map[bool]int{true: 1, false: 0}[small]; done != wantDone {
				t.Fatalf("before the message is freed: Done called %d times, want %d", done, wantDone)
			}
			got.Free()
			out.Abandon() // the send returned: Done must still run once in all
			if done != 1 {
				t.Fatalf("after the message is freed: Done called %d times, want 1", done)
			}
		})
	}
}

func TestOutgoingTaskAbandoned(t *testing.T) {
	done := 0
	out := &OutgoingTask{Task: sampleTask(nil), Data: text(1 << 20), Done: func() { done++ }}
	out.Abandon() // a send that failed before marshalling
	out.Abandon()
	if done != 1 {
		t.Fatalf("Done called %d times, want 1", done)
	}
}

func TestOutgoingTaskRefusesDataTwice(t *testing.T) {
	out := &OutgoingTask{Task: sampleTask([]byte("x")), Data: text(4096), Done: func() {}}
	if _, err := (Codec{}).Marshal(out); err == nil {
		t.Fatal("a task with data in its message and beside it was marshalled")
	}
	out.Abandon()
}

// requests are encoded ProcessRequests, each as protobuf would decode them.
func requests(t *testing.T) map[string][]byte {
	t.Helper()
	enc := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	big := enc(&tallyv1.ProcessRequest{Task: sampleTask(text(1<<20 + 3))})
	other := enc(&tallyv1.ProcessRequest{Task: sampleTask(text(5000))})
	ref := enc(&tallyv1.ProcessRequest{Task: &tallyv1.Task{JobId: "j", ChunkId: 1, Ref: &tallyv1.BlockRef{Url: "file:///x", Size: 10, Length: 10}}})
	withUnknown := protowire.AppendTag(bytes.Clone(big), 99, protowire.VarintType)
	withUnknown = protowire.AppendVarint(withUnknown, 5)
	task := enc(sampleTask(text(3000)))
	dataTwice := protowire.AppendTag(nil, requestTaskField, protowire.BytesType)
	inner := protowire.AppendBytes(protowire.AppendTag(bytes.Clone(task), taskDataField, protowire.BytesType), []byte("last"))
	dataTwice = protowire.AppendBytes(dataTwice, inner)
	return map[string][]byte{
		"chunk":       big,
		"small chunk": enc(&tallyv1.ProcessRequest{Task: sampleTask([]byte("a\n"))}),
		"empty data":  enc(&tallyv1.ProcessRequest{Task: sampleTask(nil)}),
		"ref":         ref,
		"proof":       enc(&tallyv1.ProcessRequest{Proof: []byte("proof")}),
		"empty":       {},
		"unknown":     withUnknown,
		"task twice":  append(bytes.Clone(big), other...), // protobuf merges the two
		"data twice":  dataTwice,                          // the last wins
	}
}

func TestReceivedTaskDecodesAsProtobuf(t *testing.T) {
	for name, b := range requests(t) {
		t.Run(name, func(t *testing.T) {
			want := &tallyv1.ProcessRequest{}
			if err := proto.Unmarshal(b, want); err != nil {
				t.Fatal(err)
			}
			var got ReceivedTask
			if err := (Codec{}).Unmarshal(frames(b, 16<<10), &got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got.Request, want) {
				t.Fatalf("got %v, want %v", got.Request, want)
			}
			if inPlace := got.buf != nil; inPlace && !bytes.Equal(got.Request.GetTask().GetData(), want.GetTask().GetData()) {
				t.Fatal("data kept in place differs")
			}
			got.Release()
			got.Release()
		})
	}
}

func TestReceivedTaskMalformed(t *testing.T) {
	b := requests(t)["chunk"]
	// Every cut of a valid message, and a length that runs past the end.
	cuts := [][]byte{}
	for _, n := range []int{1, 2, 3, 10, 40, len(b) / 2, len(b) - 1} {
		cuts = append(cuts, b[:n])
	}
	long := protowire.AppendTag(nil, requestTaskField, protowire.BytesType)
	long = protowire.AppendVarint(long, 1<<40)
	cuts = append(cuts, append(long, "short"...))
	badUTF8 := protowire.AppendTag(nil, requestTaskField, protowire.BytesType)
	badUTF8 = protowire.AppendBytes(badUTF8, protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "\xff\xfe"))
	cuts = append(cuts, badUTF8)
	for i, c := range cuts {
		if proto.Unmarshal(c, &tallyv1.ProcessRequest{}) == nil {
			t.Fatalf("case %d: protobuf accepts it: not a malformed case", i)
		}
		var got ReceivedTask
		if err := (Codec{}).Unmarshal(frames(c, 7), &got); err == nil {
			t.Fatalf("case %d (%d bytes): got no error, want one", i, len(c))
		}
		if got.buf != nil || got.Request != nil {
			t.Fatalf("case %d: a failed decode kept a message or a buffer", i)
		}
	}
}

func FuzzReceivedTask(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x03, 0x2a, 0x01, 'x'})
	small, _ := proto.Marshal(&tallyv1.ProcessRequest{Task: sampleTask([]byte("sand\n"))})
	f.Add(small)
	f.Fuzz(func(t *testing.T, b []byte) {
		want := &tallyv1.ProcessRequest{}
		wantErr := proto.Unmarshal(b, want)
		var got ReceivedTask
		err := Codec{}.Unmarshal(frames(b, 5), &got)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, protobuf's %v", err, wantErr)
		}
		if err == nil && !proto.Equal(got.Request, want) {
			t.Fatalf("got %v, want %v", got.Request, want)
		}
		got.Release()
	})
}

// countingPool is a mem.BufferPool that counts the buffers handed out and
// not put back.
type countingPool struct{ out int }

func (p *countingPool) Get(n int) *[]byte {
	p.out++
	b := make([]byte, n)
	return &b
}

func (p *countingPool) Put(*[]byte) { p.out-- }

// pooledFrames is frames with each frame in a buffer of pool, as gRPC
// reads them.
func pooledFrames(b []byte, n int, pool mem.BufferPool) mem.BufferSlice {
	var s mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		s = append(s, mem.Copy(b[:k], pool))
		b = b[k:]
	}
	return s
}

func TestReceivedUploadDecodesAsProtobuf(t *testing.T) {
	enc := func(m *tallyv1.RunJobRequest) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	data := enc(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{Data: text(64 << 10)}})
	doc := enc(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Document{Document: &tallyv1.DocumentHeader{Name: "a"}}})
	cases := map[string]struct {
		b       []byte
		inPlace bool
	}{
		"data":          {data, true},
		"small data":    {enc(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{Data: text(2000)}}), true},
		"tiny data":     {enc(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{Data: []byte("x")}}), false}, // below gRPC's pooling
		"empty data":    {enc(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{}}), false},
		"document":      {doc, false},
		"data then doc": {append(bytes.Clone(data), doc...), false}, // the oneof's last member wins
		"doc then data": {append(bytes.Clone(doc), data...), false},
		"data twice":    {append(bytes.Clone(data), data[:20]...), false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			want := &tallyv1.RunJobRequest{}
			wantErr := proto.Unmarshal(c.b, want)
			var got ReceivedUpload
			pool := &countingPool{}
			in := pooledFrames(c.b, 16<<10, pool)
			err := Codec{}.Unmarshal(in, &got)
			in.Free() // as gRPC does once Unmarshal returns
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, protobuf's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			inPlace := pool.out > 0 // frames still held for Data
			if d, ok := got.Request.GetMessage().(*tallyv1.RunJobRequest_Data); ok {
				if d.Data != nil {
					t.Fatal("a data message kept its data in Request as well")
				}
				b, _ := io.ReadAll(&got.Data)
				d.Data = b
			} else if got.Data.Remaining() != 0 {
				t.Fatalf("a %T message has %d bytes of data", got.Request.GetMessage(), got.Data.Remaining())
			}
			if !proto.Equal(got.Request, want) {
				t.Fatalf("got %v, want %v", got.Request, want)
			}
			if inPlace != c.inPlace {
				t.Fatalf("kept in place: %v, want %v", inPlace, c.inPlace)
			}
			if pool.out != 0 {
				t.Fatalf("%d frame buffers still held after the data was read", pool.out)
			}
			got.Release()
		})
	}
}

func TestCodecProtobufMessages(t *testing.T) {
	for _, n := range []int{3, 1 << 20} {
		m := &tallyv1.TaskResult{JobId: "j", Freq: &tallyv1.FreqTable{Tokens: [][]byte{text(n)}, Counts: []uint64{4}}}
		bs, err := Codec{}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := proto.Marshal(m)
		if !bytes.Equal(bs.Materialize(), want) {
			t.Fatalf("%d: marshalled unlike protobuf", n)
		}
		got := &tallyv1.TaskResult{}
		if err := (Codec{}).Unmarshal(frames(want, 16<<10), got); err != nil || !proto.Equal(got, m) {
			t.Fatalf("%d: round trip gave %v, %v", n, got, err)
		}
		bs.Free()
	}
	if _, err := (Codec{}).Marshal(struct{}{}); err == nil {
		t.Fatal("marshalled a value that is not a message")
	}
	if err := (Codec{}).Unmarshal(nil, new(int)); err == nil {
		t.Fatal("unmarshalled into a value that is not a message")
	}
}

func TestDirtyPool(t *testing.T) {
	p := newDirtyPool()
	for _, n := range []int{0, 1, 1024, 1025, 1 << 20, 1<<20 + 1} {
		b := p.Get(n)
		if len(*b) != n || cap(*b) < n {
			t.Fatalf("Get(%d) gave len %d cap %d", n, len(*b), cap(*b))
		}
		p.Put(b)
	}
	odd := make([]byte, 3000)
	p.Put(&odd) // not a class: dropped, never handed out as one
	if b := p.Get(3000); cap(*b) != 4096 {
		t.Fatalf("Get(3000) gave cap %d, want 4096", cap(*b))
	}
	huge := p.Get(1<<maxClass + 1)
	if len(*huge) != 1<<maxClass+1 {
		t.Fatal("a request above the classes was cut short")
	}
}

func FuzzReceivedUpload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x1a, 0x01, 'x'})
	f.Add([]byte{0x1a, 0x02, 'x'})
	f.Add([]byte{0x1a, 0x80, 0x00, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		want := &tallyv1.RunJobRequest{}
		wantErr := proto.Unmarshal(b, want)
		var got ReceivedUpload
		err := Codec{}.Unmarshal(frames(b, 5), &got)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, protobuf's %v", err, wantErr)
		}
		if err != nil {
			return
		}
		data, _ := io.ReadAll(&got.Data)
		if d, ok := got.Request.GetMessage().(*tallyv1.RunJobRequest_Data); ok {
			d.Data = data
		} else if len(data) > 0 {
			t.Fatalf("a %T message has %d bytes of data", got.Request.GetMessage(), len(data))
		}
		if !proto.Equal(got.Request, want) {
			t.Fatalf("got %v, want %v", got.Request, want)
		}
		got.Release()
	})
}

func TestOutgoingUploadIsProtobuf(t *testing.T) {
	for _, n := range []int{0, 1, 1 << minClass, 1<<minClass + 1, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := text(n)
			want, err := proto.Marshal(&tallyv1.RunJobRequest{Message: &tallyv1.RunJobRequest_Data{Data: data}})
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			out := &OutgoingUpload{Data: data, Done: func() { done++ }}
			got, err := Codec{}.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Materialize(); !bytes.Equal(b, want) {
				t.Fatalf("got %d bytes unlike protobuf's %d", len(b), len(want))
			}
			var back ReceivedUpload
			if err := (Codec{}).Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(&back.Data); !bytes.Equal(b, data) {
				t.Fatalf("read back %d bytes unlike the %d sent", len(b), len(data))
			}
			back.Release()
			got.Free()
			out.Abandon()
			if done != 1 {
				t.Fatalf("Done called %d times, want 1", done)
			}
		})
	}
}
