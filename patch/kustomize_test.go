package patch

import (
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
		fast := KustomizeReadsOutside("tst/web/kustomization.yaml", []byte(k))
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
	if got := KustomizeReadsOutside("tst/web/kustomization.yaml", []byte("resources: [svc.yaml, ./x/../y.yaml]\n")); len(got) != 0 {
		t.Errorf("references inside the directory: %q", got)
	}
}
