// Package sanitize makes text from outside the binary (git, Argo CD, files,
// server errors) safe to print: control characters and escape sequences
// become visible escapes, so no repository or server can drive the user's
// terminal, and the userinfo of URLs is replaced by ***.
package sanitize

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Line cleans a one-line field (a subject, a name, a message): every
// control character but tab, newlines included, becomes a visible escape.
func Line(s string) string { return clean(s, false) }

// Body cleans multi-line text (a diff, a file): like Line, but newlines stay.
func Body(s string) string { return clean(s, true) }

// safe reports whether s needs no cleaning: printable ASCII, tab, and
// (in bodies) newline only. Most text takes this path without allocating.
func safe(s string, body bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\t' || body && c == '\n' {
			continue
		}
		return false
	}
	return true
}

func clean(s string, body bool) string {
	if safe(s, body) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			// Invalid UTF-8: a lone 0x9b is CSI to some terminals.
			fmt.Fprintf(&sb, `\x%02x`, s[i])
		case r == '\t', body && r == '\n':
			sb.WriteRune(r)
		case r < 0x20, r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, isBidi(r):
			// C1 controls, and the bidirectional overrides that make a
			// terminal show text in another order than it is.
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}

func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// userinfo matches the user[:password]@ part of a URL with a scheme.
var userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#@\s"'<>]*@`)

// Userinfo replaces the userinfo of every URL in s (user, password or
// token) by ***, wherever it appears: an error, a header, a cache file.
func Userinfo(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	return userinfo.ReplaceAllString(s, "${1}***@")
}

// Error is how a foreign error is shown: credentials hidden, one clean line.
func Error(err error) string {
	if err == nil {
		return ""
	}
	return Line(Userinfo(err.Error()))
}
