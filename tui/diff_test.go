package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stagedeck/stagedeck/review"
)

// fakeDiff records requests and answers with fixed text.
type fakeDiff struct {
	reqs     []review.Request
	compares [][3]string
	manifest int
}

const configDiffText = `diff --git a/tst/web/values.yaml b/tst/web/values.yaml
index 1111111..2222222 100644
--- a/tst/web/values.yaml
+++ b/tst/web/values.yaml
@@ -1,4 +1,4 @@
 web:
   image:
-    tag: "1.4.2"
+    tag: "1.4.3"
   replicaCount: 2
diff --git a/tst/web/templates/sealed.yaml b/tst/web/templates/sealed.yaml
index 3333333..4444444 100644
--- a/tst/web/templates/sealed.yaml
+++ b/tst/web/templates/sealed.yaml
@@ -3,3 +3,3 @@
   encryptedData:
-    DB_PASSWORD: <hidden>
+    DB_PASSWORD: <hidden changed>
     DB_USER: <hidden>
diff --git a/tst/web/logo.png b/tst/web/logo.png
index 5555555..6666666 100644
Binary files a/tst/web/logo.png and b/tst/web/logo.png differ
`

func (f *fakeDiff) PendingDiff(_ context.Context, r review.Request) (string, error) {
	f.reqs = append(f.reqs, r)
	return configDiffText, nil
}
func (f *fakeDiff) CompareDiff(_ context.Context, head, a, b string) (string, error) {
	f.compares = append(f.compares, [3]string{head, a, b})
	return "diff --git a/web/values.yaml b/web/values.yaml\n--- a/web/values.yaml\n+++ b/web/values.yaml\n@@ -1 +1 @@\n-replicas: 4\n+replicas: 2\n", nil
}
func (f *fakeDiff) ManifestDiff(context.Context, []review.Target) (string, error) {
	f.manifest++
	return "# tst-web: 1 resources\n#   OutOfSync  ConfigMap/tst-web/tst-web-values\n", nil
}

// run drains a Cmd (and batches) into the model, as the runtime would for
// the messages our own Cmds return.
func run(m Model, cmd func() any) Model {
	if cmd == nil {
		return m
	}
	msg := cmd()
	mm, _ := m.Update(msg)
	return mm.(Model)
}

func TestDiffScreen(t *testing.T) {
	fd := &fakeDiff{}
	m := newModel(fixtureBoard(), 120, 40)
	m.opts.Diff = fd
	m = press(t, m, "j", "j", "j", "j", "j") // tst-web
	mm, cmd := m.Update(keyMsg("d"))
	m = mm.(Model)
	if m.current() != screenDiff || !m.diffS().loading || cmd == nil {
		t.Fatalf("d did not open a loading diff: %v", m.current())
	}
	m = run(m, func() any { return cmd() })
	if len(fd.reqs) != 1 || fd.reqs[0].Head != "c0ffee1" || fd.reqs[0].Commit != "" || len(fd.reqs[0].Targets) != 1 ||
		fd.reqs[0].Targets[0].Deployed != fixtureBoard().Stages[1].Apps[1].DeployedRevision {
		t.Errorf("request = %+v; want tst-web's deployed..reviewed head", fd.reqs)
	}
	golden(t, "diff-120x40", screenText(m))
	// n selects the one pending commit; a reply for the old selection is dropped.
	old := m.diffS().gen
	mm, cmd = m.Update(keyMsg("n"))
	m = mm.(Model)
	mm, _ = m.Update(diffLoadedMsg{gen: old, text: "stale"})
	m = mm.(Model)
	if m.diffS().text == "stale" {
		t.Error("a stale diff reply replaced the current one")
	}
	m = run(m, func() any { return cmd() })
	if got := fd.reqs[len(fd.reqs)-1].Commit; !strings.HasPrefix(got, "c0ffee1") {
		t.Errorf("n asked for commit %q", got)
	}
	// tab: the manifests tab.
	mm, cmd = m.Update(keyMsg("tab"))
	m = run(mm.(Model), func() any { return cmd() })
	if fd.manifest != 1 || !strings.Contains(screenText(m), "OutOfSync  ConfigMap/tst-web/tst-web-values") {
		t.Errorf("manifests tab:\n%s", screenText(m))
	}
	m = press(t, m, "esc")
	if m.current() != screenBoard || m.selected() != (rowKey{"tst", "tst-web"}) {
		t.Errorf("esc from the diff: %v at %v", m.current(), m.selected())
	}
}

func TestDiffScrollsOnlyVisibleLines(t *testing.T) {
	m := newModel(fixtureBoard(), 80, 24)
	m.opts.Diff = &fakeDiff{}
	var sb strings.Builder
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "+line %d\n", i)
	}
	m.push(&diffScreen{kind: diffCompare, title: "big", gen: 1, loading: true})
	mm, _ := m.Update(diffLoadedMsg{gen: 1, text: sb.String()})
	m = press(t, mm.(Model), "G")
	out := screenText(m)
	if !strings.Contains(out, "+line 99999") || strings.Contains(out, "+line 0\n") {
		t.Errorf("G did not reach the end of a 100,000-line diff:\n%s", out)
	}
	m = press(t, m, "g")
	if !strings.Contains(screenText(m), "+line 0") {
		t.Error("g did not return to the top")
	}
}

func TestCompareStages(t *testing.T) {
	fd := &fakeDiff{}
	m := newModel(fixtureBoard(), 80, 24)
	m.opts.Diff = fd
	m = press(t, m, "j", "j", "j", "c") // on TST
	if m.current() != screenPick {
		t.Fatal("c did not open the stage picker")
	}
	golden(t, "pick-80x24", screenText(m))
	m = press(t, m, "j") // itg, prod -> prod
	mm, cmd := m.Update(keyMsg("enter"))
	m = run(mm.(Model), func() any { return cmd() })
	if len(fd.compares) != 1 || fd.compares[0] != [3]string{"c0ffee1", "tst", "prod"} {
		t.Errorf("compare request = %v", fd.compares)
	}
	if !strings.Contains(screenText(m), "Promote tst → prod") || !strings.Contains(screenText(m), "+replicas: 2") {
		t.Errorf("compare view:\n%s", screenText(m))
	}
	golden(t, "compare-80x24", screenText(m))
}

func TestPagerGetsNoCredentials(t *testing.T) {
	env := PagerEnv([]string{"PATH=/bin", "ARGOCD_AUTH_TOKEN=x", "STAGEDECK_GIT_TOKEN=y", "SSH_AUTH_SOCK=/tmp/s", "ARGOCD_OPTS=--auth-token z", "LESS=-R"})
	if strings.Join(env, " ") != "PATH=/bin LESS=-R" {
		t.Errorf("pager env = %v", env)
	}
}
