package cmdutil

import (
	"encoding/json"
	"io"

	"github.com/stagedeck/stagedeck/sanitize"
)

// WriteJSON writes v as -o json does: indented by two spaces, exactly as
// json.MarshalIndent(v, "", "  ") would, with what a terminal would act on
// escaped (sanitize.JSON), and a newline. The indentation is done in one
// pass over the compact encoding: at 2,000 apps encoding/json's own took
// 13 ms on top of the 7 ms encode.
func WriteJSON(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	// (What sanitize escapes is inside strings, which indent copies as
	// they are: escaping before indenting is the same, on fewer bytes.)
	data = sanitize.JSON(data)
	out := indent(make([]byte, 0, len(data)*2), data)
	_, err = w.Write(append(out, '\n'))
	return err
}

// indent appends src, compact JSON as json.Marshal writes it, to dst
// indented as json.Indent(dst, src, "", "  ") would: each element on a
// line of its own, empty objects and arrays kept as {} and [].
func indent(dst, src []byte) []byte {
	depth := 0
	pad := []byte("\n")
	newline := func() {
		for len(pad) < 1+2*depth {
			pad = append(pad, ' ', ' ')
		}
		dst = append(dst, pad[:1+2*depth]...)
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"': // a string, copied through its closing quote
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++ // the backslash escapes the byte after it
				}
				j++
			}
			end := min(j+1, len(src))
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
