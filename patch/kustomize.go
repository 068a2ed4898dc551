package patch

import (
	"bytes"
	"path"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// KustomizeReads lists the local paths a kustomization reads (resources,
// bases, components, patches, generator files, helm values, plugin
// configs…), joined to its directory: what kustomize (and so Argo CD)
// renders besides the kustomization's own directory. Remote references
// (URLs, git addresses) and absolute paths are left out.
func KustomizeReads(kustomizationPath string, content []byte) []string {
	dir := path.Dir(kustomizationPath)
	seen := map[string]bool{}
	var out []string
	add := func(ref string) {
		ref = strings.TrimSpace(ref)
		if ref == "" || remoteRef(ref) {
			return
		}
		if p := path.Join(dir, ref); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, d := range parseSide(content).docs {
		root := deref(d)
		if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = deref(root.Content[0])
		}
		// Lists of paths (an inline patch or plugin config has a newline
		// and is left out by remoteRef).
		for _, field := range []string{"resources", "bases", "components", "crds", "configurations",
			"patchesStrategicMerge", "generators", "transformers", "validators"} {
			for _, ref := range strs(get(root, field)) {
				add(ref)
			}
		}
		// Lists of objects with a path.
		for _, field := range []string{"patches", "patchesJson6902", "replacements"} {
			for _, p := range seq(get(root, field)) {
				for _, ref := range strs(get(p, "path")) {
					add(ref)
				}
			}
		}
		for _, ref := range strs(get(get(root, "openapi"), "path")) {
			add(ref)
		}
		for _, field := range []string{"configMapGenerator", "secretGenerator"} {
			for _, g := range seq(get(root, field)) {
				for _, f := range []string{"envs", "env", "files"} {
					for _, ref := range strs(get(g, f)) {
						if _, p, ok := strings.Cut(ref, "="); ok && f == "files" {
							ref = p
						}
						add(ref)
					}
				}
			}
		}
		for _, c := range seq(get(root, "helmCharts")) {
			for _, ref := range strs(get(c, "valuesFile")) {
				add(ref)
			}
			for _, ref := range strs(get(c, "additionalValuesFiles")) {
				add(ref)
			}
		}
		for _, ref := range strs(get(get(root, "helmGlobals"), "chartHome")) {
			add(ref)
		}
	}
	return out
}

// remoteRef reports whether a kustomization's reference is not a local
// path: a URL, a git address, an inline document or an absolute path.
func remoteRef(ref string) bool {
	return strings.Contains(ref, "://") || strings.HasPrefix(ref, "git@") || strings.HasPrefix(ref, "/") ||
		strings.ContainsAny(ref, "\n?") || strings.HasPrefix(ref, "github.com/") || strings.HasPrefix(ref, "gitlab.com/") ||
		strings.HasPrefix(ref, "bitbucket.org/")
}

// IsKustomization reports whether p is a file kustomize reads as a
// kustomization.
func IsKustomization(p string) bool { return isKustomization(p) }

// KustomizeReadsOutside lists what a kustomization may read outside its
// own directory, for protection, as "dir/reference" (not cleaned: a link
// inside the reference changes where its ".." climbs from): every
// reference that leaves the directory has "..", so every token with ".."
// counts, whatever its key (a comment or an inline patch can add a path,
// never drop one). That scan is 50 times as fast as the YAML parse a fleet
// of overlays would otherwise cost on every head. Content YAML could
// decode into a ".." the text does not show (escapes, tags, %TAG, another
// encoding) has every string it decodes to scanned as well; if it does
// not parse, it may read anything: the repository's root ("") is read.
func KustomizeReadsOutside(kustomizationPath string, content []byte) []string {
	dir := path.Dir(kustomizationPath)
	seen := map[string]bool{}
	var out []string
	add := func(tok string) {
		if strings.Contains(tok, "..") && !strings.HasPrefix(tok, "/") && !remoteRef(tok) {
			if p := dir + "/" + tok; !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if Disguised(content) {
		sd := parseSide(content)
		if sd.err != nil || len(sd.docs) == 0 && len(bytes.TrimSpace(content)) > 0 {
			return []string{""}
		}
		for _, d := range sd.docs {
			eachString(d, func(s string) {
				for _, tok := range strings.FieldsFunc(s, isRefSeparator) {
					add(tok)
				}
			})
		}
	}
	for _, p := range DotDotRefs(kustomizationPath, content) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// DotDotRefs lists, as "dir/token", every token of a file's text that has
// ".." (a path that may leave its directory): what a jsonnet import or any
// reference the text spells plainly can read outside it.
func DotDotRefs(filePath string, content []byte) []string {
	dir := path.Dir(filePath)
	seen := map[string]bool{}
	var out []string
	for _, tok := range bytes.FieldsFunc(content, isRefSeparator) {
		t := string(tok)
		if !strings.Contains(t, "..") || strings.HasPrefix(t, "/") || remoteRef(t) {
			continue
		}
		if p := dir + "/" + t; !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Disguised reports whether YAML content may decode to text its bytes do
// not show: escapes, tags (!!binary, verbatim !<…>, %TAG handles), a byte
// order mark or another encoding, NUL bytes or invalid UTF-8.
func Disguised(content []byte) bool {
	return bytes.ContainsAny(content, "\\!%\x00") || bytes.HasPrefix(content, []byte{0xef, 0xbb, 0xbf}) ||
		bytes.HasPrefix(content, []byte{0xfe, 0xff}) || bytes.HasPrefix(content, []byte{0xff, 0xfe}) || !utf8.Valid(content)
}

// eachString calls f with every scalar n holds, decoded (keys too).
func eachString(n *yaml.Node, f func(string)) {
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || seen[n] || depth > 200 {
			return
		}
		seen[n] = true
		if n.Kind == yaml.ScalarNode {
			f(str(n))
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
		walk(n.Alias, depth+1)
	}
	walk(n, 0)
}

// isRefSeparator splits YAML text into candidate path tokens: blanks,
// flow punctuation, quotes, "key=path" and "key: path".
func isRefSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '[', ']', '{', '}', ',', '"', '\'', '=', ':', '#':
		return true
	}
	return false
}
