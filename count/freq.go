package count

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"github.com/tallyhq/tally/query"
)

// Freq is a token -> count table. Its zero value is an empty table, ready to
// use. It is not safe for concurrent use: parallel work fills one Freq per
// goroutine and merges them afterwards. Counts are never negative and stay
// below 2^56 (a token in 64 PB of text); Add panics on one that would not.
//
// It is two open-addressing hash tables that allocate nothing per token: one
// for tokens of up to 16 bytes, which it keeps in the slots themselves as two
// little-endian words (nearly all words of a text are that short), and one
// for longer tokens, whose bytes it keeps one after another in an arena.
type Freq struct {
	// short is the table of short tokens, a power of two long and at most
	// half full; collisions probe linearly.
	short  []shortSlot
	nshort int
	// slots is the index of the long tokens, a power of two long and at
	// most half full: 0 is empty, otherwise the low 32 bits of the token's
	// hash and, below them, its index in ents plus one.
	slots []uint64
	ents  []freqEntry // in insertion order
	arena []byte      // the long tokens' bytes, one after another
	// limit, when above 0, bounds the memory the table may grow to (see
	// Bytes); a token that would grow it beyond is dropped and over set.
	// Only a chunk's table has one (Program.RunLimited).
	limit int64
	over  bool
}

// shortSlot holds a token of 1 to 16 bytes: lo and hi have its bytes in
// little-endian order, zero above them; meta is its length << 56 | its
// count, 0 when empty.
type shortSlot struct {
	lo, hi, meta uint64
}

// maxShort is the longest token the short table holds.
const maxShort = 16

// countBits masks a slot's count; the largest count a Freq holds is
// query.MaxCount, and Add panics beyond it, so counts from outside (a
// worker's result) must be checked against it first.
const countBits = query.MaxCount

// freqEntry is one token: its bytes are arena[off:off+n].
type freqEntry struct {
	hash   uint64
	count  int64
	off, n int
}

// NewFreq returns an empty table.
func NewFreq() *Freq { return &Freq{} }

// Add adds n to the count of token. The table keeps its own copy of the bytes.
func (f *Freq) Add(token []byte, n int64) {
	if len(token) <= maxShort {
		lo, hi := loadWords(token)
		f.addShort(lo, hi, len(token), n)
		return
	}
	f.add(token, hashToken(token), n)
}

// loadWords returns the bytes of p (at most 16) as two little-endian words.
func loadWords(p []byte) (lo, hi uint64) {
	if len(p) > 8 {
		return binary.LittleEndian.Uint64(p), loadWord(p[8:])
	}
	return loadWord(p), 0
}

// loadWord returns the bytes of p (at most 8) as a little-endian word.
func loadWord(p []byte) uint64 {
	var x uint64
	for i := len(p) - 1; i >= 0; i-- {
		x = x<<8 | uint64(p[i])
	}
	return x
}

// addShort adds n to the count of the token of size bytes held in lo, hi.
func (f *Freq) addShort(lo, hi uint64, size int, n int64) {
	if uint64(n) > countBits {
		panic(fmt.Sprintf("count: token count %d out of range", n))
	}
	if f.nshort >= len(f.short)/2 && !f.growShort() {
		return
	}
	mask := len(f.short) - 1
	key := uint64(size) << 56
	for i := home(hashWords(lo, hi, size), len(f.short)); ; i = (i + 1) & mask {
		s := &f.short[i]
		if s.meta == 0 {
			s.lo, s.hi, s.meta = lo, hi, key|uint64(n)
			f.nshort++
			return
		}
		if s.lo == lo && s.hi == hi && s.meta&^countBits == key {
			if s.meta&countBits+uint64(n) > countBits {
				panic("count: token count overflow")
			}
			s.meta += uint64(n)
			return
		}
	}
}

// home is the slot where a key of hash h starts its probe in a table of size
// slots, a power of two: the hash's top bits. Tables of any size then keep
// keys in the same order, so that merging one table into another, or into a
// larger index, walks both from start to end instead of at random.
func home(h uint64, size int) int {
	return int(h >> (64 - bits.TrailingZeros(uint(size))))
}

func hashWords(lo, hi uint64, size int) uint64 {
	return mix(lo^seedLo, hi^(seedHi+uint64(size)))
}

// The hashes of the frequency tables are seeded at random in each process,
// as Go's maps and wyhash's seed are: with fixed constants, anyone can craft
// a text of tokens that share their slot's probe sequence and turn each
// insert into a walk of the whole table (hash flooding). The seeds are
// never 0 in the mixing's sense: each is the constant it replaces, XORed
// with random bits. Tables of one process share them, which the merges and
// resizes rely on (keys keep their order across tables of any size).
var seedLo, seedHi, seedMix = newSeeds()

func newSeeds() (lo, hi, m uint64) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("count: no random hash seed: " + err.Error())
	}
	return 0xa0761d6478bd642f ^ binary.LittleEndian.Uint64(b[:]),
		0xe7037ed1a0b428db ^ binary.LittleEndian.Uint64(b[8:]),
		(0xa0761d6478bd642f ^ 0xe7037ed1a0b428db) ^ binary.LittleEndian.Uint64(b[16:])
}

// growShort doubles the short table, unless that would take it beyond
// its limit: it then marks the table over and reports false.
func (f *Freq) growShort() bool {
	size := max(2*len(f.short), 1024)
	if f.beyond(int64(size) * int64(unsafe.Sizeof(shortSlot{}))) {
		return false
	}
	f.resizeShort(size)
	return true
}

// beyond reports whether growing by n more bytes would take the table
// beyond its limit, and marks it over if so.
func (f *Freq) beyond(n int64) bool {
	if f.limit > 0 && f.Bytes()+n > f.limit {
		f.over = true
	}
	return f.over
}

// Over reports whether the table dropped tokens because it reached its
// limit: its counts are then incomplete.
func (f *Freq) Over() bool { return f != nil && f.over }

// resizeShort rebuilds the short table with size slots, a power of two.
func (f *Freq) resizeShort(size int) {
	old := f.short
	f.short = makePopulated[shortSlot](size, size)
	mask := size - 1
	for _, s := range old {
		if s.meta == 0 {
			continue
		}
		i := home(hashWords(s.lo, s.hi, int(s.meta>>56)), size)
		for f.short[i].meta != 0 {
			i = (i + 1) & mask
		}
		f.short[i] = s
	}
}

func (f *Freq) add(token []byte, h uint64, n int64) {
	if uint64(n) > countBits {
		panic(fmt.Sprintf("count: token count %d out of range", n))
	}
	if len(f.ents) >= len(f.slots)/2 {
		if f.beyond(int64(max(2*len(f.slots), 1024))*8 + int64(len(f.ents))*int64(unsafe.Sizeof(freqEntry{}))) {
			return
		}
		f.grow()
	}
	mask := len(f.slots) - 1
	tag := h << 32
	for i := home(h, len(f.slots)); ; i = (i + 1) & mask {
		s := f.slots[i]
		if s == 0 {
			// Appends that reallocate grow by at most what they hold.
			if len(f.ents) == cap(f.ents) && f.beyond(int64(cap(f.ents)+1)*int64(unsafe.Sizeof(freqEntry{}))) ||
				len(f.arena)+len(token) > cap(f.arena) && f.beyond(int64(cap(f.arena)+len(token))) {
				return
			}
			f.slots[i] = tag | uint64(len(f.ents)+1)
			f.ents = append(f.ents, freqEntry{hash: h, count: n, off: len(f.arena), n: len(token)})
			f.arena = append(f.arena, token...)
			return
		}
		if s&^(1<<32-1) == tag {
			e := &f.ents[uint32(s)-1]
			if e.n == len(token) && string(f.arena[e.off:e.off+e.n]) == string(token) {
				if e.count+n > countBits {
					panic("count: token count overflow")
				}
				e.count += n
				return
			}
		}
	}
}

// grow doubles the index (or makes the first one) and re-inserts every
// entry by its stored hash.
func (f *Freq) grow() {
	size := max(2*len(f.slots), 1024)
	f.slots = make([]uint64, size)
	mask := size - 1
	for idx, e := range f.ents {
		i := home(e.hash, size)
		for f.slots[i] != 0 {
			i = (i + 1) & mask
		}
		f.slots[i] = e.hash<<32 | uint64(idx+1)
	}
}

// Merge adds every count of o to f; o may be nil. A table over its limit
// makes the merge over too: its counts are incomplete.
func (f *Freq) Merge(o *Freq) {
	if o == nil {
		return
	}
	f.over = f.over || o.over
	// Room for both tables at once, rather than doubling as they merge.
	if need := f.nshort + o.nshort; need >= len(f.short)/2 {
		f.resizeShort(1 << bits.Len(uint(2*need)))
	}
	f.mergeShort(o.short)
	for _, e := range o.ents {
		f.add(o.key(e), e.hash, e.count)
	}
}

// mergeShort adds the short entries of slots to f, which has room for them
// all. The slots they go to are far apart in a table far larger than the
// caches: it looks up a batch of entries' slots at a time, asking for all
// their cache lines before it waits for any, where one entry after another
// would wait for each in turn.
func (f *Freq) mergeShort(slots []shortSlot) {
	const batch = 32
	var (
		ents  [batch]shortSlot
		homes [batch]int
	)
	n := 0
	flush := func() {
		for i := range n {
			s := ents[i]
			f.addShortAt(homes[i], s.lo, s.hi, s.meta)
		}
		n = 0
	}
	for _, s := range slots {
		if s.meta == 0 {
			continue
		}
		h := home(hashWords(s.lo, s.hi, int(s.meta>>56)), len(f.short))
		prefetch(unsafe.Pointer(&f.short[h]))
		ents[n], homes[n] = s, h
		if n++; n == batch {
			flush()
		}
	}
	flush()
}

// addShortAt adds an entry of another table (its words and meta) to f,
// whose probe starts at slot i; f has room for it.
func (f *Freq) addShortAt(i int, lo, hi, meta uint64) {
	mask := len(f.short) - 1
	key := meta &^ countBits
	for ; ; i = (i + 1) & mask {
		s := &f.short[i]
		if s.meta == 0 {
			s.lo, s.hi, s.meta = lo, hi, meta
			f.nshort++
			return
		}
		if s.lo == lo && s.hi == hi && s.meta&^countBits == key {
			if s.meta&countBits+meta&countBits > countBits {
				panic("count: token count overflow")
			}
			s.meta += meta & countBits
			return
		}
	}
}

// Reserve makes room in f for n distinct short tokens in all, so that
// merges up to that many do not grow it: a job's table would otherwise
// double its way up from a chunk's size, rehashing and faulting in each
// larger table in turn (a tenth of a one-thread top job).
func (f *Freq) Reserve(n int) {
	if size := reserveSlots(n); n > 0 && size > len(f.short) {
		f.resizeShort(size)
	}
}

// ReserveBytes bounds the memory f holds while and after Reserve(n), for a
// caller with a budget to check first.
func (f *Freq) ReserveBytes(n int) int64 {
	if size := reserveSlots(n); n > 0 && size > len(f.short) {
		return f.Bytes() + int64(size)*int64(unsafe.Sizeof(shortSlot{}))
	}
	return f.Bytes()
}

// reserveSlots is the short table's size for n entries: a power of two,
// at most half full, as Merge sizes it.
func reserveSlots(n int) int { return 1 << bits.Len(uint(2*n)) }

// ExpectDistinct estimates the distinct tokens of a text of total bytes
// from a part of it: seen bytes that held distinct ones. A text's
// vocabulary grows as a power of its length (Heaps' law); the exponent
// here, 0.7, is that of a corpus of many books (the first MiB of a 52 MB
// one projects 271k for 317k), where a single author's text grows nearer
// 0.5: an estimate a little high costs memory never touched by most
// merges, one low a doubling or two later. It never exceeds the linear
// bound, distinct * total / seen.
func ExpectDistinct(distinct int, seen, total int64) int {
	if distinct <= 0 || seen <= 0 || total <= seen {
		return max(distinct, 0)
	}
	est := float64(distinct) * math.Pow(float64(total)/float64(seen), 0.7)
	return int(min(est, float64(distinct)*float64(total)/float64(seen), 1<<40))
}

func (f *Freq) key(e freqEntry) []byte { return f.arena[e.off : e.off+e.n : e.off+e.n] }

// Bytes returns the memory the table holds, in bytes: its slots, entries
// and the long tokens' bytes, as allocated.
func (f *Freq) Bytes() int64 {
	if f == nil {
		return 0
	}
	return int64(cap(f.short))*int64(unsafe.Sizeof(shortSlot{})) + int64(cap(f.slots))*8 +
		int64(cap(f.ents))*int64(unsafe.Sizeof(freqEntry{})) + int64(cap(f.arena))
}

// MergeBytes bounds the memory f holds while and after o is merged into
// it (Merge(o)), without merging: a caller with a budget checks it first,
// since a merge that grows the table allocates the larger table while the
// smaller one is still held.
func (f *Freq) MergeBytes(o *Freq) int64 {
	if o == nil {
		return f.Bytes()
	}
	slot := int64(unsafe.Sizeof(shortSlot{}))
	total := f.Bytes()
	if need := f.nshort + o.nshort; need >= len(f.short)/2 {
		total += int64(1<<bits.Len(uint(2*need))) * slot
	}
	ents := len(f.ents) + len(o.ents)
	if ents >= len(f.slots)/2 {
		total += int64(1<<bits.Len(uint(2*ents))) * 8
	}
	if ents > cap(f.ents) {
		total += int64(ents+ents/4) * int64(unsafe.Sizeof(freqEntry{}))
	}
	if n := len(f.arena) + len(o.arena); n > cap(f.arena) {
		total += int64(n + n/4)
	}
	return total
}

// Len returns the number of distinct tokens.
func (f *Freq) Len() int {
	if f == nil {
		return 0
	}
	return f.nshort + len(f.ents)
}

// Each calls fn for every token, in no particular order. The token slice is
// only valid during the call, and fn must not modify it: fn copies it to
// keep it.
func (f *Freq) Each(fn func(token []byte, n int64)) {
	if f == nil {
		return
	}
	var buf [16]byte
	for _, s := range f.short {
		if s.meta != 0 {
			binary.LittleEndian.PutUint64(buf[:], s.lo)
			binary.LittleEndian.PutUint64(buf[8:], s.hi)
			fn(buf[:s.meta>>56], int64(s.meta&countBits))
		}
	}
	for _, e := range f.ents {
		fn(f.key(e), e.count)
	}
}

// Top returns the k most frequent tokens, or all when k <= 0, ordered by
// count descending and then by the token's bytes ascending, so that the
// order is total and independent of insertion order.
func (f *Freq) Top(k int) []Entry {
	if f == nil {
		return nil
	}
	return f.view().top(k)
}

// top is Top(k) of the view's entries.
func (v topView) top(k int) []Entry {
	if k <= 0 || k >= len(v.ids) {
		return v.sorted()
	}
	idx := make([]int32, 0, k)
	// Keep the k best seen so far in a heap rooted at the worst of them, so
	// a large table costs O(n log k) rather than a full sort; only the
	// winners' bytes become strings.
	for _, id := range v.ids {
		switch {
		case len(idx) < k:
			idx = append(idx, id)
			v.up(idx, len(idx)-1)
		case v.compare(id, idx[0]) < 0:
			idx[0] = id
			v.down(idx)
		}
	}
	slices.SortFunc(idx, v.compare)
	return v.entries(idx)
}

// topView names entries of a Freq to sort, in place: an id below
// len(f.short) is a short table's slot, and len(f.short)+i is f.ents[i].
// Sorting reads the tokens where they are, rather than copying the table
// first.
type topView struct {
	f   *Freq
	ids []int32
}

func (f *Freq) view() topView {
	v := topView{f: f, ids: makePopulated[int32](0, f.Len())}
	for i, s := range f.short {
		if s.meta != 0 {
			v.ids = append(v.ids, int32(i))
		}
	}
	return v.withLong(func(freqEntry) bool { return true })
}

// withLong adds the long entries that keep says to the view.
func (v topView) withLong(keep func(freqEntry) bool) topView {
	for i, e := range v.f.ents {
		if keep(e) {
			v.ids = append(v.ids, int32(len(v.f.short)+i))
		}
	}
	return v
}

// count is the count of entry id.
func (v topView) count(id int32) int64 {
	if int(id) < len(v.f.short) {
		return int64(v.f.short[id].meta & countBits)
	}
	return v.f.ents[int(id)-len(v.f.short)].count
}

// token is the token of entry id; a short one is written to buf.
func (v topView) token(id int32, buf *[16]byte) []byte {
	if int(id) < len(v.f.short) {
		s := v.f.short[id]
		binary.LittleEndian.PutUint64(buf[:], s.lo)
		binary.LittleEndian.PutUint64(buf[8:], s.hi)
		return buf[:s.meta>>56]
	}
	return v.f.key(v.f.ents[int(id)-len(v.f.short)])
}

// entries returns the entries idx names, in that order. Their tokens share
// one string: one allocation instead of one per token. It reads each entry
// once: in sorted order they are all over the table, each a cache miss.
func (v topView) entries(idx []int32) []Entry {
	out := makePopulated[Entry](len(idx), len(idx))
	ends := makePopulated[int](len(idx), len(idx))
	all := makePopulated[byte](0, 10*len(idx)) // most tokens are shorter
	var buf [16]byte
	const ahead = 16 // entries whose slots are asked for before they are read
	for j, id := range idx {
		if j+ahead < len(idx) && int(idx[j+ahead]) < len(v.f.short) {
			prefetch(unsafe.Pointer(&v.f.short[idx[j+ahead]]))
		}
		all = append(all, v.token(id, &buf)...)
		ends[j] = len(all)
		out[j].Count = v.count(id)
	}
	s := unsafe.String(unsafe.SliceData(all), len(all)) // all is never written again
	start := 0
	for j, end := range ends {
		out[j].Token = s[start:end]
		start = end
	}
	return out
}

// compare orders entries by count descending, then token bytes ascending.
func (v topView) compare(a, b int32) int {
	if c := cmp.Compare(v.count(b), v.count(a)); c != 0 {
		return c
	}
	var ba, bb [16]byte
	return bytes.Compare(v.token(a, &ba), v.token(b, &bb))
}

// up and down keep h a heap whose root sorts last in Top's order.
func (v topView) up(h []int32, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if v.compare(h[i], h[p]) <= 0 {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (v topView) down(h []int32) {
	for i := 0; ; {
		worst := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(h) && v.compare(h[c], h[worst]) > 0 {
				worst = c
			}
		}
		if worst == i {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

// hashToken hashes a token's bytes: eight at a time, each word mixed by a
// 64x64->128-bit multiply (as wyhash does), the length and the process's
// seeds folded in.
func hashToken(b []byte) uint64 {
	h := uint64(len(b)) ^ seedLo
	for len(b) > 8 {
		h = mix(h^binary.LittleEndian.Uint64(b), seedHi)
		b = b[8:]
	}
	var x uint64
	switch n := len(b); {
	case n == 8:
		x = binary.LittleEndian.Uint64(b)
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		x = uint64(b[0]) | uint64(b[n>>1])<<8 | uint64(b[n-1])<<16
	}
	return mix(h^x, seedMix)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// released keeps tables given back by Release for the next runTop. A
// table of a chunk's size is megabytes: a reused one is cleared in cache,
// while a new one is fresh memory that the kernel must fault in page by
// page, which costs more than counting into it and, on several cores at
// once, contends in the kernel.
var released sync.Pool

// Release gives f's memory back for a later table of the same kind: the
// caller must not use f afterwards. A merged chunk's table is the usual one.
func (f *Freq) Release() {
	if f != nil && len(f.short) > 0 {
		released.Put(f)
	}
}

// reuseFreq returns an empty table with at least size short slots (a power
// of two), reusing a released one that is not much larger.
func reuseFreq(size int) *Freq {
	if f, _ := released.Get().(*Freq); f != nil && len(f.short) >= size && len(f.short) <= 4*size {
		clear(f.short)
		clear(f.slots)
		f.nshort, f.ents, f.arena = 0, f.ents[:0], f.arena[:0]
		f.limit, f.over = 0, false
		return f
	}
	return &Freq{short: makePopulated[shortSlot](size, size)}
}

// runTop builds the frequency table of a top query, bounded to limit
// bytes when limit > 0 (see Freq.Over). For whitespace tokens it also
// returns the token count, which it gets for free.
func runTop(q TopQuery, text []byte, limit int64) (f *Freq, tokens int64, counted bool) {
	if len(text) == 0 {
		// A released table is a chunk's size: keep it for one.
		return &Freq{limit: limit}, 0, true
	}
	// Text has a few distinct short tokens per hundred bytes: sizing the
	// table for that up front spares rehashing it as it fills.
	size := 1 << bits.Len(uint(min(max(len(text)/32, 512), 1<<20)))
	for limit > 0 && size > 1024 && int64(size)*int64(unsafe.Sizeof(shortSlot{})) > limit/2 {
		size /= 2 // a bound below the usual first size: start small
	}
	f = reuseFreq(size)
	if limit > 0 && f.Bytes() > limit/2 {
		f = &Freq{short: makePopulated[shortSlot](size, size)}
	}
	f.limit = limit
	tokens, counted = f.addText(q, text)
	return f, tokens, counted
}

// addText adds every token of text to f, as q says. For whitespace tokens
// it also returns the token count, which it gets for free.
func (f *Freq) addText(q TopQuery, text []byte) (tokens int64, counted bool) {
	var buf []byte
	if q.WordsOnly {
		for i := skipNonWord(text, 0); i < len(text); i = skipNonWord(text, i) {
			j := skipWord(text, i)
			buf = f.addToken(text, i, j, q.Lower, buf)
			i = j
		}
		return 0, false
	}
	if useSIMD {
		// The vector kernel maps the whitespace bytes faster than a byte
		// loop finds them, and the map gives every token's bounds.
		m, _, tokens := classify(text, false)
		defer m.release()
		f.addSpaced(m, text, q.Lower)
		return tokens, true
	}
	for i := skipSpace(text, 0); i < len(text); i = skipSpace(text, i) {
		j := skipToken(text, i)
		buf = f.addToken(text, i, j, q.Lower, buf)
		tokens++
		i = j
	}
	return tokens, true
}

// addSpaced adds every token of text, as its whitespace map m delimits
// them, lower-cased if lower; classify, which made m, has counted them. It
// reads the map a word at a time: a token starts where whitespace ends and
// ends where whitespace starts, so the set bits of s ^ (s<<1) are every
// token's bounds, in order. The map marks the bytes around the text as
// whitespace, which closes the last token.
func (f *Freq) addSpaced(m classMap, text []byte, lower bool) {
	var buf []byte
	start := 0
	prev := m.bits[0] >> 31 // 1: the byte before the text counts as whitespace
	for w, s := range m.bits[1:] {
		edges := s ^ (s<<1 | prev)
		prev = s >> 31
		for edges != 0 {
			k := bits.TrailingZeros32(edges)
			edges &= edges - 1
			if s>>k&1 == 0 {
				start = 32*w + k
				continue
			}
			end := 32*w + k
			// Most tokens of a text are short, ASCII, and already in
			// their home slot: they take one look, here, and no call.
			if n := end - start; n <= maxShort && start+16 <= len(text) {
				lo, hi := wordsAt(text, start, n)
				if !lower || (lo|hi)&highBits == 0 {
					if lower {
						lo, hi = lowerWord(lo), lowerWord(hi)
					}
					if len(f.short) > 0 {
						slot := &f.short[home(hashWords(lo, hi, n), len(f.short))]
						if slot.lo == lo && slot.hi == hi && slot.meta>>56 == uint64(n) && slot.meta&countBits != countBits {
							slot.meta++
							continue
						}
					}
					f.addShort(lo, hi, n, 1)
					continue
				}
			}
			buf = f.addToken(text, start, end, lower, buf)
		}
	}
}

// addToken adds the token text[i:j], lower-cased if lower; buf is scratch
// space, returned for reuse. The fast path: a token of up to 16 bytes goes
// to the short table as two words, read straight from the text, and
// lower-cased eight bytes at once when it is ASCII.
func (f *Freq) addToken(text []byte, i, j int, lower bool, buf []byte) []byte {
	if n := j - i; n <= maxShort {
		var lo, hi uint64
		switch {
		case i+16 <= len(text):
			lo, hi = wordsAt(text, i, n)
		default:
			lo, hi = loadWords(text[i:j])
		}
		if !lower || (lo|hi)&highBits == 0 {
			if lower {
				lo, hi = lowerWord(lo), lowerWord(hi)
			}
			f.addShort(lo, hi, n, 1)
			return buf
		}
	}
	tok := text[i:j]
	if lower {
		var ok bool
		if buf, ok = lowerASCII(buf[:0], tok); !ok {
			buf = appendLower(buf[:0], tok)
		}
		tok = buf
	}
	f.Add(tok, 1)
	return buf
}

// wordsAt returns the n bytes (at most 16) at text[i:] as two
// little-endian words, zero above them; text holds 16 bytes from i.
func wordsAt(text []byte, i, n int) (lo, hi uint64) {
	lo = binary.LittleEndian.Uint64(text[i:])
	hi = binary.LittleEndian.Uint64(text[i+8:])
	if n <= 8 {
		return lo & (1<<(8*n) - 1), 0
	}
	return lo, hi & (1<<(8*(n-8)) - 1)
}

// lowerWord maps the 'A'..'Z' bytes of x, whose bytes are all 7-bit, to
// 'a'..'z'. Adding 0x80-k to a 7-bit byte sets its high bit exactly when the
// byte is >= k, without carries between bytes.
func lowerWord(x uint64) uint64 {
	upper := (x + (0x80-'A')*lowBits) &^ (x + (0x80-'Z'-1)*lowBits) & highBits
	return x | upper>>2
}

// lowerASCII appends p with 'A'..'Z' mapped to 'a'..'z', eight bytes at a
// time, and reports true; if p holds a byte >= 0x80 it reports false, with
// dst unspecified, and appendLower must do the work.
func lowerASCII(dst, p []byte) ([]byte, bool) {
	i := 0
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		if x&highBits != 0 {
			return dst, false
		}
		dst = binary.LittleEndian.AppendUint64(dst, lowerWord(x))
	}
	for ; i < len(p); i++ {
		b := p[i]
		if b >= 0x80 {
			return dst, false
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		dst = append(dst, b)
	}
	return dst, true
}
