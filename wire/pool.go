package wire

import (
	"math/bits"
	"sync"

	"google.golang.org/grpc/mem"
)

// Buffers is the pool that Codec and the links' transports take their
// buffers from. Unlike gRPC's default pool it does not clear a buffer it
// hands out: every taker fills what it takes before reading it (a frame
// read in full, a message marshalled or copied in), and clearing cost as
// much as the copy itself. gRPC's default pool also clears the whole of a
// buffer's class, 1 MiB for a 64 KiB upload message, on every Get.
var Buffers mem.BufferPool = newDirtyPool()

// Buffer classes are powers of two from minClass to maxClass: a chunk of
// 1 MiB and a line takes a 2 MiB buffer. Larger requests are allocated and
// left to the garbage collector.
const (
	minClass = 10 // 1 KiB, gRPC's pooling threshold
	maxClass = 27 // 128 MiB
)

// dirtyPool is a mem.BufferPool of power-of-two classes, each a sync.Pool
// (so the garbage collector empties it when it is not used).
type dirtyPool struct {
	classes [maxClass + 1]sync.Pool // *[]byte of cap 1<<i
}

func newDirtyPool() *dirtyPool { return &dirtyPool{} }

// Get returns a buffer of length n whose contents are undefined.
func (p *dirtyPool) Get(n int) *[]byte {
	c := classOf(n)
	if c > maxClass {
		b := make([]byte, n)
		return &b
	}
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<c)
	return &b
}

// Put keeps b for a later Get if its capacity is one of the classes.
func (p *dirtyPool) Put(b *[]byte) {
	c := cap(*b)
	if c < 1<<minClass || c > 1<<maxClass || c&(c-1) != 0 {
		return
	}
	*b = (*b)[:0]
	p.classes[bits.Len(uint(c))-1].Put(b)
}

// classOf is the smallest class whose buffers hold n bytes.
func classOf(n int) int {
	if n <= 1<<minClass {
		return minClass
	}
	return bits.Len(uint(n - 1))
}
