package file

import (
	"fmt"
	"os"
	"sync"
)

// A mapping is a file mapped into memory, shared by the objects open on one
// version of it: the splits of a job that several threads count at once map
// it once, as mapping and unmapping take the process's memory map for
// writing, which stalls the other threads' page faults.
type mapping struct {
	data []byte
	refs int // guarded by mappings.mu
}

// pageSize is the unit in which pages leave a mapping (Unmap).
var pageSize = int64(os.Getpagesize())

// mappings are a Volume's files mapped into memory, by version.
type mappings struct {
	mu sync.Mutex // guards by and every mapping's refs
	by map[string]*mapping
}

// acquire returns the mapping of f, whose version is key and size size,
// mapping it if no open object holds one. Each acquire needs a release.
func (ms *mappings) acquire(f *os.File, key string, size int64) (*mapping, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if m := ms.by[key]; m != nil {
		m.refs++
		return m, nil
	}
	data, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("map %d bytes: %w", size, err)
	}
	if ms.by == nil {
		ms.by = make(map[string]*mapping)
	}
	m := &mapping{data: data, refs: 1}
	ms.by[key] = m
	return m, nil
}

// release drops a reference to the mapping of key, unmapping it with the last.
func (ms *mappings) release(key string, m *mapping) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if m.refs--; m.refs > 0 {
		return
	}
	delete(ms.by, key)
	unmap(m.data)
}
