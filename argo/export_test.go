package argo

import "time"

// SetDialTimeout shortens Dial's deadline for a test; the returned func
// restores it.
func SetDialTimeout(d time.Duration) (restore func()) {
	old := dialTimeout
	dialTimeout = d
	return func() { dialTimeout = old }
}
