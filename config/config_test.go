package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDefaultsAndContexts(t *testing.T) {
	c, err := Parse([]byte(`
opsRepo:
  url: git@github.com:acme/ops.git
argocd:
  context: corp
stages:
  - name: itg
    path: /envs/itg/
  - name: prod
    path: envs/prod
    protected: true
    argocd: prod-argocd
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.OpsRepo.Branch != "main" || c.Refresh.Duration != 30*time.Second {
		t.Errorf("defaults: branch %q refresh %v", c.OpsRepo.Branch, c.Refresh)
	}
	if c.Stages[0].Path != "envs/itg" {
		t.Errorf("path not normalised: %q", c.Stages[0].Path)
	}
	if c.ContextFor(c.Stages[0]) != "corp" || c.ContextFor(c.Stages[1]) != "prod-argocd" {
		t.Error("per-stage argocd context not honoured")
	}
	if s, ok := c.StageByName("PROD"); !ok || !s.Protected {
		t.Error("StageByName is not case-insensitive")
	}
	if c.GitOnly() {
		t.Error("argocd section present but GitOnly")
	}
}

func TestParseErrorsNameKeyAndLine(t *testing.T) {
	cases := map[string]string{
		"opsRepo:\n  url: x\nstages:\n  - name: a\n    path: a\n    protectd: true\n":        "line 6: field protectd not found",
		"opsRepo:\n  url: x\nstages:\n  - name: a\n    path: a\n    protected: yes please\n": "line 6: cannot unmarshal",
		"opsRepo:\n  url: x\nstages:\n  - {name: a, path: a}\n  - {name: a, path: b}\n":      `line 5: stages[1].name "a" duplicates stages[0]`,
		"opsRepo:\n  url: x\nstages:\n  - {name: a}\n":                                       `line 4: stages[0].path is missing`,
		"opsRepo:\n  url: x\nstages:\n  - {name: a, path: ../up}\n":                          "must stay inside",
		"opsRepo:\n  url: x\nstages:\n  - {name: a, path: ./.}\n":                            "is the repository's root",
		"stages:\n  - {name: a, path: a}\n":                                                  "opsRepo.url is missing",
		"opsRepo:\n  url: x\n":                                                               "stages is empty",
		"opsRepo:\n  url: x\nrefreshInterval: soon\nstages:\n  - {name: a, path: a}\n":       "line 3: refreshInterval",
		"opsRepo:\n  url: x\nstages:\n  - {name: a, path: a, argocd: other}\n":               "no top-level argocd section",
		"": "file is empty",
	}
	for src, want := range cases {
		_, err := Parse([]byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want it to mention %q", src, err, want)
		}
	}
}

func TestFindOrder(t *testing.T) {
	dir := t.TempDir()
	xdg := filepath.Join(dir, "xdg")
	t.Setenv("XDG_CONFIG_HOME", xdg)
	t.Chdir(dir)
	if _, err := Find(""); err == nil || !strings.Contains(err.Error(), "--demo") {
		t.Errorf("no config: %v", err)
	}
	os.MkdirAll(filepath.Join(xdg, "stagedeck"), 0o755)
	os.WriteFile(filepath.Join(xdg, "stagedeck", "config.yaml"), []byte("x"), 0o644)
	if p, _ := Find(""); p != filepath.Join(xdg, "stagedeck", "config.yaml") {
		t.Errorf("XDG config not found: %q", p)
	}
	os.WriteFile("stagedeck.yaml", []byte("x"), 0o644)
	if p, _ := Find(""); p != "stagedeck.yaml" {
		t.Errorf("./stagedeck.yaml must win: %q", p)
	}
	if p, _ := Find("explicit.yaml"); p != "explicit.yaml" {
		t.Errorf("--config must win: %q", p)
	}
}

func TestOperatorsAndServe(t *testing.T) {
	base := "opsRepo:\n  url: x\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod, protected: true}\n"
	c, err := Parse([]byte(base + "operators:\n  - {name: Ann Owner, email: ann@example.com, fingerprint: 'SHA256:abc', stages: [tst, prod]}\nserve:\n  idleTimeout: 5m\n"))
	if err != nil || len(c.Operators) != 1 || c.Serve.IdleTimeout != 5*time.Minute || c.Serve.MaxSessionsPerKey != 4 {
		t.Fatalf("%v %+v", err, c)
	}
	for body, want := range map[string]string{
		"operators:\n  - {name: Ann, stages: [tst], key: k}\n":                              "name and email are required",
		"operators:\n  - {name: Ann, email: a@x, stages: [tst]}\n":                          "exactly one of key",
		"operators:\n  - {name: Ann, email: a@x, fingerprint: 'MD5:aa', stages: [tst]}\n":   "SHA256",
		"operators:\n  - {name: Ann, email: a@x, fingerprint: 'SHA256:aa', stages: [qa]}\n": `no stage "qa"`,
		"operators:\n  - {name: Ann, email: a@x, fingerprint: 'SHA256:aa'}\n":               "stages is empty",
		"serve:\n  idleTimeout: soon\n":                                                     "serve.idleTimeout",
		"serve:\n  maxSessionsPerKey: -1\n":                                                 "maxSessionsPerKey",
	} {
		if _, err := Parse([]byte(base + body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
