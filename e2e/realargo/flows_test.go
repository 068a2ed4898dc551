//go:build realargo

package realargo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo"
	"github.com/stagedeck/stagedeck/argo/argotest"
	"github.com/stagedeck/stagedeck/e2e/termtest"
)

// application is what the tests read of an Application straight from the
// kube-apiserver, bypassing Argo CD's API and stagedeck.
type application struct {
	Spec struct {
		Source struct {
			TargetRevision string `json:"targetRevision"`
		} `json:"source"`
	} `json:"spec"`
	Status struct {
		Sync struct {
			Status   string `json:"status"`
			Revision string `json:"revision"`
		} `json:"sync"`
		Health struct {
			Status string `json:"status"`
		} `json:"health"`
		OperationState *struct {
			Phase      string `json:"phase"`
			StartedAt  string `json:"startedAt"`
			SyncResult struct {
				Revision string `json:"revision"`
			} `json:"syncResult"`
		} `json:"operationState"`
		History []struct {
			Revision string `json:"revision"`
		} `json:"history"`
	} `json:"status"`
}

func getApp(t *testing.T, name string) application {
	t.Helper()
	out, err := env.kubectl("get", "application", name, "-n", appNamespace(strings.SplitN(name, "-", 2)[0]), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var a application
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func deployedOf(a application) string {
	if a.Status.OperationState != nil && a.Status.OperationState.SyncResult.Revision != "" {
		return a.Status.OperationState.SyncResult.Revision
	}
	if n := len(a.Status.History); n > 0 {
		return a.Status.History[n-1].Revision
	}
	return ""
}

func waitApp(t *testing.T, name, what string, timeout time.Duration, ok func(application) bool) application {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a := getApp(t, name)
		if ok(a) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not reached in %s: %+v", name, what, timeout, a.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func remoteHead(t *testing.T) string {
	out, err := run(env.dir, nil, "git", "-C", env.bare, "rev-parse", "main")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func configMapData(t *testing.T, ns, name, key string) string {
	out, _ := env.kubectl("get", "configmap", name, "-n", ns, "-o", "jsonpath={.data."+key+"}")
	return out
}

// TestSyncDeploysTheReviewedRevision: the owner reviews head, CI pushes a
// newer commit, `stagedeck sync --revision <reviewed>` deploys the reviewed
// one: the ConfigMap in the kube-apiserver has the reviewed content.
func TestSyncDeploysTheReviewedRevision(t *testing.T) {
	cfg := env.config("")
	reviewed, err := env.commitPush("tst: web version 2", map[string]string{"tst/web/configmap.yaml": webManifest("tst", "2")})
	if err != nil {
		t.Fatal(err)
	}
	newer, err := env.commitPush("tst: web version 3", map[string]string{"tst/web/configmap.yaml": webManifest("tst", "3")})
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := env.stagedeckRun("sync", "--config", cfg, "tst", "web", "--revision", reviewed, "--yes", "--wait", "--timeout", "2m")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "1 newer commit(s) on these apps' paths will not be deployed") {
		t.Errorf("no head-moved note: %s", errOut)
	}
	a := getApp(t, "tst-web")
	if got := deployedOf(a); got != reviewed {
		t.Errorf("Argo CD deployed %s, want the reviewed %s (head is %s)", got, reviewed, newer)
	}
	if v := configMapData(t, "tst", "web-config", "version"); v != "2" {
		t.Errorf("ConfigMap tst/web-config version = %q, want the reviewed 2", v)
	}
	// Sync the other manual apps to head so later flows start settled: PERF
	// and PROD as admin, their owners are others.
	for _, st := range []string{"tst", "perf", "prod"} {
		c := cfg
		if st != "tst" {
			c = env.adminCfg()
		}
		args := []string{"sync", "--config", c, st, "web", "--revision", remoteHead(t), "--yes", "--wait", "--timeout", "2m"}
		if st == "prod" {
			args = append(args, "--confirm", "prod")
		}
		if out, errOut, code := env.stagedeckRun(args...); code != 0 {
			t.Fatalf("sync %s: exit %d\n%s%s", st, code, out, errOut)
		}
	}
}

// TestStatusEqualsTheTruth: deployed revision from Argo CD (the sync
// result, not the compared revision), head from git.
func TestStatusEqualsTheTruth(t *testing.T) {
	cfg := env.config("")
	type appStatus struct {
		Name             string
		SyncStatus       string
		DeployedRevision string
		ComparedRevision string // status.sync.revision (schema 2; was targetRevision)
		TargetRevision   string // the spec's target
	}
	var doc struct {
		Stages []struct {
			Name string
			Head struct{ SHA string }
			Apps []appStatus
		}
	}
	truthOf := func() map[string]appStatus {
		out := map[string]appStatus{}
		for _, st := range stages {
			for _, app := range []string{"web", "api"} {
				a := getApp(t, st+"-"+app)
				out[st+"-"+app] = appStatus{Name: st + "-" + app, SyncStatus: a.Status.Sync.Status, DeployedRevision: deployedOf(a), ComparedRevision: a.Status.Sync.Revision, TargetRevision: a.Spec.Source.TargetRevision}
			}
		}
		return out
	}
	// Argo CD keeps reconciling: compare only a snapshot taken while its
	// state did not move (read before and after stagedeck's).
	var truth map[string]appStatus
	for attempt := 0; ; attempt++ {
		before := truthOf()
		out, errOut, code := env.stagedeckRun("status", "--config", cfg, "-o", "json")
		if code != 0 {
			t.Fatalf("status: exit %d %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		after := truthOf()
		if fmt.Sprint(before) == fmt.Sprint(after) {
			truth = after
			break
		}
		if attempt == 20 {
			t.Fatal("Argo CD never held still for a snapshot")
		}
		time.Sleep(500 * time.Millisecond)
	}
	apps := 0
	for _, st := range doc.Stages {
		want, _ := run(env.dir, nil, "git", "-C", env.bare, "log", "-1", "--format=%H", "main", "--", st.Name)
		if st.Head.SHA != want {
			t.Errorf("%s head %s, git says %s", st.Name, st.Head.SHA, want)
		}
		for _, a := range st.Apps {
			apps++
			if a != truth[a.Name] {
				t.Errorf("stagedeck says %+v, Argo CD %+v", a, truth[a.Name])
			}
		}
	}
	if apps != 8 {
		t.Errorf("status found %d apps, want 8 (4 stages x web, api)", apps)
	}
}

// TestDiffManifestsShowsManagedResources compares `diff --manifests` with
// the managed-resources endpoint, and checks the SealedSecret is redacted.
func TestDiffManifestsShowsManagedResources(t *testing.T) {
	cfg := env.config("")
	if _, err := env.commitPush("tst: rotate api password, more replicas", map[string]string{
		"tst/api/templates/sealedsecret.yaml": sealed("tst", sealedValues[1]),
		"tst/api/values.yaml":                 "replicas: 3\nlogLevel: info\n",
	}); err != nil {
		t.Fatal(err)
	}
	_, _ = env.api("GET", "/api/v1/applications/tst-api?refresh=normal", env.token, nil)
	waitApp(t, "tst-api", "compared with the new head", time.Minute, func(a application) bool { return a.Status.Sync.Revision == remoteHead(t) })
	res, err := env.api("GET", "/api/v1/applications/tst-api/managed-resources", env.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := env.stagedeckRun("diff", "--config", cfg, "tst", "api", "--manifests")
	if code != 1 {
		t.Fatalf("diff --manifests: exit %d, want 1 (differences)\n%s%s", code, out, errOut)
	}
	items, _ := res["items"].([]any)
	if len(items) == 0 {
		t.Fatal("managed-resources returned nothing")
	}
	for _, it := range items {
		m := it.(map[string]any)
		name, kind := fmt.Sprint(m["name"]), fmt.Sprint(m["kind"])
		if !strings.Contains(out, kind) || !strings.Contains(out, name) {
			t.Errorf("diff lacks %s/%s:\n%s", kind, name, out)
		}
	}
	for _, want := range []string{`+  replicas: "3"`, "DB_PASSWORD: <hidden"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	for _, v := range sealedValues {
		if strings.Contains(out+errOut, v) {
			t.Errorf("sealed value %s printed", v)
		}
	}
}

// TestRollbackRevertOnITGIsPickedUpByAutoSync: a revert commit on itg is
// pushed and Argo CD's auto-sync deploys it.
func TestRollbackRevertOnITGIsPickedUpByAutoSync(t *testing.T) {
	cfg := env.config("")
	bad, err := env.commitPush("itg: web version 9 (bad)", map[string]string{"itg/web/configmap.yaml": webManifest("itg", "9")})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = env.api("GET", "/api/v1/applications/itg-web?refresh=normal", env.token, nil)
	waitApp(t, "itg-web", "auto-synced the bad commit", 2*time.Minute, func(a application) bool { return deployedOf(a) == bad })
	// Argo CD refuses to pin an app with auto-sync: stagedeck says so
	// before it sends anything (the owner may sync itg-web).
	before := getApp(t, "itg-web")
	if _, errOut, code := env.stagedeckRun("sync", "--config", cfg, "itg", "web", "--revision", bad, "--yes"); code != 1 ||
		!strings.Contains(errOut, "refused before sending") || !strings.Contains(errOut, "auto-sync follows") {
		t.Errorf("pinned sync of auto-sync itg-web: exit %d, %s", code, errOut)
	}
	started := func(a application) string {
		if a.Status.OperationState == nil {
			return ""
		}
		return a.Status.OperationState.StartedAt
	}
	if after := getApp(t, "itg-web"); started(after) != started(before) {
		t.Errorf("a refused sync started an operation: %+v", after.Status.OperationState)
	}
	// --sync leaves it to auto-sync, and says so.
	out, errOut, code := env.stagedeckRun("rollback", "--config", cfg, "itg", "--revert", bad, "--reason", "bad version", "--yes", "--sync")
	if code != 0 || !strings.Contains(errOut, "itg-web has auto-sync: Argo CD deploys the rollback on its own") {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
	revert := remoteHead(t)
	if !strings.Contains(out, "pushed "+revert[:7]) {
		t.Errorf("output:\n%s", out)
	}
	_, _ = env.api("GET", "/api/v1/applications/itg-web?refresh=normal", env.token, nil)
	waitApp(t, "itg-web", "auto-synced the revert", 2*time.Minute, func(a application) bool { return deployedOf(a) == revert })
	if v := configMapData(t, "itg", "web-config", "version"); v == "9" {
		t.Errorf("the revert did not reach the cluster: version %q", v)
	}
}

func TestReadOnlyRefusesAndNothingHappens(t *testing.T) {
	cfg := env.config("readOnly: true\n")
	before := getApp(t, "perf-web")
	_, errOut, code := env.stagedeckRun("sync", "--config", cfg, "perf", "web", "--revision", remoteHead(t), "--yes")
	if code != 2 || !strings.Contains(errOut, "read-only mode") {
		t.Errorf("read-only sync: exit %d %s", code, errOut)
	}
	_, errOut, code = env.stagedeckRun("rollback", "--config", cfg, "perf", "--to", remoteHead(t)+"~1", "--reason", "x", "--yes")
	if code == 0 || !strings.Contains(errOut, "read-only") {
		t.Errorf("read-only rollback: exit %d %s", code, errOut)
	}
	after := getApp(t, "perf-web")
	if len(after.Status.History) != len(before.Status.History) {
		t.Error("a read-only run changed perf-web's history")
	}
}

func TestBadTokenGivesTheLoginHint(t *testing.T) {
	cfg := env.withArgoConfig(func(s string) string { return strings.Replace(s, env.ownerToken, "not-a-token", 1) })
	out, errOut, code := env.stagedeckRun("status", "--config", cfg, "--exit-code")
	if code != 3 || !strings.Contains(out+errOut, "argocd login "+env.argoAddr) {
		t.Errorf("bad token: exit %d\n%s%s", code, out, errOut)
	}
}

// realBackend runs the argo package's shared suite (argotest.RunSuite)
// against the real Argo CD; the fake runs the same suite in package argo.
type realBackend struct{ n int }

func (b *realBackend) Client(t *testing.T, readOnly bool) *argo.Client {
	return argotest.Dial(t, env.argoConfig, readOnly)
}

func (b *realBackend) BadTokenClient(t *testing.T) (*argo.Client, error) {
	bad := filepath.Join(t.TempDir(), "argocd-bad")
	data, _ := os.ReadFile(env.argoConfig)
	os.WriteFile(bad, []byte(strings.Replace(string(data), env.ownerToken, "not-a-token", 1)), 0o600)
	return argo.Dial(argo.Options{ConfigPath: bad})
}

func (b *realBackend) DeniedApp() string { return "perf-web" }

func (b *realBackend) Account() string { return "owner" }

func (b *realBackend) MultiSourceApp() string { return "multi-web" }

func (b *realBackend) ValuesApp() string { return "values-web" }

func (b *realBackend) Addr() string { return env.argoAddr }

// SetDenyWindow puts the window on the tst project (the owner's apps').
func (b *realBackend) SetDenyWindow(t *testing.T, app string, manualSync bool) {
	patch := fmt.Sprintf(`{"spec":{"syncWindows":[{"kind":"deny","schedule":"* * * * *","duration":"1h","applications":[%q],"manualSync":%v}]}}`, app, manualSync)
	if out, err := env.kubectl("patch", "appproject", "tst", "-n", "argocd", "--type", "merge", "-p", patch); err != nil {
		t.Fatalf("patch windows: %v %s", err, out)
	}
	t.Cleanup(func() {
		_, _ = env.kubectl("patch", "appproject", "tst", "-n", "argocd", "--type", "merge", "-p", `{"spec":{"syncWindows":null}}`)
	})
}

// HoldSync commits a PreSync Pod hook to app's path: with no kubelet in
// the tier the Pod never runs, so the sync waits on it until terminated.
func (b *realBackend) HoldSync(t *testing.T, app string) string {
	dir := strings.Replace(app, "-", "/", 1)
	rev, err := env.commitPush(app+": migration hook", map[string]string{dir + "/hook.yaml": hookPod})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A sync still held (the case failed before its terminate) would
		// block every later case on the app.
		_, _ = env.api("DELETE", "/api/v1/applications/"+app+"/operation", env.token, nil)
		if _, err := env.commitPush(app+": drop the migration hook", map[string]string{dir + "/hook.yaml": ""}); err != nil {
			t.Error(err)
		}
	})
	return rev
}

// IssueToken mints an env owner's token (expiresIn in whole seconds).
func (b *realBackend) IssueToken(t *testing.T, expiresIn time.Duration) (string, func()) {
	body := map[string]any{"name": fmt.Sprint("suite-", time.Now().UnixNano())}
	if expiresIn > 0 {
		body["expiresIn"] = int(expiresIn.Seconds())
	}
	res, err := env.api("POST", "/api/v1/account/owner/token", env.token, body)
	if err != nil {
		t.Fatal(err)
	}
	tok := res["token"].(string)
	return tok, func() {
		if _, err := env.api("DELETE", "/api/v1/account/owner/token/"+tokenID(t, tok), env.token, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// tokenID is the jti claim of an Argo CD API token.
func tokenID(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.ID == "" {
		t.Fatalf("token id: %v %s", err, payload)
	}
	return claims.ID
}

func (b *realBackend) ClientWith(t *testing.T, token string, grpcWeb bool) *argo.Client {
	data, _ := os.ReadFile(env.argoConfig)
	cfg := string(data)
	if token != "" {
		cfg = strings.Replace(cfg, env.ownerToken, token, 1)
	}
	if grpcWeb {
		cfg = strings.Replace(cfg, "  plain-text: true\n", "  plain-text: true\n  grpc-web: true\n", 1)
	}
	p := filepath.Join(t.TempDir(), "argocd-config")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return argotest.Dial(t, p, false)
}

func (b *realBackend) StopServer(t *testing.T) { env.stop("server") }

func (b *realBackend) StartServer(t *testing.T) {
	if err := env.startServer(env.argoEnv); err != nil {
		t.Fatal(err)
	}
}

func (b *realBackend) ManualApp() string     { return "tst-web" }
func (b *realBackend) NamespacedApp() string { return "team-a/team-web" }
func (b *realBackend) AutoApp() string       { return "itg-web" }

func (b *realBackend) Commit(t *testing.T, app string) string {
	b.n++
	if _, name, ok := strings.Cut(app, "/"); ok {
		app = name // team-a/team-web: the team stage
	}
	stage := strings.TrimSuffix(app, "-web")
	sha, err := env.commitPush(fmt.Sprintf("%s: web version %d", stage, 100+b.n), map[string]string{stage + "/web/configmap.yaml": webManifest(stage, fmt.Sprint(100+b.n))})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func (b *realBackend) Refresh(t *testing.T, app string) {
	path := "/api/v1/applications/" + app + "?refresh=normal"
	if ns, name, ok := strings.Cut(app, "/"); ok {
		path = "/api/v1/applications/" + name + "?refresh=normal&appNamespace=" + ns
	}
	if _, err := env.api("GET", path, env.token, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSharedArgoSuiteOnTheRealServer(t *testing.T) {
	t.Setenv("ARGOCD_SERVER", "")
	t.Setenv("ARGOCD_AUTH_TOKEN", "")
	argotest.RunSuite(t, &realBackend{})
}

// TestWatchReconnectsAfterServerRestart restarts argocd-server during a TST
// sync; the follower re-attaches and the sync is not sent twice.
func TestWatchReconnectsAfterServerRestart(t *testing.T) {
	c, err := argo.Dial(argo.Options{ConfigPath: env.argoConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	head, err := env.commitPush("tst: web version 40", map[string]string{"tst/web/configmap.yaml": webManifest("tst", "40")})
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.Get(ctx, "tst-web", "")
	if err != nil {
		t.Fatal(err)
	}
	histBefore := len(getApp(t, "tst-web").Status.History)
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "tst-web", Revision: head}); err != nil {
		t.Fatal(err)
	}
	f := c.Follow(ctx, "tst-web", head, requested, before.Operation.StartedAt, false)
	defer f.Close()
	if _, err := f.Next(); err != nil {
		t.Fatal(err)
	}
	env.stop("server")
	if err := env.startServer(env.argoEnv); err != nil {
		t.Fatal(err)
	}
	reconnected := false
	var last argo.Observation
	deadline := time.Now().Add(2 * time.Minute)
	for !last.Finished && time.Now().Before(deadline) {
		if last, err = f.Next(); err != nil {
			t.Fatal(err)
		}
		reconnected = reconnected || last.Reconnecting
	}
	if !reconnected || !last.Finished {
		t.Errorf("reconnected=%v finished=%v", reconnected, last.Finished)
	}
	if n := len(getApp(t, "tst-web").Status.History); n != histBefore+1 {
		t.Errorf("history grew by %d, want exactly one sync", n-histBefore)
	}
}

// TestConsoleSyncsTST drives the real binary: the board shows the real apps;
// sync TST web; the row turns Synced.
func TestConsoleSyncsTST(t *testing.T) {
	if _, err := env.commitPush("tst: web version 7", map[string]string{"tst/web/configmap.yaml": webManifest("tst", "7")}); err != nil {
		t.Fatal(err)
	}
	_, _ = env.api("GET", "/api/v1/applications/tst-web?refresh=normal", env.token, nil)
	waitApp(t, "tst-web", "OutOfSync", time.Minute, func(a application) bool { return a.Status.Sync.Status == "OutOfSync" })
	cfg := env.config("")
	tm := termtest.Start(t, env.stagedeck, 120, 40, env.stagedeckEnv(), "--config", cfg)
	tm.WaitFor(30*time.Second, "ITG", "TST", "PERF", "PROD 🔒", "tst-web", "tst-api", "live")
	tm.WaitUntil(30*time.Second, "tst-web out of sync", func(s string) bool {
		return regexp.MustCompile(`tst-web\s+✗ OutOfSync`).MatchString(s)
	})
	tm.Send("/", "t", "s", "t", "-", "w", "e", "b", termtest.KeyEnter, "j", "s")
	tm.WaitFor(20*time.Second, "Sync tst / tst-web", "✓ allowed")
	tm.Send("y")
	tm.WaitFor(2*time.Minute, "Done.")
	tm.Send(termtest.KeyEsc)
	tm.WaitUntil(time.Minute, "tst-web synced", func(s string) bool {
		return regexp.MustCompile(`tst-web\s+✓ Synced`).MatchString(s)
	})
	tm.Send("q")
	if err := tm.Exit(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestRollbackSyncsOnlyTheAppItChanges is the 3 a.m. path on the real
// server: tst-web runs a bad commit; tst-api has a commit never deployed.
// `rollback --revert --sync` deploys the revert to tst-web only: the live
// ConfigMap is back, tst-api still runs what it ran, and its undeployed
// ConfigMap never reaches the cluster.
func TestRollbackSyncsOnlyTheAppItChanges(t *testing.T) {
	cfg := env.config("")
	bad, err := env.commitPush("tst: web version 8 (bad)", map[string]string{"tst/web/configmap.yaml": webManifest("tst", "8")})
	if err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := env.stagedeckRun("sync", "--config", cfg, "tst", "web", "--revision", bad, "--yes", "--wait", "--timeout", "2m"); code != 0 {
		t.Fatalf("sync the bad commit: exit %d\n%s%s", code, out, errOut)
	}
	if v := configMapData(t, "tst", "web-config", "version"); v != "8" {
		t.Fatalf("tst web-config version = %q, want the bad 8 deployed", v)
	}
	apiBefore := deployedOf(getApp(t, "tst-api"))
	if _, err := env.commitPush("tst: api extra config (not deployed)", map[string]string{
		"tst/api/templates/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-extra\ndata:\n  flag: \"on\"\n",
	}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := env.stagedeckRun("rollback", "--config", cfg, "tst", "--revert", bad, "--reason", "INC-7", "--yes", "--sync")
	if code != 0 {
		t.Fatalf("rollback --sync: exit %d\n%s%s", code, out, errOut)
	}
	revert := remoteHead(t)
	if got := deployedOf(getApp(t, "tst-web")); got != revert {
		t.Errorf("tst-web deployed %s, want the revert %s", got, revert)
	}
	if v := configMapData(t, "tst", "web-config", "version"); v == "8" {
		t.Errorf("the revert did not reach the cluster: web-config version %q", v)
	}
	if got := deployedOf(getApp(t, "tst-api")); got != apiBefore {
		t.Errorf("tst-api moved from %s to %s: it deployed a commit nobody reviewed", apiBefore, got)
	}
	if out, _ := env.kubectl("get", "configmap", "api-extra", "-n", "tst", "-o", "name"); strings.TrimSpace(out) == "configmap/api-extra" {
		t.Error("tst-api's undeployed ConfigMap reached the cluster")
	}
}

// TestGRPCWeb: Argo CD behind an ingress without HTTP/2: a context with
// grpc-web set lists, syncs and follows against the real server.
func TestGRPCWeb(t *testing.T) {
	cfg := env.withArgoConfig(func(s string) string {
		return strings.Replace(s, "  plain-text: true\n", "  plain-text: true\n  grpc-web: true\n", 1)
	})
	out, errOut, code := env.stagedeckRun("status", "--config", cfg, "-o", "json")
	if code != 0 || !strings.Contains(out, `"name": "tst-web"`) {
		t.Fatalf("status over grpc-web: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = env.stagedeckRun("sync", "--config", cfg, "tst", "web", "--revision", remoteHead(t), "--yes", "--wait", "--timeout", "2m")
	if code != 0 || !strings.Contains(out, "tst-web: Succeeded") {
		t.Errorf("sync over grpc-web: exit %d\n%s%s", code, out, errOut)
	}
}

// TestSyncWindowsOnTheRealServer: a deny window covering now on the tst
// project refuses a manual sync before anything is sent, naming the window;
// with manualSync: true the same window lets it through, as Argo CD does.
func TestSyncWindowsOnTheRealServer(t *testing.T) {
	cfg := env.config("")
	setWindows := func(manual bool) {
		t.Helper()
		patch := fmt.Sprintf(`{"spec":{"syncWindows":[{"kind":"deny","schedule":"* * * * *","duration":"1h","applications":["tst-api"],"manualSync":%v}]}}`, manual)
		if out, err := env.kubectl("patch", "appproject", "tst", "-n", "argocd", "--type", "merge", "-p", patch); err != nil {
			t.Fatalf("patch windows: %v %s", err, out)
		}
	}
	t.Cleanup(func() {
		_, _ = env.kubectl("patch", "appproject", "tst", "-n", "argocd", "--type", "merge", "-p", `{"spec":{"syncWindows":null}}`)
	})
	before := len(getApp(t, "tst-api").Status.History)
	setWindows(false)
	var errOut string
	var code int
	for i := 0; i < 50; i++ { // the server reads the project through its informer
		_, errOut, code = env.stagedeckRun("sync", "--config", cfg, "tst", "api", "--revision", remoteHead(t), "--yes")
		if code != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != 1 || !strings.Contains(errOut, "sync window closed") || !strings.Contains(errOut, "deny") {
		t.Errorf("deny window: exit %d %q, want 1 naming the window", code, errOut)
	}
	if n := len(getApp(t, "tst-api").Status.History); n != before {
		t.Errorf("a refused sync changed tst-api's history (%d -> %d)", before, n)
	}
	setWindows(true)
	// Sent once the server's informer has the new window; the operation is
	// then checked on the Application itself (tst-api's health stays
	// Progressing: its SealedSecret has no controller in the tier).
	var out string
	for i := 0; i < 50; i++ {
		out, errOut, code = env.stagedeckRun("sync", "--config", cfg, "tst", "api", "--revision", remoteHead(t), "--yes")
		if code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != 0 || !strings.Contains(out, "tst-api: sync to") {
		t.Fatalf("deny window with manualSync: exit %d\n%s%s", code, out, errOut)
	}
	waitApp(t, "tst-api", "a new sync Succeeded", 2*time.Minute, func(a application) bool {
		return len(a.Status.History) > before && a.Status.OperationState != nil && a.Status.OperationState.Phase == "Succeeded"
	})
}

// TestTerminateOnTheRealServer: a PreSync hook Pod never runs (there is no
// kubelet in the tier), so the sync stays Running; `stagedeck terminate`
// ends it, and nothing else is sent (no new deploy in the history).
func TestTerminateOnTheRealServer(t *testing.T) {
	cfg := env.config("")
	rev, err := env.commitPush("tst: api migration hook", map[string]string{"tst/api/templates/hook.yaml": hookPod})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := env.commitPush("tst: drop the api migration hook", map[string]string{"tst/api/templates/hook.yaml": ""}); err != nil {
			t.Error(err)
		}
	})
	before := len(getApp(t, "tst-api").Status.History)
	if out, errOut, code := env.stagedeckRun("sync", "--config", cfg, "tst", "api", "--revision", rev, "--yes"); code != 0 {
		t.Fatalf("sync: exit %d\n%s%s", code, out, errOut)
	}
	waitApp(t, "tst-api", "the hook holds the sync Running", time.Minute, func(a application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == "Running"
	})
	time.Sleep(2 * time.Second) // still Running: the hook holds it
	if a := getApp(t, "tst-api"); a.Status.OperationState == nil || a.Status.OperationState.Phase != "Running" {
		t.Fatalf("the sync did not stay Running on the hook: %+v", a.Status.OperationState)
	}
	if _, errOut, code := env.stagedeckRun("terminate", "--config", cfg, "tst", "web"); code != 1 || !strings.Contains(errOut, "nothing was sent") {
		t.Errorf("terminate of an app with nothing running: exit %d %q", code, errOut)
	}
	// stagedeck follows the operation after sending: it ends, or (Argo CD
	// can lose a terminate that races its controller, seen once on v2.14)
	// stagedeck says so and the owner terminates again.
	out, errOut, code := env.stagedeckRun("terminate", "--config", cfg, "tst", "api")
	if code == 1 && strings.Contains(errOut, "did not take the terminate") {
		t.Logf("Argo CD lost the terminate, as stagedeck said: sending it again")
		out, errOut, code = env.stagedeckRun("terminate", "--config", cfg, "tst", "api")
	}
	if code != 0 || !strings.Contains(out, "tst-api: terminate sent") || strings.Contains(out, "tst-api: Running") {
		t.Fatalf("terminate: exit %d\n%s%s", code, out, errOut)
	}
	ended := func(a application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase != "Running" && a.Status.OperationState.Phase != "Terminating"
	}
	a := waitApp(t, "tst-api", "the operation ended", time.Minute, ended)
	if n := len(a.Status.History); n != before {
		t.Errorf("a terminated sync was recorded as a deploy (%d -> %d, phase %s)", before, n, a.Status.OperationState.Phase)
	}
}

// hookPod is a PreSync Pod hook: with no kubelet in the tier it stays
// Pending, so its health stays Progressing and the sync waits on it until
// it is terminated.
const hookPod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: migrate\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n" +
	"spec:\n  restartPolicy: Never\n  containers:\n    - {name: migrate, image: busybox, command: [\"true\"]}\n"

// TestExpiredAndRevokedTokens: a token that expired, or was deleted, makes
// status exit 3 with the command that fixes it (as a bad token does).
func TestExpiredAndRevokedTokens(t *testing.T) {
	withToken := func(tok string) string {
		return env.withArgoConfig(func(s string) string { return strings.Replace(s, env.ownerToken, tok, 1) })
	}
	short, err := env.api("POST", "/api/v1/account/owner/token", env.token, map[string]any{"name": "short", "expiresIn": 2})
	if err != nil {
		t.Fatal(err)
	}
	expired := withToken(short["token"].(string))
	if _, errOut, code := env.stagedeckRun("status", "--config", expired); code != 0 {
		t.Fatalf("the fresh short token does not work: exit %d %s", code, errOut)
	}
	time.Sleep(3 * time.Second)
	out, errOut, code := env.stagedeckRun("status", "--config", expired)
	if code != 3 || !strings.Contains(out+errOut, "argocd login "+env.argoAddr) {
		t.Errorf("expired token: exit %d\n%s%s", code, out, errOut)
	}

	revoked, err := env.api("POST", "/api/v1/account/owner/token", env.token, map[string]any{"name": "revoked"})
	if err != nil {
		t.Fatal(err)
	}
	tok := revoked["token"].(string)
	cfg := withToken(tok)
	if _, errOut, code := env.stagedeckRun("status", "--config", cfg); code != 0 {
		t.Fatalf("the token before revocation: exit %d %s", code, errOut)
	}
	if _, err := env.api("DELETE", "/api/v1/account/owner/token/"+tokenID(t, tok), env.token, nil); err != nil {
		t.Fatal(err)
	}
	var code2 int
	for i := 0; i < 50; i++ { // the server's account cache sees the deletion shortly
		out, errOut, code2 = env.stagedeckRun("status", "--config", cfg)
		if code2 == 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code2 != 3 || !strings.Contains(out+errOut, "argocd login "+env.argoAddr) {
		t.Errorf("revoked token: exit %d\n%s%s", code2, out, errOut)
	}
}

// TestAsAnEnvOwner: a local account with a scoped role (get on every app,
// sync on TST's apps only) sees the whole board, syncs TST, and is refused
// PERF before anything is sent, naming what was denied.
func TestAsAnEnvOwner(t *testing.T) {
	cfg := env.config("") // the tier runs as the env owner

	out, errOut, code := env.stagedeckRun("status", "--config", cfg, "-o", "json")
	if code != 0 || !strings.Contains(out, `"name": "prod-web"`) || !strings.Contains(out, `"name": "tst-web"`) {
		t.Fatalf("status as the env owner: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = env.stagedeckRun("sync", "--config", cfg, "tst", "web", "--revision", remoteHead(t), "--yes", "--wait", "--timeout", "2m")
	if code != 0 || !strings.Contains(out, "tst-web: Succeeded") {
		t.Errorf("sync of TST as its owner: exit %d\n%s%s", code, out, errOut)
	}
	before := len(getApp(t, "perf-web").Status.History)
	_, errOut, code = env.stagedeckRun("sync", "--config", cfg, "perf", "web", "--revision", remoteHead(t), "--yes")
	if code != 1 || !strings.Contains(errOut, "refused before sending") || !strings.Contains(errOut, "may not sync default/perf-web") {
		t.Errorf("sync of PERF as TST's owner: exit %d %q, want 1 naming the denial", code, errOut)
	}
	if n := len(getApp(t, "perf-web").Status.History); n != before {
		t.Error("a denied sync reached Argo CD")
	}

	// The console as the owner: PERF's preview names the denial and y
	// sends nothing.
	tm := termtest.Start(t, env.stagedeck, 160, 40, env.stagedeckEnv(), "--config", cfg)
	tm.WaitFor(30*time.Second, "PERF", "perf-web", "live")
	tm.Send("/", "p", "e", "r", "f", "-", "w", "e", "b", termtest.KeyEnter, "j", "s")
	tm.WaitFor(30*time.Second, "Sync perf / perf-web", "may not sync default/perf-web")
	tm.Send("y")
	tm.WaitFor(10*time.Second, "cannot sync")
	tm.Send(termtest.KeyEsc, "q")
	_ = tm.Exit(10 * time.Second)
	if n := len(getApp(t, "perf-web").Status.History); n != before {
		t.Error("a denied sync reached Argo CD from the console")
	}
}

// TestAppsInAnyNamespace: an Application in a team's namespace (Argo CD's
// application.namespaces) is on the board as namespace/name, and synced,
// pinned, and its manifests read by that name.
func TestAppsInAnyNamespace(t *testing.T) {
	cfg := env.config("")
	data, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(data, "  - {name: team, path: team}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	type doc struct {
		Stages []struct {
			Name string
			Apps []struct{ Name, DeployedRevision string }
		}
	}
	deployed := func() (string, bool) {
		out, errOut, code := env.stagedeckRun("status", "--config", cfg, "-o", "json")
		if code != 0 {
			t.Fatalf("status: exit %d %s", code, errOut)
		}
		var d doc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		for _, st := range d.Stages {
			for _, a := range st.Apps {
				if st.Name == "team" && a.Name == "team-a/team-web" {
					return a.DeployedRevision, true
				}
			}
		}
		return "", false
	}
	if rev, ok := deployed(); !ok || rev == "" {
		t.Fatalf("the team stage lacks team-a/team-web (deployed %q)", rev)
	}
	sha, err := env.commitPush("team: web version 700", map[string]string{"team/web/configmap.yaml": webManifest("team", "700")})
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := env.stagedeckRun("sync", "team", "team-a/team-web", "--config", cfg, "--revision", sha, "--yes", "--wait", "--timeout", "3m")
	if code != 0 {
		t.Fatalf("sync team-a/team-web: exit %d\n%s%s", code, out, errOut)
	}
	if rev, _ := deployed(); rev != sha {
		t.Errorf("after the sync team-a/team-web runs %s, want %s", rev, sha)
	}
	if _, errOut, code := env.stagedeckRun("diff", "team", "team-a/team-web", "--config", cfg, "--manifests"); code > 1 {
		t.Errorf("diff --manifests of team-a/team-web: exit %d %s", code, errOut)
	}
}

// TestSecondInstanceOutage: PROD runs on its own Argo CD. The board shows
// both instances; stop the second: PROD's rows keep their last known state,
// marked stale with the reason and the age, while the others stay live, and
// status exits 3 naming it; start it again: the console recovers by itself.
func TestSecondInstanceOutage(t *testing.T) {
	cfg := env.config("")
	out, errOut, code := env.stagedeckRun("status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "prod-web") || !strings.Contains(out, "tst-web") {
		t.Fatalf("status over two instances: exit %d\n%s%s", code, out, errOut)
	}
	tm := termtest.Start(t, env.stagedeck, 160, 40, env.stagedeckEnv(), "--config", cfg)
	tm.WaitFor(30*time.Second, "TST", "PROD 🔒", "prod-web", "tst-web", "live")
	env.stop("prod-server")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = env.startProdServer()
		}
	})
	out, errOut, code = env.stagedeckRun("status", "--config", cfg)
	if code != 3 || !strings.Contains(out+errOut, env.prod.addr) || !strings.Contains(out, "tst-web") {
		t.Errorf("status with PROD's Argo CD down: exit %d\n%s%s", code, out, errOut)
	}
	tm.Send("r")
	// The header's badge says the watch is down at once; PROD's own line
	// says its rows are the last known state once the refresh is back.
	screen := tm.WaitUntil(90*time.Second, "PROD's rows stale", func(s string) bool {
		return regexp.MustCompile(`(?m)^.*PROD.*stale`).MatchString(s) && strings.Contains(s, "prod-web")
	})
	if regexp.MustCompile(`(?m)^.*TST .*stale`).MatchString(screen) || !strings.Contains(screen, "tst-web") {
		t.Errorf("TST's rows should stay live:\n%s", screen)
	}
	if err := env.startProdServer(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	tm.Send("r")
	tm.WaitUntil(90*time.Second, "PROD live again", func(s string) bool {
		return !regexp.MustCompile(`(?m)^.*PROD.*stale`).MatchString(s) && strings.Contains(s, "prod-web") && strings.Contains(s, "live")
	})
	tm.Send("q")
	if err := tm.Exit(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}
