package count

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// randTargets makes n targets of size bytes (about: a character may take
// more than one byte), each character drawn from the first alpha of chars.
func randTargets(rng *rand.Rand, n, size int, chars []rune) []string {
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for b.Len() < size {
			b.WriteRune(chars[rng.IntN(len(chars))])
		}
		out[i] = b.String()
	}
	return out
}

// compileAlloc returns the bytes that compiling s allocates: an upper
// bound of its peak memory. It takes the least of three compiles, since
// anything else the process allocates meanwhile counts too.
func compileAlloc(t *testing.T, s Spec) int64 {
	t.Helper()
	least := int64(-1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p, err := Compile(s)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(p)
		if n := int64(after.TotalAlloc - before.TotalAlloc); least < 0 || n < least {
			least = n
		}
	}
	return least
}

// TestMatcherBytesBoundsCompile builds real matchers for a range of target
// sets and checks that MatcherBytes is at least what their construction
// allocates (which bounds its peak), and not more than a few times that.
func TestMatcherBytesBoundsCompile(t *testing.T) {
	letters := []rune("abcdefghijklmnopqrstuvwxyz")
	var printable []rune
	for r := ' ' + 1; r < 127; r++ {
		printable = append(printable, r)
	}
	wide := append([]rune("äöüßéèçñσςΣκΚ"), printable...)
	for r := rune(0x400); r < 0x500; r++ {
		wide = append(wide, r)
	}
	sets := []struct {
		n, size int
		chars   []rune
	}{
		{1, 5, letters}, {10, 8, letters}, {40, 100, printable}, {100, 8, letters},
		{1000, 12, letters}, {200, 4096, printable}, {50, 4096, wide}, {3000, 300, wide},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, set := range sets {
		targets := randTargets(rng, set.n, set.size, set.chars)
		for _, mode := range []Mode{Token, Word, Substring} {
			for _, fold := range []bool{false, true} {
				q := Query{Mode: mode, Targets: targets, IgnoreCase: fold}
				name := fmt.Sprintf("%dx%d/%d-chars/%s/fold=%t", set.n, set.size, len(set.chars), mode, fold)
				t.Run(name, func(t *testing.T) {
					got := compileAlloc(t, Spec{Count: &q})
					est := MatcherBytes(q)
					t.Logf("estimate %d, allocated %d (%.2fx)", est, got, float64(est)/float64(got))
					if est < got {
						t.Errorf("estimate %d below the %d bytes allocated", est, got)
					}
					if est > 4*got+256<<10 {
						t.Errorf("estimate %d above 4x the %d bytes allocated", est, got)
					}
				})
			}
		}
	}
}

func TestCheckMatcher(t *testing.T) {
	q := Query{Mode: Substring, Targets: randTargets(rand.New(rand.NewPCG(3, 4)), 200, 4096, []rune("ab"))}
	est := MatcherBytes(q)
	if err := CheckMatcher(Spec{Count: &q}, est); err != nil {
		t.Fatalf("limit at the estimate: got %v, want nil", err)
	}
	err := CheckMatcher(Spec{Count: &q}, est-1)
	if me, ok := err.(*MemoryError); !ok || me.Estimate != est || me.Limit != est-1 {
		t.Fatalf("limit below the estimate: got %v, want a MemoryError", err)
	}
	if err := CheckMatcher(Spec{Top: &TopQuery{}}, 1); err != nil {
		t.Fatalf("top query: got %v, want nil", err)
	}
}

// TestLongTargetsSmallAutomaton is finding 6's case: 200 substring targets
// of 4,096 printable bytes once took about 2.3 KB per target byte to build
// (a dense row of the alphabet for every state); now a state costs tens of
// bytes and the dense rows are capped.
func TestLongTargetsSmallAutomaton(t *testing.T) {
	var printable []rune
	for r := ' ' + 1; r < 127; r++ {
		printable = append(printable, r)
	}
	targets := randTargets(rand.New(rand.NewPCG(5, 6)), 200, 4096, printable)
	got := compileAlloc(t, Spec{Count: &Query{Mode: Substring, Targets: targets}})
	if limit := int64(4*maxDenseEntries + 100*200*4096); got > limit {
		t.Fatalf("compiling 200 targets of 4096 bytes allocated %d bytes, want at most %d", got, limit)
	}
}
