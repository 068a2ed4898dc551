package gitstate

import (
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
)

// A link chain is followed at most maxLinkDepth links deep (the kernel
// follows 40); an expansion adds at most maxLinkedPaths paths. Past either
// the expansion fails closed: it reads the whole repository ("").
const (
	maxLinkDepth   = 40
	maxLinkedPaths = 4096
	maxAliases     = 1 << 16 // a rollback of a base a whole fleet reads
)

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

	once sync.Once
	rev  map[string][]string // a link's target or a kustomization's read -> the links and kustomizations
}

// NewLinks indexes links (link path -> its target as stored in git) and
// reads (a kustomization's path -> the repository paths it references,
// joined to its directory). A target is resolved one component at a time,
// through the links it passes, as the kernel resolves it; absolute
// targets, targets that climb out of the repository and loops are left
// out: Argo CD refuses to render through them.
func NewLinks(raw map[string]string, reads map[string][]string) *Links {
	l := &Links{to: make(map[string]string, len(raw)), reads: map[string][]string{}}
	clean := make(map[string]string, len(raw))
	for p, target := range raw {
		if p = strings.Trim(path.Clean("/"+p), "/"); p != "" {
			clean[p] = target
		}
	}
	for p, target := range clean {
		budget := maxLinkDepth
		if r, ok := resolve(clean, path.Dir(p), target, &budget); ok {
			l.to[p] = r
		}
	}
	for p, refs := range reads {
		p = strings.Trim(path.Clean("/"+p), "/")
		add := func(r string) {
			if !slices.Contains(l.reads[p], r) {
				l.reads[p] = append(l.reads[p], r)
			}
		}
		for _, r := range refs {
			// As written, and as the kernel resolves it through links.
			if c, ok := RepoPath(r); ok && !strings.HasPrefix(r, "/") {
				add(c)
			}
			budget := maxLinkDepth
			if res, ok := resolve(clean, ".", r, &budget); ok {
				add(res)
			}
		}
		if len(l.reads[p]) > 0 {
			l.keys = append(l.keys, p)
		}
	}
	for p := range l.to {
		if _, dup := l.reads[p]; !dup {
			l.keys = append(l.keys, p)
		}
	}
	sort.Strings(l.keys)
	return l
}

// resolve walks target from dir one component at a time, replacing each
// link met by what it resolves to; false when the walk leaves the
// repository, is absolute, or follows more links than budget allows (as
// the kernel, which gives up after 40 in all).
func resolve(links map[string]string, dir, target string, budget *int) (string, bool) {
	if strings.HasPrefix(target, "/") {
		return "", false
	}
	var cur []string
	if d := strings.Trim(path.Clean(dir), "/"); d != "." && d != "" {
		cur = strings.Split(d, "/")
	}
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return "", false
			}
			cur = cur[:len(cur)-1]
			continue
		}
		cur = append(cur, c)
		if t, ok := links[strings.Join(cur, "/")]; ok {
			if *budget--; *budget < 0 {
				return "", false
			}
			r, ok := resolve(links, strings.Join(cur[:len(cur)-1], "/"), t, budget)
			if !ok {
				return "", false
			}
			cur = nil
			if r != "" {
				cur = strings.Split(r, "/")
			}
		}
	}
	return strings.Join(cur, "/"), true
}

// RepoPath cleans p, relative to the repository's root, to a path of
// the repository ("" for the root); false when it climbs out (Argo CD
// refuses to read there).
func RepoPath(p string) (string, bool) {
	p = path.Clean(p)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	if p = strings.Trim(p, "/"); p == "." {
		p = ""
	}
	return p, true
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
// among them: the target of every link inside one of them, what every
// kustomization inside one of them reads, the link a path passes through
// and what it resolves to, transitively. Past its bounds it returns the
// whole repository ("").
func (l *Links) Expand(paths []string) []string {
	if l == nil || len(l.keys) == 0 {
		return nil
	}
	followed := map[string]bool{} // paths whose reads are in out
	listed := map[string]bool{}
	for _, p := range paths {
		p = strings.Trim(p, "/")
		followed[p], listed[p] = true, true
	}
	var out []string
	work := append([]string(nil), paths...)
	list := func(q string) {
		if !listed[q] {
			listed[q] = true
			out = append(out, q)
		}
	}
	for steps := 0; len(work) > 0; steps++ {
		if steps > maxLinkedPaths || len(out) > maxLinkedPaths {
			return []string{""}
		}
		p := strings.Trim(work[len(work)-1], "/")
		work = work[:len(work)-1]
		follow := func(q string) {
			if !covered(followed, q) {
				followed[q] = true
				list(q)
				work = append(work, q)
			}
		}
		for _, key := range l.inside(p) {
			if to, ok := l.to[key]; ok {
				follow(to)
			}
			for _, r := range l.reads[key] {
				follow(r)
			}
		}
		// A path through a linked directory: the link itself (retargeting
		// it changes the app; nothing else of it is read) and the path it
		// resolves to.
		for i := range len(p) {
			if p[i] != '/' {
				continue
			}
			if to, ok := l.to[p[:i]]; ok {
				list(p[:i])
				follow(strings.TrimPrefix(to+p[i:], "/"))
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// Aliases returns the paths, not among files, that reach files through
// links or kustomizations: a change to a file a link points at, or a
// kustomization reads, is a change to what every app reading through that
// link or kustomization deploys. Past its bounds it returns the whole
// repository ("").
func (l *Links) Aliases(files []string) []string {
	if l == nil || len(l.keys) == 0 {
		return nil
	}
	l.once.Do(l.index)
	seen := map[string]bool{}
	type step struct {
		path  string
		depth int
	}
	var work []step
	for _, f := range files {
		f = strings.Trim(f, "/")
		seen[f] = true
		work = append(work, step{f, 0})
	}
	var out []string
	for steps := 0; len(work) > 0; steps++ {
		// Links into each other make ever longer aliases: past the
		// kernel's depth, or the count, every path may be reached.
		if steps > len(files)+maxAliases || len(out) > maxAliases || work[len(work)-1].depth > maxLinkDepth {
			return []string{""}
		}
		f, depth := work[len(work)-1].path, work[len(work)-1].depth
		work = work[:len(work)-1]
		// Every prefix of f (the root included) a link points at or a
		// kustomization reads.
		for i := 0; i <= len(f); i++ {
			if i < len(f) && f[i] != '/' && i != 0 {
				continue
			}
			prefix := f[:i]
			if i == 0 {
				prefix = ""
			}
			for _, key := range l.rev[prefix] {
				alias := key
				if to, ok := l.to[key]; ok && to == prefix {
					// A link to a directory holding its own path (to ".",
					// to a parent) only repeats what is there already.
					if prefix == "" || key == prefix || strings.HasPrefix(key, prefix+"/") {
						continue
					}
					alias = key + f[len(prefix):]
				}
				if !seen[alias] {
					seen[alias] = true
					out = append(out, alias)
					work = append(work, step{alias, depth + 1})
				}
			}
			if i == len(f) {
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// index builds rev, once.
func (l *Links) index() {
	l.rev = map[string][]string{}
	for key, to := range l.to {
		l.rev[to] = append(l.rev[to], key)
	}
	for key, reads := range l.reads {
		for _, r := range reads {
			if !slices.Contains(l.rev[r], key) {
				l.rev[r] = append(l.rev[r], key)
			}
		}
	}
	for _, keys := range l.rev {
		sort.Strings(keys)
	}
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

// inside lists the links and kustomizations at p or below it ("" = the
// whole repository).
func (l *Links) inside(p string) []string {
	if p == "" {
		return l.keys
	}
	var out []string
	_, link := l.to[p]
	_, kust := l.reads[p]
	if link || kust {
		out = append(out, p)
	}
	// Below p: one sorted run ("p-x" sorts between "p" and "p/").
	for i := sort.SearchStrings(l.keys, p+"/"); i < len(l.keys) && strings.HasPrefix(l.keys[i], p+"/"); i++ {
		out = append(out, l.keys[i])
	}
	return out
}
