package coordinator

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/tallyhq/tally/count"
)

// TestTopOfParts: a table large enough to be sorted in parts, on every
// core at once, gives Top's answer, in full and cut.
func TestTopOfParts(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: the table is sorted in one part")
	}
	f := count.NewFreq()
	for i := range 3 * minPartedTop {
		f.Add(fmt.Appendf(nil, "w%d", i%(minPartedTop+500)), int64(1+i%7))
	}
	for _, k := range []int{0, 1, 100, f.Len() + 1} {
		if got, want := topOf(f, k), f.Top(k); !slices.Equal(got, want) {
			t.Errorf("k=%d: got %d entries, want %d, or a different order", k, len(got), len(want))
		}
	}
}
