package cmdutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/term"
)

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Dash stands in for an empty cell.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// FirstName is the first word of an author's name.
func FirstName(author string) string {
	if f, _, ok := strings.Cut(author, " "); ok {
		return f
	}
	return author
}

// Clip shortens s to width cells, marking the cut with an ellipsis.
func Clip(s string, width int) string { return ansi.Truncate(s, width, "…") }

// Cell is s clipped and padded to exactly width cells, as a terminal
// draws them: a wide (CJK) or combining character takes the cells it
// takes, so the columns after it stay in line (fmt's %-Ns counts runes).
func Cell(s string, width int) string {
	s = Clip(s, width)
	if pad := width - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// ConfirmTTY asks on a terminal; without one it refuses and names --yes.
func ConfirmTTY(in io.Reader, out io.Writer, prompt string) (bool, error) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, errors.New("not a terminal: add --yes to confirm the sync")
	}
	fmt.Fprint(out, prompt)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes"), nil
}
