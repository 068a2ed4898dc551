package patch

import (
	"bytes"
	"path"
	"strings"

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
// own directory, for protection: every reference that leaves it has "..",
// so every token with ".." counts, whatever its key (a comment or an
// inline patch can add a path, never drop one). That scan is 50 times as
// fast as the YAML parse a fleet of overlays would otherwise cost on every
// head. Content that YAML could decode into a ".." the text does not show
// (escapes, !!binary) is parsed as well.
func KustomizeReadsOutside(kustomizationPath string, content []byte) []string {
	dir := path.Dir(kustomizationPath)
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != dir && !strings.HasPrefix(p, dir+"/") && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if bytes.ContainsRune(content, '\\') || bytes.Contains(content, []byte("!!")) {
		for _, p := range KustomizeReads(kustomizationPath, content) {
			add(p)
		}
	}
	for _, tok := range bytes.FieldsFunc(content, isRefSeparator) {
		if !bytes.Contains(tok, []byte("..")) || bytes.HasPrefix(tok, []byte("/")) {
			continue
		}
		add(path.Join(dir, string(tok)))
	}
	return out
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
