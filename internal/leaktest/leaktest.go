// Package leaktest fails a test binary that leaves goroutines behind. It is
// shared by the packages that start servers and memberlist nodes.
package leaktest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Wait is how long goroutines may take to end after the last test.
// memberlist ends a peer's probe only when its ack timer fires, up to a probe
// interval (1 s) after Shutdown, longer than goleak's own retries (about half
// a second), so goroutines are looked for again for a while before the
// verdict, rather than ignoring any function.
const Wait = 5 * time.Second

// Main runs the tests and exits, failing when goroutines outlive them by Wait.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(Wait)
		for err := goleak.Find(); err != nil; err = goleak.Find() {
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "goleak: goroutines still running %v after the tests: %v\n", Wait, err)
				code = 1
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.Exit(code)
}
