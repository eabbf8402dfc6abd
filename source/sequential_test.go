package source

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/tallyhq/tally/chunk"
	"github.com/tallyhq/tally/task"
)

// memObject is an Object in memory that counts its requests and can stream.
type memObject struct {
	data              []byte
	reads, streams    int
	failStream        bool
	streamed, readAts int64 // bytes served each way
}

func (m *memObject) Size() int64  { return int64(len(m.data)) }
func (m *memObject) Close() error { return nil }
func (m *memObject) ReadAt(p []byte, off int64) (int, error) {
	m.reads++
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	m.readAts += int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (m *memObject) StreamRange(off, n int64) (io.ReadCloser, error) {
	m.streams++
	if m.failStream {
		return nil, errors.New("stream refused")
	}
	m.streamed += n
	return io.NopCloser(bytes.NewReader(m.data[off : off+n])), nil
}

// TestSequentialSplits reads random documents' splits in ranges, as a
// worker does, through a Sequential reader: the same bytes as direct
// reads, one stream per split, and few fallback reads.
func TestSequentialSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		n := 1 + rng.IntN(200000)
		doc := make([]byte, n)
		for i := range doc {
			doc[i] = "ab cd\nxyz \n"[rng.IntN(11)]
			if rng.IntN(2000) == 0 {
				for j := i; j < min(n, i+rng.IntN(30000)); j++ {
					doc[j] = 'x' // a long line now and then
				}
			}
		}
		block := int64(1 + rng.IntN(50000))
		read := 1 + rng.IntN(int(block))
		ref := task.Ref{URL: "s3://b/k", Size: int64(n), Cut: task.Cut{ReadSize: read, MaxLine: max(n+1, read)}}
		obj := &memObject{data: doc}
		var joined []byte
		for lo := int64(0); lo < int64(n); lo += block {
			ref.Offset, ref.Length = lo, min(block, int64(n)-lo)
			seq := Sequential(obj, max(lo-1, 0), ref.End()+lookback)
			for a := lo; a < ref.End(); a += int64(read) {
				data, _, err := ReadRange(seq, ref, a, min(a+int64(read), ref.End()), nil)
				if err != nil {
					t.Fatalf("trial %d: %v", trial, err)
				}
				want, _, _, _ := chunk.ReadRange(bytes.NewReader(doc), int64(n), a, min(a+int64(read), ref.End()), ref.Cut.Config(), nil)
				if !bytes.Equal(data, want) {
					t.Fatalf("trial %d: range [%d, +%d): got %d bytes, want %d", trial, a, read, len(data), len(want))
				}
				joined = append(joined, data...)
			}
			seq.Close()
		}
		if !bytes.Equal(joined, doc) {
			t.Fatalf("trial %d: the splits do not re-join to the document", trial)
		}
		if splits := (int64(n) + block - 1) / block; int64(obj.streams) > splits {
			t.Fatalf("trial %d: %d streams for %d splits", trial, obj.streams, splits)
		}
		if obj.readAts > int64(n)/4+lookback*int64(obj.streams) {
			t.Errorf("trial %d: %d bytes read by fallback ReadAt of %d (%d streamed)", trial, obj.readAts, n, obj.streamed)
		}
	}
}

// TestSequentialFallsBack: a store that refuses to stream is read at offsets.
func TestSequentialFallsBack(t *testing.T) {
	obj := &memObject{data: []byte("the cat\nsat on\nthe mat\n"), failStream: true}
	seq := Sequential(obj, 0, obj.Size())
	p := make([]byte, 7)
	for _, off := range []int64{0, 8} {
		if n, err := seq.ReadAt(p, off); err != nil || string(p[:n]) != string(obj.data[off:off+7]) {
			t.Fatalf("read at %d: got %q %v, want %q from a read at the offset", off, p[:n], err, obj.data[off:off+7])
		}
	}
	if obj.streams != 1 || obj.reads != 2 {
		t.Errorf("got %d streams and %d reads at offsets, want 1 stream tried and 2 reads", obj.streams, obj.reads)
	}
}
