package argotest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/argo"
)

// Backend is an Argo CD to run the shared client suite against: this
// package's fake, or the real server of the end-to-end tier. Every
// difference the suite finds is a bug in the fake.
type Backend interface {
	// Client dials as the test account; readOnly makes a read-only client.
	Client(t *testing.T, readOnly bool) *argo.Client
	// BadTokenClient dials with an invalid token (or fails to dial: return the error).
	BadTokenClient(t *testing.T) (*argo.Client, error)
	// ManualApp is a manual-sync app already deployed at some revision.
	ManualApp() string
	// AutoApp is an automated app.
	AutoApp() string
	// Commit adds a commit changing app's path and returns its full sha.
	Commit(t *testing.T, app string) string
	// Refresh makes Argo CD compare app with the repository's head now.
	Refresh(t *testing.T, app string)
	// NamespacedApp is a manual app deployed at some revision that lives in
	// another namespace than Argo CD's own (apps in any namespace), named
	// namespace/name.
	NamespacedApp() string
}

// RunSuite checks the behaviours stagedeck relies on.
func RunSuite(t *testing.T, b Backend) {
	t.Run("ListDeployedIsTheSyncResultNotTheComparedRevision", func(t *testing.T) { suiteDeployed(t, b) })
	t.Run("SyncIsPinnedAndFollowIgnoresThePreviousOperation", func(t *testing.T) { suiteSyncFollow(t, b) })
	t.Run("UnknownRevisionIsAcceptedThenErrors", func(t *testing.T) { suiteUnknownRevision(t, b) })
	t.Run("Errors", func(t *testing.T) { suiteErrors(t, b) })
	t.Run("AppsInAnyNamespace", func(t *testing.T) { suiteAnyNamespace(t, b) })
}

// suiteAnyNamespace: an app in a team namespace is listed and watched as
// namespace/name, and read, refreshed, checked, synced (pinned) and
// followed by that name.
func suiteAnyNamespace(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	app := b.NamespacedApp()
	ns, name, ok := strings.Cut(app, "/")
	if !ok {
		t.Fatalf("NamespacedApp %q is not namespace/name", app)
	}
	listed := find(t, c, app)
	if listed.Namespace != ns || listed.Sources[0].Deployed == "" {
		t.Fatalf("%s listed in namespace %q deployed %q", app, listed.Namespace, listed.Sources[0].Deployed)
	}
	for _, a := range mustList(t, c) {
		if a.Name == name {
			t.Errorf("%s is also listed by its bare name", app)
		}
	}
	got, err := c.Get(ctx, app, "normal")
	if err != nil || got.Name != app {
		t.Fatalf("Get %s: %v %q", app, err, got.Name)
	}
	if open, _, err := c.SyncWindows(ctx, app); err != nil || !open {
		t.Errorf("sync windows of %s: open %v %v", app, open, err)
	}
	if can, err := c.CanSync(ctx, listed.Project, app); err != nil || !can {
		t.Errorf("can-i sync %s/%s: %v %v", listed.Project, app, can, err)
	}
	if _, err := c.ManagedResources(ctx, app); err != nil {
		t.Errorf("resources of %s: %v", app, err)
	}
	pinned := b.Commit(t, app)
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: pinned, Operator: "suite"}); err != nil {
		t.Fatal(err)
	}
	o := follow(t, c.Follow(ctx, app, pinned, requested, got.Operation.StartedAt, false))
	if !o.Succeeded() || o.App.Name != app || o.App.Sources[0].Deployed != pinned {
		t.Errorf("sync of %s: %+v deployed %s, want Succeeded at %s", app, o.App.Operation, o.App.Sources[0].Deployed, pinned)
	}
	// An app by its bare name in Argo CD's own namespace does not exist:
	// permission denied, as for any missing app.
	if _, err := c.Get(ctx, name, ""); !errors.Is(err, argo.ErrPermissionDenied) {
		t.Errorf("Get %s without its namespace: %v, want permission denied", name, err)
	}
}

func mustList(t *testing.T, c *argo.Client) []argo.App {
	t.Helper()
	apps, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return apps
}

func find(t *testing.T, c *argo.Client, name string) argo.App {
	t.Helper()
	apps, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("List lacks %s", name)
	return argo.App{}
}

func follow(t *testing.T, f *argo.Follower) argo.Observation {
	t.Helper()
	defer f.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		o, err := f.Next()
		if err != nil {
			t.Fatal(err)
		}
		if o.Finished {
			return o
		}
	}
	t.Fatal("the operation did not finish")
	return argo.Observation{}
}

func suiteDeployed(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	app := b.ManualApp()
	before := find(t, c, app)
	if before.AutoSync || before.Sources[0].Deployed == "" {
		t.Fatalf("%s: want a manual app with a deployed revision, got %+v", app, before.Sources[0])
	}
	if !find(t, c, b.AutoApp()).AutoSync {
		t.Errorf("%s is not reported as automated", b.AutoApp())
	}
	newer := b.Commit(t, app)
	b.Refresh(t, app)
	var got argo.App
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if got = find(t, c, app); got.Sources[0].Compared == newer {
			break
		}
	}
	if got.Sources[0].Compared != newer {
		t.Fatalf("compared revision %s, want the new head %s", got.Sources[0].Compared, newer)
	}
	if got.Sources[0].Deployed != before.Sources[0].Deployed || got.Sync != "OutOfSync" {
		t.Errorf("after a new commit: deployed %s (was %s) sync %s; the deployed revision must not follow the head",
			got.Sources[0].Deployed, before.Sources[0].Deployed, got.Sync)
	}
	w, err := c.Watch(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := w.Next(); err != nil || ev.Type != argo.Added || ev.App.Name != app {
		t.Errorf("first watch event %v %s %v, want ADDED", ev.Type, ev.App.Name, err)
	}
}

func suiteSyncFollow(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	app := b.ManualApp()
	pinned := b.Commit(t, app)
	b.Commit(t, app) // a newer commit lands after the review
	before, err := c.Get(ctx, app, "")
	if err != nil {
		t.Fatal(err)
	}
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: pinned, Reason: "suite", Operator: "suite"}); err != nil {
		t.Fatal(err)
	}
	// A second request while the first is pending is refused, not queued.
	if _, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: pinned}); !errors.Is(err, argo.ErrOperationRunning) {
		t.Errorf("concurrent sync: %v, want ErrOperationRunning", err)
	}
	o := follow(t, c.Follow(ctx, app, pinned, requested, before.Operation.StartedAt, false))
	if !o.Succeeded() || o.App.Operation.Revision != pinned || o.App.Sources[0].Deployed != pinned {
		t.Errorf("finished %+v deployed %s, want Succeeded at the pinned %s", o.App.Operation, o.App.Sources[0].Deployed, pinned)
	}
	// The deploy is in the history with who started it (the log's "who").
	after, err := c.Get(ctx, app, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(after.History); n == 0 || after.History[n-1].Revision != pinned || after.History[n-1].InitiatedBy == "" || after.History[n-1].InitiatedBy == "automated" {
		t.Errorf("history %+v: want the pinned deploy last, initiated by a user", after.History)
	}
	ro := b.Client(t, true)
	if _, err := ro.Sync(ctx, argo.SyncRequest{App: app, Revision: pinned}); !errors.Is(err, argo.ErrReadOnly) {
		t.Errorf("read-only sync: %v", err)
	}
	if err := ro.Terminate(ctx, app); !errors.Is(err, argo.ErrReadOnly) {
		t.Errorf("read-only terminate: %v", err)
	}
}

func suiteUnknownRevision(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	app := b.ManualApp()
	before, _ := c.Get(ctx, app, "")
	bogus := "0123456789abcdef0123456789abcdef01234567"
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: bogus}); err != nil {
		t.Fatalf("Argo CD accepts a sync to an unknown revision, the client got %v", err)
	}
	o := follow(t, c.Follow(ctx, app, bogus, requested, before.Operation.StartedAt, false))
	if o.Succeeded() || o.App.Operation.Phase != "Error" || !strings.Contains(o.App.Operation.Message, "not our ref "+bogus) {
		t.Errorf("operation %+v, want Error naming the revision", o.App.Operation)
	}
	if o.App.Sources[0].Deployed != before.Sources[0].Deployed {
		t.Errorf("a failed sync changed the deployed revision to %s", o.App.Sources[0].Deployed)
	}
}

func suiteErrors(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	// Real Argo CD says "permission denied" for an app that does not exist
	// (for admin too): never NotFound, so callers must not probe instances.
	if _, err := c.Get(ctx, "no-such-app", ""); !errors.Is(err, argo.ErrPermissionDenied) {
		t.Errorf("missing app: %v, want ErrPermissionDenied", err)
	}
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "no-such-app", Revision: "abc"}); !errors.Is(err, argo.ErrPermissionDenied) {
		t.Errorf("sync of a missing app: %v, want ErrPermissionDenied", err)
	}
	if ok, err := c.CanSync(ctx, "default", b.ManualApp()); err != nil || !ok {
		t.Errorf("CanSync: %v %v", ok, err)
	}
	if open, _, err := c.SyncWindows(ctx, b.ManualApp()); err != nil || !open {
		t.Errorf("SyncWindows: %v %v", open, err)
	}
	bad, err := b.BadTokenClient(t)
	if err == nil {
		_, err = bad.List(ctx)
	}
	if !errors.Is(err, argo.ErrUnauthenticated) || !strings.Contains(err.Error(), "argocd login ") {
		t.Errorf("bad token: %v, want the login hint", err)
	}
}
