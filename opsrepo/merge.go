package opsrepo

import (
	"strings"

	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/stagedeck/stagedeck/patch"
)

// edit replaces base lines [start, end) with lines.
type edit struct {
	start, end int
	lines      []string
}

// edits lists how side differs from base, in base coordinates.
func edits(base, side string) []edit {
	var out []edit
	pos := 0
	var cur *edit
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for _, d := range diff.Do(base, side) {
		lines := patch.SplitLines(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			flush()
			pos += len(lines)
		case diffmatchpatch.DiffDelete:
			if cur == nil {
				cur = &edit{start: pos, end: pos}
			}
			cur.end += len(lines)
			pos += len(lines)
		case diffmatchpatch.DiffInsert:
			if cur == nil {
				cur = &edit{start: pos, end: pos}
			}
			cur.lines = append(cur.lines, lines...)
		}
	}
	flush()
	return out
}

// merge3 merges ours and theirs, both derived from base, line by line as
// git's merge does: changes to separate regions combine; changes that
// overlap or touch conflict (ok=false), unless both sides made the same one.
func merge3(base, ours, theirs string) (string, bool) {
	a, b := edits(base, ours), edits(base, theirs)
	baseLines := patch.SplitLines(base)
	var out strings.Builder
	pos, i, j := 0, 0, 0
	apply := func(e edit) {
		for _, l := range baseLines[pos:e.start] {
			out.WriteString(l)
		}
		for _, l := range e.lines {
			out.WriteString(l)
		}
		pos = e.end
	}
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i].end < b[j].start):
			apply(a[i])
			i++
		case i >= len(a) || b[j].end < a[i].start:
			apply(b[j])
			j++
		case a[i].start == b[j].start && a[i].end == b[j].end && strings.Join(a[i].lines, "") == strings.Join(b[j].lines, ""):
			apply(a[i]) // the same change on both sides
			i++
			j++
		default:
			return "", false // overlapping or adjacent changes
		}
	}
	for _, l := range baseLines[pos:] {
		out.WriteString(l)
	}
	return out.String(), true
}
