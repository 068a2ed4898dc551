package patch

import (
	"fmt"
	"strings"
	"testing"
)

func TestZZScratch(t *testing.T) {
	deep := strings.Repeat("[", 300) + `{kind: Secret, data: {a: LEAKdeep01}}` + strings.Repeat("]", 300) + "\n"
	cases := []struct{ name, path, content string }{
		{"escaped-kind-plus-parse-error", "a.yaml", "kind: \"\\x53ecret\"\nstringData:\n  p: LEAKesc001\n---\nfoo: [unclosed\n"},
		{"embedded-helm-template", "values.yaml", "extraObjects: |\n  apiVersion: v1\n  kind: Secret\n  metadata:\n    name: {{ .Release.Name }}-x\n  stringData:\n    password: LEAKhelm01\n"},
		{"embedded-one-line-json", "values.yaml", "extra: '{\"kind\":\"Secret\",\"stringData\":{\"p\":\"LEAKjson01\"}}'\n"},
		{"dup-data-field", "a.yaml", "kind: Secret\ndata:\n  a: LEAKdup001\ndata:\n  b: xx\n"},
		{"dup-kind", "a.yaml", "kind: Secret\nkind: ConfigMap\nstringData:\n  a: LEAKdup002\n"},
		{"merge-seq-order", "a.yaml", "x-a: &a {kind: Secret}\nx-b: &b {kind: ConfigMap}\n<<: [*a, *b]\nstringData:\n  p: LEAKmrg001\n"},
		{"json6902-patch", "kustomization.yaml", "patches:\n- target: {kind: Secret, name: db}\n  patch: |-\n    - op: replace\n      path: /data/password\n      value: LEAKpatch1\n"},
		{"builtin-secretgenerator", "gen.yaml", "apiVersion: builtin\nkind: SecretGenerator\nmetadata: {name: x}\nliterals:\n- password=LEAKgen001\n"},
		{"deep", "a.yaml", deep},
		{"env-file-no-kustomization", "envs/prod/db.properties", "password=LEAKprop01\n"},
		{"lowercase-kind", "a.yaml", "kind: secret\nstringData:\n  p: LEAKlow001\n"},
		{"helm-template-string-json", "a.json", "{\"kind\":\"\\u0053ecret\",\"stringData\":{\"p\":\"LEAKjs0002\"}} }\n"},
		{"sealed-old-data", "a.yaml", "kind: SealedSecret\nspec:\n  data: LEAKsold01\n"},
		{"embedded-in-key", "a.yaml", "? |\n  kind: Secret\n  stringData: {p: LEAKkey001}\n: x\n"},
		{"embedded-parse-error-dup", "values.yaml", "m: |\n  kind: Secret\n  stringData:\n    p: LEAKemb002\n  x: [\n"},
		{"yaml-inside-json-string-escape", "values.yaml", "m: \"kind: Secret\\nstringData: {p: LEAKesc002}\"\n"},
		{"list-kind-deep-seq-merge", "a.yaml", "kind: Secret\n<<: {stringData: {p: LEAKmrg002}}\n"},
		{"stringData-base64-elsewhere", "a.yaml", "kind: Secret\nstringData: {p: LEAKb64x01}\n---\nkind: ConfigMap\ndata: {x: TEVBS2I2NHgwMQ==}\n"},
	}
	for _, c := range cases {
		for mode, pr := range map[string]Pair{"add": {To: &File{Path: c.path, Content: []byte(c.content)}}} {
			out := Unified([]Pair{pr}, 3)
			leak := strings.Contains(out, "LEAK") || strings.Contains(out, "TEVBS2I2NHgwMQ")
			fmt.Printf("=== %s %s leak=%v\n%s\n", c.name, mode, leak, out)
		}
	}
}
