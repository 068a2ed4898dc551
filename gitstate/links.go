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

// Links are what one commit's files make an app read beyond its own
// directory: symbolic links that point inside the ops repository, and the
// local references of kustomizations (a base in ../base, a patch in
// another stage). Argo CD renders an app through them, so an app whose
// directory holds one, or whose path passes through a linked directory,
// deploys what it points at: its pending commits, its protection and a
// rollback's reach have to follow them.
type Links struct {
	to    map[string]string   // link path -> the path it resolves to ("" = the root)
	reads map[string][]string // kustomization path -> the paths it reads
	keys  []string            // link and kustomization paths, sorted
}

// NewLinks indexes links (link path -> its target as stored in git) and
// reads (a kustomization's path -> the repository paths it references).
// Absolute targets and targets that climb out of the repository are left
// out: Argo CD refuses to render through them.
func NewLinks(raw map[string]string, reads map[string][]string) *Links {
	l := &Links{to: make(map[string]string, len(raw)), reads: map[string][]string{}}
	for p, refs := range reads {
		p = strings.Trim(path.Clean("/"+p), "/")
		for _, r := range refs {
			r = path.Clean(r)
			if r == ".." || strings.HasPrefix(r, "../") || strings.HasPrefix(r, "/") {
				continue
			}
			if r == "." {
				r = ""
			}
			l.reads[p] = append(l.reads[p], r)
		}
		if len(l.reads[p]) > 0 {
			l.keys = append(l.keys, p)
		}
	}
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
		if _, dup := l.reads[p]; !dup {
			l.keys = append(l.keys, p)
		}
	}
	sort.Strings(l.keys)
	return l
}

// Len is how many symbolic links there are.
func (l *Links) Len() int {
	if l == nil {
		return 0
	}
	return len(l.to)
}

// Reads is how many kustomizations read something.
func (l *Links) Reads() int {
	if l == nil {
		return 0
	}
	return len(l.reads)
}

// Expand returns the paths that paths read through links and that are not
// among them: the target of every link inside one of them, the link a path
// passes through and what it resolves to, transitively.
func (l *Links) Expand(paths []string) []string {
	if l == nil || len(l.keys) == 0 {
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
		for _, key := range l.inside(p) {
			if to, ok := l.to[key]; ok {
				add(to, true)
			}
			for _, r := range l.reads[key] {
				add(r, true)
			}
		}
		// A path through a linked directory: the link itself (retargeting
		// it changes the app, and nothing else of it is read) and the path
		// it resolves to.
		for i := range len(p) {
			if len(l.to) == 0 {
				break
			}
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
	if l == nil || len(l.keys) == 0 {
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
		for _, key := range l.keys {
			var alias string
			if to, ok := l.to[key]; ok {
				switch {
				case to == "":
					alias = key + "/" + f
				case f == to:
					alias = key
				case strings.HasPrefix(f, to+"/"):
					alias = key + f[len(to):]
				}
			}
			// A kustomization reading f changes with it.
			for _, r := range l.reads[key] {
				if alias == "" && (r == "" || f == r || strings.HasPrefix(f, r+"/")) {
					alias = key
				}
			}
			if alias == "" {
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
