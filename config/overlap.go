package config

import "strings"

// PathsOverlap reports whether two repository paths (files or directories,
// no leading or trailing slash) contain one another: a change to one can
// change what the other deploys. The root ("", "."; an app source without
// a path, such as a multi-source app's ref source whose values files may
// be any stage's) contains every path.
func PathsOverlap(a, b string) bool {
	a, b = strings.Trim(a, "/"), strings.Trim(b, "/")
	if a == "" || a == "." || b == "" || b == "." {
		return true
	}
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// Touching lists, in config order, every stage whose directory overlaps any
// of paths: protection follows what a commit or a sync changes, not the
// stage name someone typed.
func (c *Config) Touching(paths []string) []Stage {
	var out []Stage
	for _, s := range c.Stages {
		if OverlapsAny(s.Path, paths) {
			out = append(out, s)
		}
	}
	return out
}

// Overlap is a stage whose directory lies inside another's.
type Overlap struct {
	Parent, Child string // stage names
}

// Overlaps lists nested stage directories (envs/ and envs/prod/): allowed,
// but shown, since a change to the parent can change the child.
func (c *Config) Overlaps() []Overlap {
	var out []Overlap
	for _, p := range c.Stages {
		for _, ch := range c.Stages {
			if p.Name != ch.Name && strings.HasPrefix(ch.Path, p.Path+"/") {
				out = append(out, Overlap{Parent: p.Name, Child: ch.Name})
			}
		}
	}
	return out
}

// Unconfirmed lists the protected stages among touched whose names are
// not in confirmed.
func Unconfirmed(touched []Stage, confirmed []string) []string {
	var out []string
	for _, s := range touched {
		if !s.Protected {
			continue
		}
		ok := false
		for _, c := range confirmed {
			ok = ok || c == s.Name
		}
		if !ok {
			out = append(out, s.Name)
		}
	}
	return out
}

// OverlapsAny reports whether p overlaps any of paths.
func OverlapsAny(p string, paths []string) bool {
	for _, q := range paths {
		if PathsOverlap(p, q) {
			return true
		}
	}
	return false
}

// Label names a stage for a preview, a protected one marked.
func Label(name string, protected bool) string {
	if protected {
		return name + " (protected)"
	}
	return name
}

// Names labels the stages, protected ones marked.
func Names(ss []Stage) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Label(s.Name, s.Protected)
	}
	return out
}
