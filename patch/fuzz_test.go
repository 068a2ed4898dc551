package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzRedact: for any input in which a YAML or JSON parser (decoding into
// plain Go values, independently of the redactor's node walk) finds a Secret
// or SealedSecret, none of its values of 6+ characters appears in the diff.
func FuzzRedact(f *testing.F) {
	root := filepath.Join("..", "testdata", "secrets")
	_ = filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if b, err := os.ReadFile(p); err == nil {
				f.Add([]byte(nil), b)
				f.Add(b, bytes.ReplaceAll(b, []byte("sdleak"), []byte("sdLEAK")))
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, old, new []byte) {
		out := Unified([]Pair{{From: &File{Path: "s/a.yaml", Content: old}, To: &File{Path: "s/a.yaml", Content: new}}}, 3)
		content := contentOf(out)
		for _, side := range [][]byte{old, new} {
			for _, v := range independentSecretValues(side) {
				if len(strings.TrimSpace(v)) < minScrub || inMarker(v) {
					continue
				}
				if strings.Contains(content, v) {
					t.Fatalf("secret value %q in the output:\n%s", v, out)
				}
			}
		}
	})
}

// inMarker: a value that is part of a marker's own text.
func inMarker(v string) bool {
	for _, m := range Markers() {
		if strings.Contains(m, v) {
			return true
		}
	}
	return false
}

// contentOf is the diff's file content only (no headers), with every
// marker cut out as a NUL (sanitize.Body never lets one through), so no
// value can be spelled across a marker's edge.
func contentOf(out string) string {
	var sb strings.Builder
	for _, l := range strings.Split(out, "\n") {
		switch Classify(l) {
		case LineAdd, LineDelete, LineContext:
			sb.WriteString(l[min(1, len(l)):])
			sb.WriteByte('\n')
		}
	}
	s := sb.String()
	for _, m := range Markers() {
		s = strings.ReplaceAll(s, m, "\x00")
	}
	return s
}

// independentSecretValues decodes b as YAML documents (and as JSON) into
// plain Go values and returns the data values of every Secret and
// SealedSecret found anywhere in them.
func independentSecretValues(b []byte) []string {
	var out []string
	dec := yaml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, bom)))
	for i := 0; i < 64; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		out = append(out, secretsIn(v, 0)...)
	}
	var j any
	jd := json.NewDecoder(bytes.NewReader(b))
	for i := 0; i < 64 && jd.Decode(&j) == nil; i++ {
		out = append(out, secretsIn(j, 0)...)
	}
	return out
}

func secretsIn(v any, depth int) []string {
	if depth > 64 {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case map[string]any:
		switch x["kind"] {
		case "Secret":
			out = append(out, leaves(x["data"])...)
			out = append(out, leaves(x["stringData"])...)
		case "SealedSecret":
			if spec, ok := x["spec"].(map[string]any); ok {
				out = append(out, leaves(spec["encryptedData"])...)
				if tmpl, ok := spec["template"].(map[string]any); ok {
					out = append(out, leaves(tmpl["data"])...)
					out = append(out, leaves(tmpl["stringData"])...)
				}
			}
		}
		for _, c := range x {
			out = append(out, secretsIn(c, depth+1)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, secretsIn(c, depth+1)...)
		}
	}
	return out
}

func leaves(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case map[string]any:
		var out []string
		for _, c := range x {
			out = append(out, leaves(c)...)
		}
		return out
	case []any:
		var out []string
		for _, c := range x {
			out = append(out, leaves(c)...)
		}
		return out
	default:
		b, _ := json.Marshal(x)
		return []string{string(b)}
	}
}
