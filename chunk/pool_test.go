package chunk

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPoolReuse reads random documents through one shared Pool, holding a
// random number of chunks and releasing them in random order: the cuts must
// equal the naive reference, and a held chunk's bytes must never change
// while later chunks are read into recycled buffers.
func TestPoolReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	pools := map[int]*Pool{}
	reused := 0
	for range 3000 {
		doc := randomDoc(rng)
		cfg := randomConfig(rng)
		if pools[cfg.Size] == nil {
			pools[cfg.Size] = NewPool(cfg.Size, 4)
		}
		cfg.Pool = pools[cfg.Size]
		r, err := NewReader(readerKinds[rng.IntN(len(readerKinds))].wrap(bytes.NewReader(doc)), cfg)
		if err != nil {
			t.Fatal(err)
		}
		type held struct {
			c    Chunk
			copy string
		}
		var holding []held
		var got []string
		check := func(h held) {
			if string(h.c.Data) != h.copy {
				t.Fatalf("%+v on %q: chunk %d changed while held: %q, was %q", cfg, doc, h.c.Seq, h.c.Data, h.copy)
			}
		}
		release := func(i int) {
			h := holding[i]
			check(h)
			holding = append(holding[:i], holding[i+1:]...)
			h.c.Release()
		}
		for {
			before := cfg.Pool.Len()
			c, err := r.Next()
			if err != nil {
				break
			}
			if cfg.Pool.Len() < before {
				reused++
			}
			got = append(got, string(c.Data))
			holding = append(holding, held{c, string(c.Data)})
			for _, h := range holding {
				check(h)
			}
			for len(holding) > 0 && rng.IntN(3) > 0 {
				release(rng.IntN(len(holding)))
			}
		}
		for len(holding) > 0 {
			release(0)
		}
		want := naiveChunks(doc, cfg)
		if !equalStrings(got, want.chunks) {
			t.Fatalf("%+v on %q: chunks got %q, want %q", cfg, doc, short(got), short(want.chunks))
		}
	}
	if reused == 0 {
		t.Fatal("no chunk was read into a recycled buffer")
	}
}

// TestPoolBounds: a pool keeps at most keep buffers, only of its own size,
// and a Reader refuses a pool of another chunk size.
func TestPoolBounds(t *testing.T) {
	p := NewPool(8, 2)
	cfg := Config{Size: 8, MaxLine: 64, Pool: p}
	chunks := mustChunks(t, strings.NewReader(strings.Repeat("abc def\n", 20)), cfg)
	for _, c := range chunks {
		c.Release()
	}
	if p.Len() != 2 {
		t.Fatalf("pool holds %d buffers after %d releases, want its bound 2", p.Len(), len(chunks))
	}
	p.put(make([]byte, 3))
	if p.Len() != 2 {
		t.Fatal("pool kept a buffer of another size")
	}
	if _, err := NewReader(strings.NewReader("x"), Config{Size: 16, MaxLine: 64, Pool: p}); err == nil {
		t.Fatal("NewReader accepted a pool for 8-byte chunks with Size 16")
	}
}
