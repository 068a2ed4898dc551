package gitstate

import (
	"path"
	"sort"
	"strings"
)

// An expansion follows links at most maxLinkDepth deep (as the kernel
// follows at most 40) and adds at most maxLinkedPaths paths: links that
// point into each other end there.
const (
	maxLinkDepth   = 40
	maxLinkedPaths = 4096
)

type linkStep struct {
	path  string
	depth int
}

// Links are the symbolic links of one commit that point inside the ops
// repository. Argo CD renders an app through them, so an app whose
// directory holds a link, or whose path passes through one, deploys what
// the link points at: its pending commits, its protection and a
// rollback's reach have to follow them.
type Links struct {
	to   map[string]string // link path -> the path it resolves to ("" = the root)
	keys []string          // link paths, sorted
}

// NewLinks indexes links (link path -> its target as stored in git).
// Absolute targets and targets that climb out of the repository are left
// out: Argo CD refuses to render through them.
func NewLinks(raw map[string]string) *Links {
	l := &Links{to: make(map[string]string, len(raw))}
	for p, target := range raw {
		p = strings.Trim(path.Clean("/"+p), "/")
		if p == "" || target == "" || strings.HasPrefix(target, "/") {
			continue
		}
		r := path.Join(path.Dir(p), target)
		if r == ".." || strings.HasPrefix(r, "../") {
			continue
		}
		if r == "." {
			r = ""
		}
		l.to[p] = r
		l.keys = append(l.keys, p)
	}
	sort.Strings(l.keys)
	return l
}

// Len is how many links there are.
func (l *Links) Len() int {
	if l == nil {
		return 0
	}
	return len(l.keys)
}

// Expand returns the paths that paths read through links and that are not
// among them: the target of every link inside one of them, the link a path
// passes through and what it resolves to, transitively.
func (l *Links) Expand(paths []string) []string {
	if l.Len() == 0 {
		return nil
	}
	seen := map[string]bool{}
	work := make([]linkStep, 0, len(paths))
	for _, p := range paths {
		p = strings.Trim(p, "/")
		seen[p] = true
		work = append(work, linkStep{p, 0})
	}
	var out []string
	for len(work) > 0 {
		step := work[len(work)-1]
		work = work[:len(work)-1]
		p := step.path
		add := func(q string, follow bool) {
			if !covered(seen, q) && len(out) < maxLinkedPaths && step.depth < maxLinkDepth {
				seen[q] = true
				out = append(out, q)
				if follow {
					work = append(work, linkStep{q, step.depth + 1})
				}
			}
		}
		for _, link := range l.inside(p) {
			add(l.to[link], true)
		}
		// A path through a linked directory: the link itself (retargeting
		// it changes the app, and nothing else of it is read) and the path
		// it resolves to.
		for i := range len(p) {
			if p[i] != '/' {
				continue
			}
			if to, ok := l.to[p[:i]]; ok {
				add(p[:i], false)
				add(strings.TrimPrefix(to+p[i:], "/"), true)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// Aliases returns the paths, not among files, that reach files through
// links: a change to a file a link points at is a change to what every
// app reading through that link deploys.
func (l *Links) Aliases(files []string) []string {
	if l.Len() == 0 {
		return nil
	}
	seen := map[string]bool{}
	work := make([]linkStep, 0, len(files))
	for _, f := range files {
		f = strings.Trim(f, "/")
		seen[f] = true
		work = append(work, linkStep{f, 0})
	}
	var out []string
	for len(work) > 0 {
		step := work[len(work)-1]
		work = work[:len(work)-1]
		f := step.path
		if step.depth >= maxLinkDepth {
			continue
		}
		for _, link := range l.keys {
			to := l.to[link]
			var alias string
			switch {
			case to == "":
				alias = link + "/" + f
			case f == to:
				alias = link
			case strings.HasPrefix(f, to+"/"):
				alias = link + f[len(to):]
			default:
				continue
			}
			if !seen[alias] && len(out) < maxLinkedPaths {
				seen[alias] = true
				out = append(out, alias)
				work = append(work, linkStep{alias, step.depth + 1})
			}
		}
	}
	sort.Strings(out)
	return out
}

// covered reports whether p or a directory above it is in seen.
func covered(seen map[string]bool, p string) bool {
	if seen[p] || seen[""] {
		return true
	}
	for i := range len(p) {
		if p[i] == '/' && seen[p[:i]] {
			return true
		}
	}
	return false
}

// inside lists the links at p or below it ("" = the whole repository).
func (l *Links) inside(p string) []string {
	if p == "" {
		return l.keys
	}
	var out []string
	if _, ok := l.to[p]; ok {
		out = append(out, p)
	}
	// Below p: one sorted run ("p-x" sorts between "p" and "p/").
	for i := sort.SearchStrings(l.keys, p+"/"); i < len(l.keys) && strings.HasPrefix(l.keys[i], p+"/"); i++ {
		out = append(out, l.keys[i])
	}
	return out
}
