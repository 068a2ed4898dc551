package board

import (
	"fmt"
	"time"
)

// Age is the short human age the console and `status` show: 45s, 25m, 3h, 12d.
func Age(now, t time.Time) string { return ShortDuration(now.Sub(t)) }

// ShortDuration writes d the same way.
func ShortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
