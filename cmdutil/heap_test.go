package cmdutil

import (
	"runtime/debug"
	"testing"
)

func TestLeanHeapYieldsToGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		gogc string
		want int
	}{{"", 50}, {"200", 100}} {
		t.Setenv("GOGC", tc.gogc)
		debug.SetGCPercent(100)
		LeanHeap()
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("GOGC=%q: GC percent %d after LeanHeap, want %d", tc.gogc, got, tc.want)
		}
	}
}
