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
		for _, side := range [][]byte{old, new} {
			for _, v := range independentSecretValues(side) {
				if len(strings.TrimSpace(v)) < minScrub || overlapsMarker(v) || strings.Contains("s/a.yaml", v) {
					continue
				}
				if strings.Contains(out, v) {
					t.Fatalf("secret value %q in the output:\n%s", v, out)
				}
			}
		}
	})
}

// overlapsMarker: a value that a marker or a fixed line could spell.
func overlapsMarker(v string) bool {
	for _, m := range Markers() {
		if strings.Contains(m, v) {
			return true
		}
		for k := 1; k <= len(m) && k <= len(v); k++ {
			if strings.HasPrefix(v, m[len(m)-k:]) || strings.HasSuffix(v, m[:k]) {
				return true
			}
		}
	}
	return false
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
