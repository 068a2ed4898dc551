// Package patch renders unified diffs for people to review before a sync:
// git changes, Argo CD manifests, two stage directories. Secret values never
// leave it: Secrets and SealedSecrets are reduced to their keys, each marked
// added, removed, changed or unchanged.
package patch

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Hidden-value markers. A changed value reads "<hidden>" on the old side and
// "<hidden changed>" on the new one, so the diff shows the key as changed.
const (
	hiddenSame    = "<hidden>"
	hiddenChanged = "<hidden changed>"
	hiddenAdded   = "<hidden added>"
	hiddenRemoved = "<hidden removed>"
)

// secretKind matches documents whose values must never be shown.
var secretKind = regexp.MustCompile(`(?m)^\s*kind:\s*["']?(Secret|SealedSecret)["']?\s*$`)

// hasSecretKind looks for a Secret or SealedSecret kind line; the substring
// test keeps the regexp off the 10 MB values files that have none.
func hasSecretKind(b []byte) bool {
	return bytes.Contains(b, []byte("Secret")) && secretKind.Match(b)
}

// unparseable replaces a file that mentions a secret kind but is not YAML.
const unparseable = "# stagedeck: this file declares a Secret or SealedSecret but is not valid YAML; its content is hidden\n"

// secretDoc is one Secret or SealedSecret document's hideable values.
type secretDoc struct {
	id     string                // kind/namespace/name
	values map[string]*yaml.Node // "data.KEY" -> value node
	orig   map[string]string     // "data.KEY" -> original value, for comparing
}

// RedactPair hides the secret values of a file's two versions (nil = absent),
// comparing them key by key. Files without a Secret or SealedSecret document
// are returned unchanged; files with one are re-encoded as YAML.
func RedactPair(old, new []byte) ([]byte, []byte) {
	if !hasSecretKind(old) && !hasSecretKind(new) {
		return old, new
	}
	oldDocs, errOld := parseDocs(old)
	newDocs, errNew := parseDocs(new)
	if errOld != nil || errNew != nil {
		// No key-by-key comparison: hide a broken side whole, redact the other alone.
		alone := func(b []byte, docs []*yaml.Node, err error) []byte {
			switch {
			case b == nil:
				return nil
			case err != nil:
				return []byte(unparseable)
			}
			for _, d := range collect(docs) {
				for _, n := range d.values {
					setHidden(n, hiddenSame)
				}
			}
			return encodeDocs(b, docs)
		}
		return alone(old, oldDocs, errOld), alone(new, newDocs, errNew)
	}
	oldSecrets, newSecrets := collect(oldDocs), collect(newDocs)
	mark(oldSecrets, newSecrets, hiddenRemoved, true)
	mark(newSecrets, oldSecrets, hiddenAdded, false)
	return encodeDocs(old, oldDocs), encodeDocs(new, newDocs)
}

// mark replaces each value of mine, comparing with the same key in theirs.
func mark(mine, theirs map[string]secretDoc, missing string, oldSide bool) {
	for id, d := range mine {
		other, ok := theirs[id]
		for k, n := range d.values {
			theirValue, present := "", false
			if ok {
				theirValue, present = other.orig[k]
			}
			switch {
			case !present:
				setHidden(n, missing)
			case d.orig[k] == theirValue:
				setHidden(n, hiddenSame)
			case oldSide:
				setHidden(n, hiddenSame)
			default:
				setHidden(n, hiddenChanged)
			}
		}
	}
}

func setHidden(n *yaml.Node, marker string) {
	n.Kind, n.Tag, n.Style, n.Value, n.Content = yaml.ScalarNode, "!!str", 0, marker, nil
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
}

func canonical(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	b, _ := yaml.Marshal(n)
	return string(b)
}

func parseDocs(b []byte) ([]*yaml.Node, error) {
	if b == nil {
		return nil, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// collect records the secret values of every Secret and SealedSecret document
// and strips last-applied-configuration annotations, which repeat the data.
func collect(docs []*yaml.Node) map[string]secretDoc {
	out := map[string]secretDoc{}
	for i, d := range docs {
		root := d
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		if root.Kind != yaml.MappingNode {
			continue
		}
		kind := scalar(get(root, "kind"))
		if kind != "Secret" && kind != "SealedSecret" {
			continue
		}
		meta := get(root, "metadata")
		id := kind + "/" + scalar(get(meta, "namespace")) + "/" + scalar(get(meta, "name"))
		if scalar(get(meta, "name")) == "" {
			id += "#" + string(rune('0'+i))
		}
		if ann := get(meta, "annotations"); ann != nil {
			for j := 0; j+1 < len(ann.Content); j += 2 {
				if ann.Content[j].Value == "kubectl.kubernetes.io/last-applied-configuration" {
					setHidden(ann.Content[j+1], hiddenSame)
				}
			}
		}
		sd := secretDoc{id: id, values: map[string]*yaml.Node{}, orig: map[string]string{}}
		add := func(prefix string, m *yaml.Node) {
			if m == nil {
				return
			}
			if m.Kind != yaml.MappingNode {
				sd.values[prefix], sd.orig[prefix] = m, canonical(m) // hide a non-map value as one
				return
			}
			for j := 0; j+1 < len(m.Content); j += 2 {
				k := prefix + "." + m.Content[j].Value
				sd.values[k], sd.orig[k] = m.Content[j+1], canonical(m.Content[j+1])
			}
		}
		if kind == "Secret" {
			add("data", get(root, "data"))
			add("stringData", get(root, "stringData"))
		} else {
			spec := get(root, "spec")
			add("encryptedData", get(spec, "encryptedData"))
			add("template.data", get(get(spec, "template"), "data"))
			add("template.stringData", get(get(spec, "template"), "stringData"))
		}
		out[id] = sd
	}
	return out
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func encodeDocs(orig []byte, docs []*yaml.Node) []byte {
	if orig == nil {
		return nil
	}
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 || strings.HasPrefix(strings.TrimSpace(string(orig)), "---") {
			buf.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return []byte(unparseable)
		}
		enc.Close()
	}
	return buf.Bytes()
}
