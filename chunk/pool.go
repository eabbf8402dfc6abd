package chunk

import (
	"fmt"
	"sync"
)

// Pool keeps the buffers of released chunks for the next ones. Memory the
// process touched a moment ago is in the CPU's caches and mapped already:
// reading a file into it runs about twice as fast as into fresh memory, which
// the kernel must fault in page by page and Go must clear. A Pool serves
// Readers whose Config.Size is the Pool's size; it is safe for concurrent use.
type Pool struct {
	size int // Config.Size of the Readers it serves: buffers hold size+1 bytes
	keep int // buffers kept at most; more are left to the garbage collector

	mu   sync.Mutex
	free [][]byte
}

// NewPool returns a Pool for chunks of size bytes that keeps at most keep
// buffers (keep*(size+1) bytes) between uses.
func NewPool(size, keep int) *Pool {
	return &Pool{size: size, keep: keep}
}

// get returns a buffer of length n, from the pool when one is big enough.
func (p *Pool) get(n int) []byte {
	if n <= p.size+1 {
		p.mu.Lock()
		if k := len(p.free); k > 0 {
			b := p.free[k-1]
			p.free = p.free[:k-1]
			p.mu.Unlock()
			return b[:n]
		}
		p.mu.Unlock()
	}
	return make([]byte, n, max(n, p.size+1))
}

// put keeps b for reuse unless the pool is full or b is not one of its size.
func (p *Pool) put(b []byte) {
	if cap(b) != p.size+1 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.keep {
		p.free = append(p.free, b[:0])
	}
}

// Len is how many buffers the pool holds now.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

func (p *Pool) check(cfg Config) error {
	if p != nil && p.size != cfg.Size {
		return fmt.Errorf("chunk pool for %d-byte chunks used with chunk size %d", p.size, cfg.Size)
	}
	return nil
}
