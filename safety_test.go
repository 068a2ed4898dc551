package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/cmdutil"
	"github.com/stagedeck/stagedeck/demo"
)

// hostile is what a repository or server can put in a text to drive a
// terminal: a title change, a colour, a carriage return, a C1 CSI, bidi.
const hostile = "\x1b]0;pwned\x07 \x1b[31mred \rover \u009b2J \u202eevil"

// assertInert fails when out carries any byte a terminal would act on.
func assertInert(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x202e {
			t.Errorf("%s: control %U at byte %d: %q", what, r, i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
	}
}

// hostileRepo: stages tst and prod, a commit whose subject and author are
// hostile, a values file with escape bytes, and the redaction corpus in tst.
func hostileRepo(t *testing.T) (dir, sha string) {
	dir = plainRepo(t)
	corpus := filepath.Join("testdata", "secrets")
	err := filepath.WalkDir(corpus, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpus, p)
		dst := filepath.Join(dir, "tst", "corpus", rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tst", "web", "values.yaml"), []byte("replicas: 3\nbanner: \"\x1b[2J\x1b]0;owned\x07\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCLI(t, dir, "add", "-A")
	cmd := exec.Command("git", "commit", "-q", "-m", "Deploy "+hostile)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Mallory \x1b[5m", "GIT_AUTHOR_EMAIL=m@example.com",
		"GIT_COMMITTER_NAME=M", "GIT_COMMITTER_EMAIL=m@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("commit: %v %s", err, out)
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return dir, strings.TrimSpace(string(out))
}

var corpusLeak = regexp.MustCompile(`sdleak\d\dx9Q[YZ]|c2RsZWFr[A-Za-z0-9+/=]+`)

func assertNoCorpusValue(t *testing.T, what, out string) {
	t.Helper()
	if m := corpusLeak.FindString(out); m != "" {
		t.Errorf("%s: secret value %s printed", what, m)
	}
}

// TestHostileTextAndSecretsOnEveryCLIPath: every command's output, stdout
// and stderr, byte by byte: no control character and no corpus value.
func TestHostileTextAndSecretsOnEveryCLIPath(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	repo, sha := hostileRepo(t)
	cfg := writeConfig(t, "opsRepo:\n  url: "+repo+"\nstages:\n  - {name: tst, path: tst}\n  - {name: prod, path: prod, protected: true}\n")
	runs := [][]string{
		{"status", "--config", cfg},
		{"diff", "--config", cfg, "tst", "--commit", sha},
		{"diff", "--config", cfg, "tst", "--against", "prod"},
		{"diff", "--config", cfg, "prod", "--against", "tst"},
		{"rollback", "--config", cfg, "tst", "--revert", sha, "--reason", "x"}, // preview, then refused: not a terminal
		{"rollback", "--config", cfg, "tst", "--to", sha + "~1", "--reason", "x"},
	}
	for _, args := range runs {
		out, errOut, code := stagedeck(t, args...)
		what := strings.Join(args[:1], " ") + " " + strings.Join(args[3:], " ")
		if code == exitUsage && strings.HasPrefix(args[0], "diff") {
			t.Errorf("%s: exit %d: %s", what, code, errOut)
		}
		assertInert(t, what+" stdout", out)
		assertInert(t, what+" stderr", errOut)
		assertNoCorpusValue(t, what, out+errOut)
		if args[0] != "status" && !strings.Contains(out, "<hidden") {
			t.Errorf("%s: no hidden marker in the diff:\n%s", what, out)
		}
	}
	out, _, _ := stagedeck(t, "log", "--config", cfg, "tst")
	if !strings.Contains(out, `Deploy \x1b]0;pwned\x07`) {
		t.Errorf("the hostile subject is not shown escaped:\n%s", out)
	}
	assertInert(t, "log", out)
	// JSON keeps the exact value; JSON's own escapes make it inert.
	out, _, _ = stagedeck(t, "status", "--config", cfg, "-o", "json")
	assertInert(t, "status -o json", out)
	var doc struct {
		Stages []struct {
			Head struct{ Subject, Author string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Stages[0].Head.Subject != "Deploy "+hostile || doc.Stages[0].Head.Author != "Mallory \x1b[5m" {
		t.Errorf("JSON does not keep the exact subject and author: %q %q", doc.Stages[0].Head.Subject, doc.Stages[0].Head.Author)
	}
}

func TestCredentialsNeverPrinted(t *testing.T) {
	const pw = "hunter2-Passw0rd"
	cache := filepath.Join(t.TempDir(), "cache")
	cfg := writeConfig(t, "opsRepo:\n  url: http://deploy:"+pw+"@127.0.0.1:1/ops.git\ncacheDir: "+cache+"\nstages:\n  - {name: tst, path: tst}\n")
	for _, args := range [][]string{{"status"}, {"status", "-o", "json"}, {"diff", "tst"}} {
		out, errOut, code := stagedeck(t, append(args, "--config", cfg)...)
		if args[0] == "status" && code != exitUnreachable {
			t.Errorf("%v: exit %d, want 3 (%s)", args, code, errOut)
		}
		if strings.Contains(out+errOut, pw) {
			t.Errorf("%v: the password is printed: %s%s", args, out, errOut)
		}
		if !strings.Contains(errOut, "http://***@127.0.0.1:1/ops.git") {
			t.Errorf("%v: the error does not name the URL with *** for its userinfo: %s", args, errOut)
		}
	}
	filepath.WalkDir(cache, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b)+p, pw) {
				t.Errorf("the password is in %s", p)
			}
		}
		return nil
	})

	t.Setenv("STAGEDECK_GIT_TOKEN", "tok-abcdef")
	cfg = writeConfig(t, "opsRepo:\n  url: http://git.example.com/ops.git\ncacheDir: "+cache+"\nstages:\n  - {name: tst, path: tst}\n")
	_, errOut, code := stagedeck(t, "status", "--config", cfg)
	if code != exitUsage || !strings.Contains(errOut, "only over https") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 || strings.Contains(errOut, "tok-abcdef") {
		t.Errorf("token over http: exit %d %q", code, errOut)
	}
}

// nestedConfig: stage ops owns prod/ (unprotected), stage prodapi owns
// prod/api (protected), and an app "ops-bundle" deploys all of prod/.
func nestedConfig(t *testing.T) (*demo.Sandbox, string) {
	t.Helper()
	sb, _ := sandboxConfig(t)
	sb.Argo.AddApp(argotest.AppSpec{Name: "ops-bundle", Project: "prod", RepoURL: sb.Remote, Path: "prod", Deployed: sb.Head()})
	cfg := fmt.Sprintf("opsRepo:\n  url: %s\nargocd:\n  context: demo\n  configPath: %s\ncacheDir: %s\nstages:\n"+
		"  - {name: tst, path: tst}\n  - {name: ops, path: prod}\n  - {name: prodapi, path: prod/api, protected: true}\n",
		sb.Remote, sb.Config.ArgoCD.ConfigPath, filepath.Join(t.TempDir(), "cache"))
	return sb, writeConfig(t, cfg)
}

func TestProtectionFollowsPaths(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := nestedConfig(t)
	bare := strings.TrimPrefix(sb.Remote, "file://")
	before := sb.Head()
	apiCommits := strings.Fields(remoteLog(t, bare, "log", "--format=%H", "-n", "2", "--", "prod/api"))

	// status shows the nesting.
	out, _, _ := stagedeck(t, "status", "--config", cfg)
	if !strings.Contains(out, "prodapi (prod/api) lies inside ops (prod)") {
		t.Errorf("status does not show the overlapping stages:\n%s", out)
	}

	// A rollback of the parent that rewrites prod/api needs prodapi's name.
	for _, args := range [][]string{
		{"rollback", "--config", cfg, "ops", "--to", apiCommits[1], "--reason", "x", "--yes"},
		{"rollback", "--config", cfg, "ops", "--revert", apiCommits[0], "--reason", "x", "--yes"},
		{"rollback", "--config", cfg, "ops", "--revert", apiCommits[0], "--reason", "x", "--yes", "--confirm", "ops"},
	} {
		_, errOut, code := stagedeck(t, args...)
		if code != exitRefused || !strings.Contains(errOut, "--confirm prodapi") {
			t.Errorf("%v: exit %d %q, want 1 asking for --confirm prodapi", args[3:], code, errOut)
		}
	}
	if sb.Head() != before {
		t.Fatal("a refused rollback pushed")
	}
	// A sync of the parent whose app deploys prod/ needs prodapi's name too.
	_, errOut, code := stagedeck(t, "sync", "--config", cfg, "ops", "--revision", before, "--yes")
	if code != exitRefused || !strings.Contains(errOut, "--confirm prodapi") {
		t.Errorf("sync ops: exit %d %q", code, errOut)
	}
	if n := len(syncCalls(sb)); n != 0 {
		t.Fatalf("%d syncs sent without prodapi's confirmation", n)
	}
	// One app of the parent that does not reach prod/api needs nothing more.
	if _, errOut, code := stagedeck(t, "sync", "--config", cfg, "ops", "prod-web", "--revision", before, "--yes", "--wait"); code != exitOK {
		t.Errorf("sync ops prod-web: exit %d %s", code, errOut)
	}
	// With the confirmation both go through, and the preview names the stages.
	out, errOut, code = stagedeck(t, "rollback", "--config", cfg, "ops", "--revert", apiCommits[0], "--reason", "x", "--yes", "--confirm", "prodapi")
	if code != exitOK || !strings.Contains(out, "# changes stages: ops, prodapi (protected)") || !strings.Contains(out, "as Ann Owner <ann@example.com>") {
		t.Errorf("rollback with --confirm prodapi: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = stagedeck(t, "sync", "--config", cfg, "ops", "--revision", sb.Head(), "--yes", "--confirm", "prodapi")
	if code != exitOK || !strings.Contains(errOut, "stages changed: ops, prodapi (protected)") {
		t.Errorf("sync with --confirm prodapi: exit %d %s", code, errOut)
	}
}

// TestNoAnonymousChanges: without STAGEDECK_OPERATOR or a git identity a
// rollback and a sync are refused before anything is built or sent.
func TestNoAnonymousChanges(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("STAGEDECK_OPERATOR", "")
	t.Setenv("USER", "someone")
	before := sb.Head()
	for _, args := range [][]string{
		{"rollback", "--config", cfg, "tst", "--revert", before, "--reason", "x", "--yes"},
		{"sync", "--config", cfg, "tst", "--revision", before, "--yes"},
	} {
		_, errOut, code := stagedeck(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "no identity") || !strings.Contains(errOut, "git config --global user.email") {
			t.Errorf("%s: exit %d %q", args[0], code, errOut)
		}
	}
	if sb.Head() != before || len(syncCalls(sb)) != 0 {
		t.Fatal("an anonymous change went through")
	}
	t.Setenv("STAGEDECK_OPERATOR", "Rita Oncall")
	if _, errOut, _ := stagedeck(t, "sync", "--config", cfg, "tst", "--revision", before, "--yes"); !strings.Contains(errOut, "has no email") {
		t.Errorf("an operator without an email: %q", errOut)
	}
	t.Setenv("STAGEDECK_OPERATOR", "Rita Oncall <rita@example.com>")
	bare := strings.TrimPrefix(sb.Remote, "file://")
	tstLast := strings.Fields(remoteLog(t, bare, "log", "--format=%H", "-n", "1", "--", "tst"))[0]
	if _, errOut, code := stagedeck(t, "rollback", "--config", cfg, "tst", "--revert", tstLast, "--reason", "INC-9", "--yes"); code != exitOK {
		t.Fatalf("rollback as Rita: exit %d %s", code, errOut)
	}
	if got := remoteLog(t, bare, "log", "-1", "--format=%an <%ae>|%B"); !strings.HasPrefix(got, "Rita Oncall <rita@example.com>|") || !strings.Contains(got, "Operator: Rita Oncall <rita@example.com>") {
		t.Errorf("commit identity: %q", got)
	}
}

// TestStatusExitCodes: the contract in the README's table.
func TestStatusExitCodes(t *testing.T) {
	sb, cfg := sandboxConfig(t)
	_, errOut, code := stagedeck(t, "status", "--config", cfg, "--exit-code")
	if code != exitPending || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "prod/prod-api") {
		t.Errorf("--exit-code with pending apps: exit %d %q, want 1 and one line naming them", code, errOut)
	}
	if _, _, code := stagedeck(t, "status", "--config", cfg); code != exitOK {
		t.Errorf("without --exit-code, pending apps: exit %d, want 0", code)
	}
	sb.Argo.Close()
	for _, args := range [][]string{{"status"}, {"status", "--exit-code"}, {"status", "-o", "json"}} {
		if _, errOut, code := stagedeck(t, append(args, "--config", cfg)...); code != exitUnreachable {
			t.Errorf("%v with Argo CD down: exit %d %q, want 3", args, code, errOut)
		}
	}
}

// TestLogGolden: the timeline of prod on the frozen demo, as a table and as
// JSON with the fields scripts rely on.
func TestLogGolden(t *testing.T) {
	t.Setenv("STAGEDECK_DEMO_EPOCH", demoEpoch)
	t.Setenv("STAGEDECK_DEMO_CI_INTERVAL", "-1s")
	out, errOut, code := stagedeck(t, "log", "--demo", "prod", "--since", "3d")
	if code != exitOK {
		t.Fatalf("exit %d %s", code, errOut)
	}
	golden(t, "log-prod-3d.txt", out)
	out, _, _ = stagedeck(t, "log", "--demo", "prod", "api", "-o", "json")
	var events []map[string]any
	if err := json.Unmarshal([]byte(out), &events); err != nil {
		t.Fatal(err)
	}
	kinds := map[any]int{}
	for _, e := range events {
		kinds[e["kind"]]++
		for _, k := range []string{"time", "kind", "revision"} {
			if e[k] == nil {
				t.Errorf("entry lacks %q: %v", k, e)
			}
		}
		if e["kind"] == "deploy" && (e["app"] != "prod-api" || e["initiatedBy"] == nil) {
			t.Errorf("deploy entry: %v", e)
		}
		if e["kind"] == "commit" && (e["author"] == nil || e["subject"] == nil) {
			t.Errorf("commit entry: %v", e)
		}
	}
	if kinds["commit"] == 0 || kinds["deploy"] == 0 {
		t.Errorf("kinds %v: want commits and deploys", kinds)
	}
	for _, args := range [][]string{{"log", "--demo", "nope"}, {"log", "--demo", "prod", "--since", "yesterday"}, {"log", "--demo", "prod", "nope"}} {
		if _, _, code := stagedeck(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestRunningContentIsNamed: prod-api is deployed at the worker's promotion
// (a commit elsewhere) and has a commit pending on its path; status names
// the commit of its own path whose content runs.
func TestRunningContentIsNamed(t *testing.T) {
	t.Setenv("STAGEDECK_DEMO_EPOCH", demoEpoch)
	t.Setenv("STAGEDECK_DEMO_CI_INTERVAL", "-1s")
	out, _, _ := stagedeck(t, "status", "--demo", "-o", "json")
	var doc struct {
		Stages []struct {
			Apps []struct {
				Name           string
				RunningContent *struct{ SHA, Subject string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range doc.Stages {
		for _, a := range s.Apps {
			if a.Name == "prod-api" {
				found = a.RunningContent != nil && strings.Contains(a.RunningContent.Subject, "raise api replicas")
			}
		}
	}
	if !found {
		t.Errorf("prod-api's running content is not the replica change:\n%s", out)
	}
	table, _, _ := stagedeck(t, "status", "--demo")
	if !regexp.MustCompile(`prod-api .* manual, runs [0-9a-f]{7}`).MatchString(table) {
		t.Errorf("the table does not say what prod-api runs:\n%s", table)
	}
}

// TestRollbackSyncAsksForItsStagesBeforeThePush: a rollback of ops whose
// commit changes prod/web only, with --sync: the sync would deploy
// ops-bundle (all of prod/, prodapi's directory too), so prodapi's name is
// asked before anything is committed or pushed, not after.
func TestRollbackSyncAsksForItsStagesBeforeThePush(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := nestedConfig(t)
	bare := strings.TrimPrefix(sb.Remote, "file://")
	web := strings.Fields(remoteLog(t, bare, "log", "--format=%H", "-n", "1", "--", "prod/web"))[0]
	before := sb.Head()
	_, errOut, code := stagedeck(t, "rollback", "--config", cfg, "ops", "--revert", web, "--reason", "x", "--yes", "--sync", "--also-deploy")
	if code != exitRefused || !strings.Contains(errOut, "--confirm prodapi") || !strings.Contains(errOut, "nothing was committed or pushed") {
		t.Errorf("rollback --sync deploying into prodapi: exit %d %q", code, errOut)
	}
	if sb.Head() != before || len(syncCalls(sb)) != 0 {
		t.Error("a refused rollback pushed or synced")
	}
}

// pushToSandbox clones the sandbox's remote, lets change edit the clone,
// commits and pushes; the new head.
func pushToSandbox(t *testing.T, sb *demo.Sandbox, subject string, change func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	gitCLI(t, filepath.Dir(dir), "clone", "-q", sb.Remote, dir)
	change(dir)
	gitCLI(t, dir, "add", "-A")
	gitCLI(t, dir, "-c", "user.name=CI", "-c", "user.email=ci@example.com", "commit", "-q", "-m", subject)
	gitCLI(t, dir, "push", "-q", "origin", "HEAD:main")
	return sb.Head()
}

func symlink(t *testing.T, dir, path, target string) {
	t.Helper()
	p := filepath.Join(dir, path)
	_ = os.Remove(p)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// TestProtectionFollowsSymbolicLinks: Argo CD renders an app through the
// links in its directory. A tst app whose values link into prod deploys
// prod's file: its sync needs --confirm prod, a change to that file is
// pending for it and in its diff. A rollback of a tst file that a prod
// app reads through a link changes prod: it needs --confirm prod.
func TestProtectionFollowsSymbolicLinks(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := sandboxConfig(t)
	pushToSandbox(t, sb, "tst: web reads prod's values, prod shares tst's common", func(dir string) {
		symlink(t, dir, "tst/web/values-prod.yaml", "../../prod/web/values.yaml")
		writeRepoFile(t, dir, "tst/api/common.yaml", "timeout: 5\n")
		symlink(t, dir, "prod/api/common.yaml", "../../tst/api/common.yaml")
	})
	prodChange := pushToSandbox(t, sb, "prod: web values", func(dir string) {
		writeRepoFile(t, dir, "prod/web/values.yaml", "replicas: 9\n")
	})

	web, ok := statusApps(t, cfg)["tst-web"]
	if !ok {
		t.Fatal("no tst-web in status")
	}
	if len(web.LinkedPaths) != 1 || web.LinkedPaths[0] != "prod/web/values.yaml" {
		t.Errorf("tst-web linkedPaths %q", web.LinkedPaths)
	}
	if !web.pending(prodChange) {
		t.Errorf("tst-web pending %+v lacks the change to prod's values it reads", web.Pending)
	}
	out, errOut, code := stagedeck(t, "diff", "--config", cfg, "tst", "web")
	if code != cmdutil.ExitPending || !strings.Contains(out, "prod/web/values.yaml") || !strings.Contains(out, "+replicas: 9") {
		t.Errorf("diff tst web does not show prod's values it reads: exit %d\n%s%s", code, out, errOut)
	}

	_, errOut, code = stagedeck(t, "sync", "--config", cfg, "tst", "web", "--revision", prodChange, "--yes")
	if code != exitRefused || !strings.Contains(errOut, "--confirm prod") {
		t.Errorf("sync of a tst app that reads prod's files: exit %d %q", code, errOut)
	}
	if calls := syncCalls(sb); len(calls) != 0 {
		t.Fatalf("a refused sync reached Argo CD: %+v", calls)
	}

	bad := pushToSandbox(t, sb, "tst: shorter timeout", func(dir string) {
		writeRepoFile(t, dir, "tst/api/common.yaml", "timeout: 1\n")
	})
	_, errOut, code = stagedeck(t, "rollback", "--config", cfg, "tst", "--revert", bad, "--reason", "x", "--yes")
	if code != exitRefused || !strings.Contains(errOut, "--confirm prod") {
		t.Errorf("rollback of a tst file prod reads: exit %d %q", code, errOut)
	}
	if sb.Head() != bad {
		t.Fatal("a refused rollback pushed")
	}
	out, errOut, code = stagedeck(t, "rollback", "--config", cfg, "tst", "--revert", bad, "--reason", "x", "--yes", "--confirm", "prod")
	if code != exitOK || !strings.Contains(out, "prod (protected)") {
		t.Errorf("confirmed rollback: exit %d\n%s%s", code, out, errOut)
	}
}

// TestTerminateAsksForEveryProtectedStageItStops: stopping a sync of the
// parent stage's app that deploys all of prod/ leaves the protected child
// prodapi half deployed, so it needs --confirm prodapi, as the sync did.
func TestTerminateAsksForEveryProtectedStageItStops(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := nestedConfig(t)
	sb.Argo.SetSyncDuration(time.Minute)
	if _, errOut, code := stagedeck(t, "sync", "--config", cfg, "ops", "ops-bundle", "--revision", sb.Head(), "--yes", "--confirm", "prodapi"); code != exitOK {
		t.Fatalf("sync: %d %s", code, errOut)
	}
	waitRunning(t, cfg) // Argo CD terminates only an operation its controller took
	_, errOut, code := stagedeck(t, "terminate", "--config", cfg, "ops")
	if code != exitRefused || !strings.Contains(errOut, "--confirm prodapi") || !strings.Contains(errOut, "nothing was sent") {
		t.Errorf("terminate of a sync into prodapi without its name: exit %d %q", code, errOut)
	}
	for _, c := range sb.Argo.Calls() {
		if c.Method == "TerminateOperation" {
			t.Fatalf("a refused terminate was sent: %+v", c)
		}
	}
	out, errOut, code := stagedeck(t, "terminate", "--config", cfg, "ops", "--confirm", "prodapi")
	if code != exitOK || !strings.Contains(out, "ops-bundle: terminate sent") {
		t.Errorf("confirmed terminate: exit %d\n%s%s", code, out, errOut)
	}
}

func writeRepoFile(t *testing.T, dir, path, content string) {
	t.Helper()
	p := filepath.Join(dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProtectionFollowsKustomizeReferences: kustomize renders what a
// kustomization references outside its directory. tst's web overlay
// patching with prod's file deploys it (its sync needs --confirm prod); a
// shared base both overlays read is pending for both, and rolling back a
// base change changes prod (it needs --confirm prod).
func TestProtectionFollowsKustomizeReferences(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := sandboxConfig(t)
	pushToSandbox(t, sb, "kustomize overlays over a shared base", func(dir string) {
		writeRepoFile(t, dir, "base/api/deployment.yaml", "kind: Deployment\nreplicas: 1\n")
		writeRepoFile(t, dir, "base/api/kustomization.yaml", "resources: [deployment.yaml]\n")
		writeRepoFile(t, dir, "tst/api/kustomization.yaml", "resources: [../../base/api]\n")
		writeRepoFile(t, dir, "prod/api/kustomization.yaml", "resources:\n  - ../../base/api\n")
		writeRepoFile(t, dir, "tst/web/kustomization.yaml", "resources: [.]\npatches:\n  - path: ../../prod/web/patch.yaml\n")
		writeRepoFile(t, dir, "prod/web/patch.yaml", "replicas: 4\n")
	})
	baseChange := pushToSandbox(t, sb, "base: two replicas", func(dir string) {
		writeRepoFile(t, dir, "base/api/deployment.yaml", "kind: Deployment\nreplicas: 2\n")
	})

	apps := statusApps(t, cfg)
	for _, name := range []string{"tst-api", "prod-api"} {
		a := apps[name]
		if !slices.Contains(a.LinkedPaths, "base/api") {
			t.Errorf("%s linkedPaths %q lack its base", name, a.LinkedPaths)
		}
		if !a.pending(baseChange) {
			t.Errorf("%s: the change to its base is not pending", name)
		}
	}

	head := sb.Head()
	if _, errOut, code := stagedeck(t, "sync", "--config", cfg, "tst", "web", "--revision", head, "--yes"); code != exitRefused || !strings.Contains(errOut, "--confirm prod") {
		t.Errorf("sync of a tst overlay patching with prod's file: exit %d %q", code, errOut)
	}
	if calls := syncCalls(sb); len(calls) != 0 {
		t.Fatalf("a refused sync reached Argo CD: %+v", calls)
	}
	// The base is no stage's: rolling it back changes tst and prod through their overlays.
	cfgBase := strings.Replace(readFile(t, cfg), "stages:\n", "stages:\n  - {name: shared, path: base}\n", 1)
	cfg2 := writeConfig(t, cfgBase)
	_, errOut, code := stagedeck(t, "rollback", "--config", cfg2, "shared", "--revert", baseChange, "--reason", "x", "--yes")
	if code != exitRefused || !strings.Contains(errOut, "--confirm prod") {
		t.Errorf("rollback of a base prod's overlay reads: exit %d %q", code, errOut)
	}
	if sb.Head() != head {
		t.Fatal("a refused rollback pushed")
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRollbackCountsTheAppsThatReadItsFiles: a prod app's Application
// names a values file in tst's directory. Reverting the tst commit that
// changed it changes what prod deploys, so it needs --confirm prod.
func TestRollbackCountsTheAppsThatReadItsFiles(t *testing.T) {
	t.Setenv("STAGEDECK_OPERATOR", "Ann Owner <ann@example.com>")
	sb, cfg := sandboxConfig(t)
	pushToSandbox(t, sb, "shared values", func(dir string) {
		writeRepoFile(t, dir, "tst/shared/values.yaml", "timeout: 5\n")
	})
	sb.Argo.AddApp(argotest.AppSpec{Name: "prod-shared", Project: "prod", RepoURL: sb.Remote, Path: "prod/web", Deployed: sb.Head(),
		ValueFiles: []string{"values.yaml", "../../tst/shared/values.yaml"}})
	bad := pushToSandbox(t, sb, "tst: shorter timeout", func(dir string) {
		writeRepoFile(t, dir, "tst/shared/values.yaml", "timeout: 1\n")
	})
	_, errOut, code := stagedeck(t, "rollback", "--config", cfg, "tst", "--revert", bad, "--reason", "x", "--yes")
	if code != exitRefused || !strings.Contains(errOut, "--confirm prod") {
		t.Errorf("rollback of a file prod's Application reads: exit %d %q", code, errOut)
	}
	if sb.Head() != bad {
		t.Fatal("a refused rollback pushed")
	}
	out, errOut, code := stagedeck(t, "rollback", "--config", cfg, "tst", "--revert", bad, "--reason", "x", "--yes", "--confirm", "prod")
	if code != exitOK || !strings.Contains(out, "prod (protected)") {
		t.Errorf("confirmed: exit %d\n%s%s", code, out, errOut)
	}
}
