package patch

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/stagedeck/stagedeck/sanitize"
)

// File is one side of a change: a path and its content.
type File struct {
	Path    string
	Content []byte
	// Mode is git's file mode (0o100644, 0o100755, 0o120000 for a
	// symbolic link); 0 when unknown.
	Mode uint32
	// Secret marks content that is secret material by reference (a
	// kustomize secretGenerator outside the diff names it): set by the
	// repository reader, shown as keys only or not at all.
	Secret SecretRef
}

// Pair is one file's change; a nil side means added or deleted.
type Pair struct {
	From, To *File
}

// IsBinary applies git's heuristic: a NUL byte in the first 8000 bytes.
func IsBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 8000)], 0) >= 0
}

// Unified renders pairs as one unified diff with context lines. It is the
// one place file content becomes text to show: secrets are redacted first,
// and control characters are escaped last, so no caller (console, CLI,
// pager, preview) ever holds raw content. Pairs that do not differ (after
// redaction) are left out.
func Unified(pairs []Pair, context int) string {
	red := newRedactor(pairs)
	var sb strings.Builder
	for _, pr := range pairs {
		writeFilePatch(&sb, pr, context, red)
	}
	return sanitize.Body(sb.String())
}

// op is one run of a line diff.
type op struct {
	kind  byte // ' ', '+', '-'
	lines []string
}

func writeFilePatch(sb *strings.Builder, pr Pair, context int, red redactor) {
	var from, to []byte
	if pr.From != nil {
		from = orEmpty(pr.From.Content)
	}
	if pr.To != nil {
		to = orEmpty(pr.To.Content)
	}
	binary := IsBinary(from) || IsBinary(to)
	if !binary {
		from, to = red.pair(pr, from, to)
	}
	fromHash := plumbing.ComputeHash(plumbing.BlobObject, from)
	toHash := plumbing.ComputeHash(plumbing.BlobObject, to)
	modeChanged := pr.From != nil && pr.To != nil && modeOf(pr.From) != modeOf(pr.To)
	if pr.From != nil && pr.To != nil && pr.From.Path == pr.To.Path && fromHash == toHash && !modeChanged {
		return
	}
	pr = cleanPaths(pr)
	// File header, as git writes it.
	a, b := "/dev/null", "/dev/null"
	switch {
	case pr.From == nil:
		fmt.Fprintf(sb, "diff --git a/%s b/%s\nnew file mode %06o\nindex %s..%s\n", pr.To.Path, pr.To.Path, modeOf(pr.To), plumbing.ZeroHash, toHash)
		b = "b/" + pr.To.Path
	case pr.To == nil:
		fmt.Fprintf(sb, "diff --git a/%s b/%s\ndeleted file mode %06o\nindex %s..%s\n", pr.From.Path, pr.From.Path, modeOf(pr.From), fromHash, plumbing.ZeroHash)
		a = "a/" + pr.From.Path
	default:
		fmt.Fprintf(sb, "diff --git a/%s b/%s\n", pr.From.Path, pr.To.Path)
		if modeChanged {
			fmt.Fprintf(sb, "old mode %06o\nnew mode %06o\n", modeOf(pr.From), modeOf(pr.To))
		}
		if pr.From.Path != pr.To.Path {
			fmt.Fprintf(sb, "rename from %s\nrename to %s\n", pr.From.Path, pr.To.Path)
		}
		switch {
		case fromHash != toHash && modeChanged:
			fmt.Fprintf(sb, "index %s..%s\n", fromHash, toHash)
		case fromHash != toHash:
			fmt.Fprintf(sb, "index %s..%s %06o\n", fromHash, toHash, modeOf(pr.To))
		}
		a, b = "a/"+pr.From.Path, "b/"+pr.To.Path
	}
	if fromHash == toHash {
		return // a pure rename or mode change
	}
	if binary {
		fmt.Fprintf(sb, "Binary files %s and %s differ\n", a, b)
		return
	}
	fmt.Fprintf(sb, "--- %s\n+++ %s\n", a, b)
	var ops []op
	for _, d := range diff.Do(string(from), string(to)) {
		k := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			k = '+'
		case diffmatchpatch.DiffDelete:
			k = '-'
		}
		ops = append(ops, op{kind: k, lines: SplitLines(d.Text)})
	}
	writeHunks(sb, ops, context)
}

func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// SplitLines splits s into lines that keep their "\n"; a last line without
// one is kept as it is.
func SplitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// writeHunks groups changes with context lines into @@ hunks. Long equal
// runs are only counted, so a 10 MB file with a few changes stays cheap.
func writeHunks(sb *strings.Builder, ops []op, context int) {
	type line struct {
		kind byte
		text string
	}
	var hunk []line
	open := false
	var hFrom, hTo, nFrom, nTo int
	fromLine, toLine := 0, 0
	var before []string // up to context equal lines preceding the next change
	emit := func() {
		fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(hFrom, nFrom), hunkRange(hTo, nTo))
		for _, l := range hunk {
			sb.WriteByte(l.kind)
			sb.WriteString(l.text)
			if !strings.HasSuffix(l.text, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
		hunk, open = hunk[:0], false
	}
	addEqual := func(ls []string) {
		for _, t := range ls {
			hunk = append(hunk, line{' ', t})
		}
		nFrom += len(ls)
		nTo += len(ls)
	}
	for k, o := range ops {
		if o.kind == ' ' {
			n := len(o.lines)
			last := k == len(ops)-1
			switch {
			case open && !last && n <= 2*context:
				addEqual(o.lines) // a short gap joins the two changes
			case open:
				addEqual(o.lines[:min(n, context)])
				emit()
				before = o.lines[max(0, n-context):]
			default:
				before = o.lines[max(0, n-context):]
			}
			fromLine += n
			toLine += n
			continue
		}
		if !open {
			open = true
			hFrom, hTo = fromLine-len(before), toLine-len(before)
			nFrom, nTo = 0, 0
			addEqual(before)
			before = nil
		}
		for _, t := range o.lines {
			hunk = append(hunk, line{o.kind, t})
		}
		if o.kind == '-' {
			nFrom += len(o.lines)
			fromLine += len(o.lines)
		} else {
			nTo += len(o.lines)
			toLine += len(o.lines)
		}
	}
	if open {
		emit()
	}
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// LineKind classifies a line of a unified diff for colouring.
type LineKind int

// Line kinds of a unified diff.
const (
	LineContext LineKind = iota
	LineAdd
	LineDelete
	LineHunk
	LineFile // diff --git, index, ---, +++, new/deleted file, rename
	LineBinary
)

// Classify says what a unified-diff line is.
func Classify(line string) LineKind {
	switch {
	case strings.HasPrefix(line, "diff --git "), strings.HasPrefix(line, "index "),
		strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "+++ "),
		strings.HasPrefix(line, "new file mode"), strings.HasPrefix(line, "deleted file mode"),
		strings.HasPrefix(line, "rename from"), strings.HasPrefix(line, "rename to"),
		strings.HasPrefix(line, "old mode"), strings.HasPrefix(line, "new mode"):
		return LineFile
	case strings.HasPrefix(line, "Binary files "):
		return LineBinary
	case strings.HasPrefix(line, "@@"):
		return LineHunk
	case strings.HasPrefix(line, "+"):
		return LineAdd
	case strings.HasPrefix(line, "-"):
		return LineDelete
	}
	return LineContext
}

// cleanPaths escapes newlines and controls in paths, so a header stays one line.
func cleanPaths(pr Pair) Pair {
	if pr.From != nil {
		f := *pr.From
		f.Path = sanitize.Line(f.Path)
		pr.From = &f
	}
	if pr.To != nil {
		f := *pr.To
		f.Path = sanitize.Line(f.Path)
		pr.To = &f
	}
	return pr
}

// modeOf is f's git mode; a regular file when unknown.
func modeOf(f *File) uint32 {
	if f.Mode == 0 {
		return 0o100644
	}
	return f.Mode
}
