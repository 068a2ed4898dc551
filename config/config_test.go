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
