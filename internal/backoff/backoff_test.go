package backoff

import (
	"context"
	"testing"
	"time"
)

func TestNextGrowsToMax(t *testing.T) {
	b := New(100*time.Millisecond, time.Second)
	steps := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, s := range steps {
		s *= time.Millisecond
		got := b.Next()
		if got > s || got < s*3/4 {
			t.Fatalf("wait %d: got %v, want within [%v, %v]", i, got, s*3/4, s)
		}
	}
	b.Reset()
	if got := b.Next(); got > 100*time.Millisecond {
		t.Fatalf("after Reset: got %v, want at most 100ms", got)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if New(time.Hour, time.Hour).Wait(ctx) {
		t.Fatal("Wait ran its course after the context ended")
	}
	if !New(time.Millisecond, time.Millisecond).Wait(context.Background()) {
		t.Fatal("Wait did not run its course")
	}
}
