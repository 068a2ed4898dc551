// Package sanitize makes text from outside the binary (git, Argo CD, files,
// server errors) safe to print: control characters and escape sequences
// become visible escapes, so no repository or server can drive the user's
// terminal, and the userinfo of URLs is replaced by ***.
package sanitize

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Line cleans a one-line field (a subject, a name, a message): every
// control character but tab, newlines included, and every invisible
// format character becomes a visible escape, and the userinfo of a URL
// (user, password, token) becomes ***.
func Line(s string) string { return clean(Userinfo(s), false) }

// Body cleans multi-line text (a diff, a file): like Line, but newlines stay.
func Body(s string) string { return clean(Userinfo(s), true) }

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
		case r >= 0x80 && r <= 0x9f, hidden(r):
			// C1 controls, and what a terminal shows as nothing or moves:
			// bidirectional overrides, zero-width and other format
			// characters, line and paragraph separators.
			if r > 0xffff {
				fmt.Fprintf(&sb, `\U%08x`, r) // \ue0041 would read as \ue004, 1
			} else {
				fmt.Fprintf(&sb, `\u%04x`, r)
			}
		default:
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}

// hidden reports Unicode's format characters (Cf: bidirectional
// controls, zero-width spaces and joiners, the BOM, the soft hyphen, tag
// and interlinear annotation characters), which a terminal draws as
// nothing or uses to reorder text, and the line and paragraph separators.
// A joiner inside an emoji or a name is shown as an escape too: a name
// must not hide characters.
func hidden(r rune) bool {
	return r >= 0xa0 && (unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029)
}

// Userinfo replaces the userinfo of every URL in s (user, password or
// token) by ***, wherever it appears: an error, a header, a cache file.
// A URL has a scheme (a letter, then letters, digits, + . -) and runs to
// the next space, quote or angle bracket; its userinfo runs to its last @,
// since a password may hold '@', '/' or '#' unescaped, and hiding a little
// too much is the safe side. One linear pass: bodies and JSON of megabytes
// go through it.
func Userinfo(s string) string {
	if strings.IndexByte(s, '@') < 0 || !strings.Contains(s, "://") {
		return s
	}
	var sb strings.Builder
	copied, i := 0, 0
	for {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		j += i
		start := j
		for start > copied && isSchemeByte(s[start-1]) {
			start--
		}
		for start < j && !isLetter(s[start]) {
			start++
		}
		if start == j { // no scheme before this "://"; a later one may have
			i = j + 1
			continue
		}
		end := j + 3
		for end < len(s) && !endsURL(s[end]) {
			end++
		}
		at := strings.LastIndexByte(s[j+3:end], '@')
		if at < 0 { // nor any "://" later in this run
			i = end
			continue
		}
		at += j + 3
		if s[j+3:at] != "***" { // not hidden already
			if sb.Len() == 0 {
				sb.Grow(len(s))
			}
			sb.WriteString(s[copied : j+3])
			sb.WriteString("***@")
			copied = at + 1
		}
		i = at + 1
	}
	if copied == 0 {
		return s
	}
	sb.WriteString(s[copied:])
	return sb.String()
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isSchemeByte(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-'
}

// endsURL: white space (as RE2's \s), a quote or an angle bracket.
func endsURL(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\f', '\r', '"', '\'', '<', '>':
		return true
	}
	return false
}

// Error is how a foreign error is shown: credentials hidden, one clean line.
func Error(err error) string {
	if err == nil {
		return ""
	}
	return Line(err.Error())
}

// Writer cleans everything written through it as a Body: the last line of
// defence for a command's text output. A rune split across two writes is
// held back until it is whole; a URL is not (its userinfo is hidden when a
// write holds it whole, as the commands' line-at-a-time writes do).
type Writer struct {
	w    io.Writer
	tail []byte
}

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

func (s *Writer) Write(p []byte) (int, error) {
	buf := append(s.tail, p...)
	cut := len(buf)
	for i := 1; i <= utf8.UTFMax && i <= len(buf); i++ {
		if utf8.RuneStart(buf[len(buf)-i]) {
			if !utf8.FullRune(buf[len(buf)-i:]) {
				cut = len(buf) - i
			}
			break
		}
	}
	s.tail = append([]byte(nil), buf[cut:]...)
	if _, err := io.WriteString(s.w, Body(string(buf[:cut]))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// JSON escapes, inside JSON text, what encoding/json leaves raw but a
// terminal would act on or not show (DEL, C1 controls, format characters)
// as \u escapes, which a JSON reader decodes to the same values; and it
// hides the userinfo of URLs, as everything shown does (those values do
// change: https://***@host).
func JSON(b []byte) []byte {
	if bytes.IndexByte(b, '@') >= 0 && bytes.Contains(b, []byte("://")) {
		b = []byte(Userinfo(string(b)))
	}
	if safe(string(b), true) {
		return b
	}
	var out bytes.Buffer
	s := string(b)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0x7f || r >= 0x80 && r <= 0x9f || hidden(r) {
			if r > 0xffff { // a tag character: JSON spells it as a surrogate pair
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&out, `\u%04x\u%04x`, hi, lo)
			} else {
				fmt.Fprintf(&out, `\u%04x`, r)
			}
		} else {
			out.WriteString(s[i : i+size])
		}
		i += size
	}
	return out.Bytes()
}

// Lines cleans each of xs as a Line (nil stays nil).
func Lines(xs []string) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = Line(x)
	}
	return out
}
