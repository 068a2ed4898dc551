package cmdutil

import (
	"os"
	"runtime/debug"
)

// LeanHeap is for the commands that live for hours (the console, serve):
// their heap may grow to 1.5x what is live, not Go's 2x. A fleet's list is
// mostly garbage once converted, and a console lives for hours: about 16
// MB less resident at 2,000 apps, for a few ms of collection. A one-shot
// command keeps Go's default: its heap ends with it, and collecting at
// 1.5x cost `status` at 2,000 apps 20 ms of CPU. GOGC, when set, wins.
func LeanHeap() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
