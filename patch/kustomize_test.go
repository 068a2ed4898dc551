package patch

import (
	"path"
	"slices"
	"strings"
	"testing"
)

func TestKustomizeReadsEveryLocalReference(t *testing.T) {
	k := []byte(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base/web
  - deployment.yaml
  - https://github.com/acme/shared//deploy?ref=v1
  - github.com/acme/other/deploy
bases: [../../legacy]
components:
  - ../../components/tls
crds: [../crds/x.yaml]
patchesStrategicMerge:
  - ../../prod/web/patch.yaml
  - |-
    apiVersion: v1
    kind: ConfigMap
patches:
  - path: ../shared/patch.yaml
    target: {kind: Deployment}
  - patch: |-
      - op: add
patchesJson6902:
  - path: ../json.yaml
replacements:
  - path: ../repl.yaml
configMapGenerator:
  - name: cfg
    files: [app.conf=../../conf/app.conf]
    envs: [../../env/web.env]
secretGenerator:
  - name: s
    files: [../../secrets/key]
helmCharts:
  - name: x
    valuesFile: ../../values/x.yaml
    additionalValuesFiles: [../../values/y.yaml]
helmGlobals:
  chartHome: ../../charts
openapi:
  path: ../schema.json
generators: [../gen.yaml]
transformers: [../tr.yaml]
validators: [../val.yaml]
configurations: [../conf.yaml]
`)
	got := KustomizeReads("tst/web/kustomization.yaml", k)
	for _, want := range []string{"base/web", "tst/web/deployment.yaml", "legacy", "components/tls", "tst/crds/x.yaml",
		"prod/web/patch.yaml", "tst/shared/patch.yaml", "tst/json.yaml", "tst/repl.yaml", "conf/app.conf", "env/web.env",
		"secrets/key", "values/x.yaml", "values/y.yaml", "charts", "tst/schema.json", "tst/gen.yaml", "tst/tr.yaml",
		"tst/val.yaml", "tst/conf.yaml"} {
		if !slices.Contains(got, want) {
			t.Errorf("reads lack %s: %q", want, got)
		}
	}
	for _, p := range got {
		if slices.Contains([]string{"tst/web/https:/github.com/acme/shared/deploy?ref=v1", "tst/web/github.com/acme/other/deploy"}, p) {
			t.Errorf("a remote reference read as a local path: %s", p)
		}
	}
	if len(got) != 20 {
		t.Errorf("%d reads; want 20: %q", len(got), got)
	}
	if got := KustomizeReads("k/kustomization.yaml", []byte("{not yaml")); len(got) != 0 {
		t.Errorf("broken kustomization: %q", got)
	}
}

// TestKustomizeReadsOutsideCoversTheParse: the fast scan finds every
// reference the YAML parse finds outside the kustomization's directory,
// also where YAML would decode one from escapes or !!binary.
func TestKustomizeReadsOutsideCoversTheParse(t *testing.T) {
	for _, k := range []string{
		"resources: [../../base/web]\n",
		"resources:\n- \"../../base/web\"\n- './svc.yaml'\n",
		"configMapGenerator:\n- name: c\n  files: [a=../../conf/a, b=../b]\n",
		"patches:\n- path: ../../prod/web/patch.yaml\n  target: {kind: Deployment}\n",
		"resources: [\"\\x2e\\x2e/\\x2e\\x2e/prod/web\"]\n", // escapes
		"resources: [!!binary Li4vLi4vcHJvZC93ZWI=]\n",      // ../../prod/web
		"x: &b ../../base/web\nresources: [*b]\n",           // an alias
		"helmCharts:\n- name: c\n  valuesFile: ../../values/c.yaml\n",
	} {
		parsed := KustomizeReads("tst/web/kustomization.yaml", []byte(k))
		var fast []string
		for _, p := range KustomizeReadsOutside("tst/web/kustomization.yaml", []byte(k)) {
			fast = append(fast, path.Clean(p))
		}
		for _, p := range parsed {
			if p == "tst/web" || strings.HasPrefix(p, "tst/web/") {
				continue
			}
			if !slices.Contains(fast, p) {
				t.Errorf("%q: the scan misses %s (got %q)", k, p, fast)
			}
		}
		if len(fast) == 0 {
			t.Errorf("%q: nothing found outside", k)
		}
	}
	if got := KustomizeReadsOutside("tst/web/kustomization.yaml", []byte("resources: [svc.yaml, ./x]\n")); len(got) != 0 {
		t.Errorf("references without ..: %q", got)
	}
}

// TestKustomizeReadsOutsideSeesThroughDisguises: what YAML decodes to
// ../../prod/web however it is spelled, kustomize reads; so does the scan.
// Content that does not parse reads the whole repository.
func TestKustomizeReadsOutsideSeesThroughDisguises(t *testing.T) {
	utf16 := []byte{0xff, 0xfe}
	for _, r := range "resources: [../../prod/web]\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	for name, k := range map[string][]byte{
		"verbatim tag": []byte("resources: [!<tag:yaml.org,2002:binary> Li4vLi4vcHJvZC93ZWI=]\n"),
		"%TAG handle":  []byte("%TAG !e! tag:yaml.org,2002:\n---\nresources: [!e!binary Li4vLi4vcHJvZC93ZWI=]\n"),
		"upper key":    []byte("RESOURCES: [\"\\x2E\\x2E/\\x2E\\x2E/prod/web\"]\n"),
		"utf-16":       utf16,
	} {
		got := KustomizeReadsOutside("tst/web/kustomization.yaml", k)
		found := false
		for _, p := range got {
			found = found || path.Clean(p) == "prod/web" || p == ""
		}
		if !found {
			t.Errorf("%s: %q", name, got)
		}
	}
	if got := KustomizeReadsOutside("tst/web/kustomization.yaml", []byte("resources: [\\x2e\n  - : : {")); len(got) != 1 || got[0] != "" {
		t.Errorf("an unparseable disguised kustomization: %q; want the root", got)
	}
}
