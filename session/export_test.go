package session

import "time"

// EarlyFresh is earlyFresh, for the external tests.
const EarlyFresh = earlyFresh

// AgeEarlyLists waits for the lists Open started to end, then makes them
// d older, as if the first board came that much later.
func AgeEarlyLists(s *Session, d time.Duration) {
	for _, l := range s.lists {
		<-l.done
		l.started = l.started.Add(-d)
	}
}
