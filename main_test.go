package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/internal/testrepo"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const demoEpoch = "2026-11-26T12:00:00Z"

// stagedeck runs the command line in-process and returns stdout, stderr and the exit code.
func stagedeck(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`stagedeck-demo-\d+`), "stagedeck-demo-X"},
	{regexp.MustCompile(`"(collectedAt|lastFetch|deployedAt)": "[^"]*"`), `"$1": "T"`},
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	for _, v := range volatile {
		got = v.re.ReplaceAllString(got, v.with)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestStatusDemoGolden(t *testing.T) {
	t.Setenv("STAGEDECK_DEMO_EPOCH", demoEpoch)
	t.Setenv("STAGEDECK_DEMO_CI_INTERVAL", "-1s")
	out, errOut, code := stagedeck(t, "status", "--demo")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line is %d columns wide, over 80: %q", n, line)
		}
	}
	golden(t, "status-demo.txt", out)

	out, _, code = stagedeck(t, "status", "--demo", "-o", "json", "--exit-code")
	if code != exitPending {
		t.Errorf("--exit-code with TST and PROD behind = %d, want %d", code, exitPending)
	}
	golden(t, "status-demo.json", out)
	var doc struct {
		Stages []struct {
			Name      string `json:"name"`
			Path      string `json:"path"`
			CIManaged *bool  `json:"ciManaged"`
			Head      struct {
				SHA, Author, Date, Subject string
			} `json:"head"`
			Apps []map[string]any `json:"apps"`
		} `json:"stages"`
		Errors []struct{ Source, Message string } `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	pending := 0
	for _, s := range doc.Stages {
		names = append(names, s.Name)
		if s.Head.SHA == "" || s.Head.Author == "" || s.Head.Date == "" || s.Head.Subject == "" || s.CIManaged == nil {
			t.Errorf("stage %s lacks head fields or ciManaged: %+v", s.Name, s)
		}
		for _, a := range s.Apps {
			for _, k := range []string{"name", "syncStatus", "healthStatus", "deployedRevision", "targetRevision", "autoSync", "pendingCommits", "operationPhase"} {
				if _, ok := a[k]; !ok {
					t.Errorf("app %v lacks %q", a["name"], k)
				}
			}
			if a["pendingCommits"].(float64) > 0 {
				pending++
			}
		}
	}
	if strings.Join(names, ",") != "mr-123,itg,tst,perf,prod" {
		t.Errorf("stages = %v", names)
	}
	if pending == 0 {
		t.Error("no app has pending commits in the demo")
	}
	if doc.Errors == nil {
		t.Error(`"errors" must be present (an empty list) for scripts`)
	}
}

func gitCLI(t *testing.T, dir string, args ...string) { t.Helper(); testrepo.Git(t, dir, args...) }

// plainRepo makes a local git repo with stages tst and prod.
func plainRepo(t *testing.T) string { return testrepo.Plain(t) }

func writeConfig(t *testing.T, body string) string { return testrepo.Config(t, body) }

func TestStatusGitOnly(t *testing.T) {
	repo := plainRepo(t)
	cfg := writeConfig(t, "opsRepo:\n  url: "+repo+"\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod, protected: true}\n")
	out, errOut, code := stagedeck(t, "status", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"git-only mode", "tst ", "protected · ", "Ann: Add web"} {
		if !strings.Contains(out, want) {
			t.Errorf("git-only status lacks %q:\n%s", want, out)
		}
	}
}

func TestBadInputExitCodes(t *testing.T) {
	repo := plainRepo(t)
	notGit := t.TempDir()
	cases := []struct {
		name   string
		config string // "" = no --config at all
		args   []string
		code   int
		msg    string
	}{
		{"missing config file", "-", nil, exitUsage, "no such file"},
		{"malformed yaml", "opsRepo: [\n", nil, exitUsage, "line"},
		{"unknown key", "opsRepo:\n  url: " + repo + "\n  brnch: main\nstages:\n  - {name: tst, path: tst}\n", nil, exitUsage, "line 3: field brnch not found"},
		{"wrong type", "opsRepo:\n  url: " + repo + "\nstages:\n  - {name: tst, path: tst, protected: maybe}\n", nil, exitUsage, "line 4"},
		{"duplicate stage", "opsRepo:\n  url: " + repo + "\nstages:\n  - {name: tst, path: tst}\n  - {name: TST, path: prod}\n", nil, exitUsage, "line 5: stages[1].name \"TST\" duplicates stages[0]"},
		{"unknown stage path", "opsRepo:\n  url: " + repo + "\nstages:\n  - {name: tst, path: test}\n", nil, exitUsage, "stage path test (tst)"},
		{"missing branch", "opsRepo:\n  url: " + repo + "\n  branch: release\nstages:\n  - {name: tst, path: tst}\n", nil, exitUsage, `branch not found: "release"`},
		{"not a git repo", "opsRepo:\n  url: " + notGit + "\nstages:\n  - {name: tst, path: tst}\n", nil, exitUsage, "not a git repository"},
		{"unreachable repo", "opsRepo:\n  url: file:///nonexistent/ops.git\ncacheDir: " + t.TempDir() + "\nstages:\n  - {name: tst, path: tst}\n", nil, exitUnreachable, "unreachable"},
		{"bad output flag", "opsRepo:\n  url: " + repo + "\nstages:\n  - {name: tst, path: tst}\n", []string{"-o", "yaml"}, exitUsage, "use -o table or -o json"},
		{"unknown flag", "opsRepo:\n  url: " + repo + "\nstages:\n  - {name: tst, path: tst}\n", []string{"--frobnicate"}, exitUsage, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "absent.yaml")
			if tc.config != "-" {
				cfg = writeConfig(t, tc.config)
			}
			args := append([]string{"status", "--config", cfg}, tc.args...)
			_, errOut, code := stagedeck(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (%s)", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.msg) {
				t.Errorf("stderr %q lacks %q", errOut, tc.msg)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "goroutine") {
				t.Errorf("error is not one line: %q", errOut)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	out, _, code := stagedeck(t, "version")
	if code != 0 || !strings.HasPrefix(out, "stagedeck dev") {
		t.Errorf("version: %d %q", code, out)
	}
}

// demoSecrets are prefixes of every sealed value the demo sandbox writes.
var demoSecrets = []string{"AgC4kX9Qz1c8", "AgBy3i4OJSWK", "AgBhR7tYw2nQ"}

func TestDiffCLIExitCodesAndRedaction(t *testing.T) {
	t.Setenv("STAGEDECK_DEMO_EPOCH", demoEpoch)
	t.Setenv("STAGEDECK_DEMO_CI_INTERVAL", "-1s")
	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"diff", "--demo", "tst"}, exitPending, []string{"+    tag: \"1.3.3\"", "tst/web/values.yaml"}},
		{[]string{"diff", "--demo", "perf"}, exitOK, nil},
		{[]string{"diff", "--demo", "tst", "--against", "perf"}, exitPending, []string{"-    DB_PASSWORD: <hidden>", "+    DB_PASSWORD: <hidden changed>", "    DB_USER: <hidden>"}},
		{[]string{"diff", "--demo", "prod", "api", "--manifests"}, exitPending, []string{"OutOfSync  bitnami.com.SealedSecret/prod-api/api-db", "+    DB_PASSWORD: <hidden changed>"}},
		{[]string{"diff", "--demo", "prod", "web"}, exitPending, []string{"FEATURE_NEW_CHECKOUT"}},
		{[]string{"diff", "--demo", "nope"}, exitUsage, nil},
		{[]string{"diff", "--demo", "tst", "nope"}, exitUsage, nil},
		{[]string{"diff", "--demo", "tst", "--commit", "0000000"}, exitUsage, nil},
		{[]string{"diff", "--demo", "tst", "--manifests", "--against", "perf"}, exitUsage, nil},
		{[]string{"diff", "--demo"}, exitUsage, nil},
	}
	for _, tc := range cases {
		out, errOut, code := stagedeck(t, tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, s := range demoSecrets {
			if strings.Contains(out+errOut, s) {
				t.Errorf("%v: sealed value %s… printed", tc.args, s)
			}
		}
	}
	// One commit of the range.
	out, _, _ := stagedeck(t, "status", "--demo", "-o", "json")
	var doc struct {
		Stages []struct {
			Name string
			Apps []struct {
				Name    string
				Pending []struct{ SHA string }
			}
		}
	}
	json.Unmarshal([]byte(out), &doc)
	var sha string
	for _, s := range doc.Stages {
		for _, a := range s.Apps {
			if a.Name == "tst-worker" && len(a.Pending) > 0 {
				sha = a.Pending[0].SHA
			}
		}
	}
	if sha == "" {
		t.Fatal("tst-worker has no pending commit in the demo")
	}
	out, _, code := stagedeck(t, "diff", "--demo", "tst", "--commit", sha)
	if code != exitPending || !strings.Contains(out, "tst/worker/values.yaml") || strings.Contains(out, "tst/web/") {
		t.Errorf("--commit %s: exit %d\n%s", sha[:7], code, out)
	}
}

func TestUnreachableExitCodes(t *testing.T) {
	cfg := writeConfig(t, "opsRepo:\n  url: file:///nonexistent/ops.git\ncacheDir: "+t.TempDir()+"\nstages:\n  - {name: tst, path: tst}\n")
	// diff keeps argocd app diff's convention (2 for any error); the rest
	// say 3 for an unreachable source.
	if _, errOut, code := stagedeck(t, "diff", "--config", cfg, "tst"); code != exitUsage || !strings.Contains(errOut, "unreachable") {
		t.Errorf("diff: exit %d %q, want 2 naming the unreachable repo", code, errOut)
	}
	for _, args := range [][]string{{"sync", "--config", cfg, "tst", "--revision", "abc", "--yes"}, {"log", "--config", cfg, "tst"}, {"terminate", "--config", cfg, "tst"}} {
		if _, errOut, code := stagedeck(t, args...); code != exitUnreachable || !strings.Contains(errOut, "unreachable") {
			t.Errorf("%v: exit %d %q, want 3 naming the unreachable repo", args[0], code, errOut)
		}
	}
	if _, _, code := stagedeck(t, "status", "--config", cfg); code != exitUnreachable {
		t.Errorf("status: exit %d, want 3", code)
	}
}

// The exit codes the tests check, as the commands promise them.
const (
	exitOK          = cmdutil.ExitOK
	exitPending     = cmdutil.ExitPending
	exitRefused     = cmdutil.ExitRefused
	exitUsage       = cmdutil.ExitUsage
	exitUnreachable = cmdutil.ExitUnreachable
)
