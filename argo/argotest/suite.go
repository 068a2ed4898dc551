package argotest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	settingspkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/settings"
	versionpkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/version"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/stagedeck/stagedeck/appstate"
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
	// DeniedApp is an app the test account may read but not sync: an env
	// owner's role gives get on every app and sync on its own stage's
	// project only.
	DeniedApp() string
	// SetDenyWindow puts app's project under a deny sync window active now
	// for app (manual syncs let through with manualSync); the test's
	// cleanup removes it.
	SetDenyWindow(t *testing.T, app string, manualSync bool)
	// HoldSync returns a revision whose sync of app never finishes on its
	// own (a hook that cannot complete); the test's cleanup undoes it and
	// ends a sync still held, so later cases find the app idle.
	HoldSync(t *testing.T, app string) string
	// IssueToken mints another token of the test account (expiresIn 0:
	// never expires) and returns it with a function that revokes it.
	IssueToken(t *testing.T, expiresIn time.Duration) (token string, revoke func())
	// ClientWith dials with token ("" for the test account's) and, with
	// grpcWeb, over grpc-web as behind an ingress without HTTP/2.
	ClientWith(t *testing.T, token string, grpcWeb bool) *argo.Client
	// StopServer takes the API server down (the applications and the
	// controller go on); StartServer brings it back on the same address.
	StopServer(t *testing.T)
	StartServer(t *testing.T)
	// Addr is the API server's host:port, plain gRPC (no TLS).
	Addr() string
	// Account is the test account's name.
	Account() string
	// MultiSourceApp is a manual app with two sources, both from the ops
	// repository (Commit changes the first one's path).
	MultiSourceApp() string
	// ValuesApp is an app whose chart (multi/chart) takes its value files
	// from a ref-only source of the ops repository (ref "values"):
	// $values/multi/values/values.yaml, then its own values.yaml.
	ValuesApp() string
}

// Dial connects a backend's client with the argocd config at path and
// closes it when the test ends.
func Dial(t testing.TB, path string, readOnly bool) *argo.Client {
	t.Helper()
	c, err := argo.Dial(argo.Options{ConfigPath: path, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// RunSuite checks the behaviours stagedeck relies on.
func RunSuite(t *testing.T, b Backend) {
	t.Run("ListDeployedIsTheSyncResultNotTheComparedRevision", func(t *testing.T) { suiteDeployed(t, b) })
	t.Run("SyncIsPinnedAndFollowIgnoresThePreviousOperation", func(t *testing.T) { suiteSyncFollow(t, b) })
	t.Run("UnknownRevisionIsAcceptedThenErrors", func(t *testing.T) { suiteUnknownRevision(t, b) })
	t.Run("Errors", func(t *testing.T) { suiteErrors(t, b) })
	t.Run("AppsInAnyNamespace", func(t *testing.T) { suiteAnyNamespace(t, b) })
	t.Run("RestrictedAccountIsDeniedBeforeAnythingRuns", func(t *testing.T) { suiteRestricted(t, b) })
	t.Run("SyncWindowsDenyOrLetManualSyncsThrough", func(t *testing.T) { suiteWindows(t, b) })
	t.Run("TerminateEndsARunningSyncAndOnlyThat", func(t *testing.T) { suiteTerminate(t, b) })
	t.Run("ExpiredAndRevokedTokensAskForALogin", func(t *testing.T) { suiteTokens(t, b) })
	t.Run("GRPCWeb", func(t *testing.T) { suiteGRPCWeb(t, b) })
	t.Run("ServerOutageAndRecoveryWithoutRedial", func(t *testing.T) { suiteOutage(t, b) })
	t.Run("GRPCContentTypeIsMatchedExactly", func(t *testing.T) { suiteContentType(t, b) })
	t.Run("WatchFromAResourceVersion", func(t *testing.T) { suiteWatchFromVersion(t, b) })
	t.Run("PinnedSyncOfAnAutoSyncAppIsRefused", func(t *testing.T) { suiteAutoSyncPin(t, b) })
	t.Run("DryRunDeploysNothing", func(t *testing.T) { suiteDryRun(t, b) })
	t.Run("SeveralSourcesArePinnedByPosition", func(t *testing.T) { suiteSeveralSources(t, b) })
	t.Run("SettingsNameTheControlPlaneToALoggedInCallerOnly", func(t *testing.T) { suiteSettings(t, b) })
	t.Run("SourcesNameTheirFiles", func(t *testing.T) { suiteSourceFiles(t, b) })
}

// suiteSourceFiles: a get and a list (the board's lean decode) say which
// files each source names and which source is a ref only Argo CD does not
// render: protection and pending follow those files.
func suiteSourceFiles(t *testing.T, b Backend) {
	c := b.Client(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app := b.ValuesApp()
	check := func(how string, a argo.App) {
		t.Helper()
		if len(a.Sources) != 2 {
			t.Fatalf("%s: %s has %d sources", how, app, len(a.Sources))
		}
		chart, ref := a.Sources[0], a.Sources[1]
		if chart.Path != "multi/chart" || chart.RefOnly || chart.Ref != "" ||
			len(chart.Files) != 2 || chart.Files[0] != "$values/multi/values/values.yaml" || chart.Files[1] != "values.yaml" {
			t.Errorf("%s: the chart source reads as %+v", how, chart)
		}
		if ref.Ref != "values" || !ref.RefOnly || ref.Path != "" || len(ref.Files) != 0 {
			t.Errorf("%s: the ref source reads as %+v", how, ref)
		}
	}
	got, err := c.Get(ctx, app, "")
	if err != nil {
		t.Fatal(err)
	}
	check("get", got)
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Name == app {
			check("list", a)
			return
		}
	}
	t.Fatalf("%s is not listed", app)
}

// suiteSettings: the settings need no session, and name the control
// plane's namespace (which stagedeck reads) to a logged-in caller only.
func suiteSettings(t *testing.T, b Backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, revoke := b.IssueToken(t, 0)
	defer revoke()
	get := func(token string) (*settingspkg.Settings, error) {
		return settingspkg.NewSettingsServiceClient(rawConn(t, b, token)).Get(ctx, &settingspkg.SettingsQuery{})
	}
	anon, err := get("")
	if err != nil || anon.ControllerNamespace != "" {
		t.Errorf("settings without a session: namespace %q, %v; want none told", anon.GetControllerNamespace(), err)
	}
	eventually(t, 30*time.Second, "settings with a session name the control plane", func() error {
		set, err := get(tok)
		if err == nil && set.ControllerNamespace == "" {
			err = errors.New("no controller namespace")
		}
		return err
	})
}

// suiteSeveralSources: of an app with several sources Argo CD ignores a
// sync's revision, and each source syncs to its target (the branch's
// head); a revision given by position pins that source.
func suiteSeveralSources(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	app := b.MultiSourceApp()
	pinned := b.Commit(t, app)
	head := b.Commit(t, app) // a newer commit lands after the review
	b.Refresh(t, app)
	sync := func(r argo.SyncRequest) argo.App {
		t.Helper()
		before, err := c.Get(ctx, app, "")
		if err != nil {
			t.Fatal(err)
		}
		if !before.MultiSource || len(before.Sources) != 2 {
			t.Fatalf("%s reads as %d source(s), multi %v", app, len(before.Sources), before.MultiSource)
		}
		r.App, r.Project = app, before.Project
		requested := time.Now()
		if _, err := c.Sync(ctx, r); err != nil {
			t.Fatal(err)
		}
		o := follow(t, c.Follow(ctx, app, r.Revision, requested, before.Operation.StartedAt, false))
		if o.App.Operation.Phase != "Succeeded" {
			t.Fatalf("sync of %s: %+v", app, o.App.Operation)
		}
		return o.App
	}
	if got := sync(argo.SyncRequest{Revision: pinned}); got.Sources[0].Deployed != head || got.Sources[1].Deployed != head {
		t.Errorf("a sync of %s given only the revision %s deployed %s and %s; Argo CD deploys each source's target (head %s)",
			app, pinned[:7], got.Sources[0].Deployed, got.Sources[1].Deployed, head[:7])
	}
	if got := sync(argo.SyncRequest{Revision: pinned, Sources: []int{1, 2}}); got.Sources[0].Deployed != pinned || got.Sources[1].Deployed != pinned {
		t.Errorf("a sync of %s pinned by position to %s deployed %s and %s", app, pinned[:7], got.Sources[0].Deployed, got.Sources[1].Deployed)
	}
}

// suiteAutoSyncPin: an app with auto-sync follows its target revision, so
// Argo CD refuses a sync pinned to a sha (FailedPrecondition, before the
// operation is set) and lets a dry run of it through; PinRefusal, which
// stagedeck checks before sending anything, agrees.
func suiteAutoSyncPin(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app := b.AutoApp()
	before := find(t, c, app)
	rev := before.Sources[0].Deployed
	if appstate.PinRefusal(before.AutoSync, before.Sources[0].TargetRevision, rev, false) == "" {
		t.Errorf("PinRefusal lets a sync of %s pinned to %s through", app, rev)
	}
	_, err := c.Sync(ctx, argo.SyncRequest{App: app, Project: before.Project, Revision: rev})
	if err == nil || !strings.Contains(err.Error(), "auto-sync currently set to") {
		t.Fatalf("pinned sync of auto-sync %s: %v, want refused (auto-sync currently set to …)", app, err)
	}
	if appstate.PinRefusal(before.AutoSync, before.Sources[0].TargetRevision, rev, true) != "" {
		t.Errorf("PinRefusal refuses a dry run of %s", app)
	}
	var requested time.Time
	var prev time.Time
	eventually(t, time.Minute, "a dry run of "+app, func() error {
		cur, err := c.Get(ctx, app, "")
		if err != nil {
			return err
		}
		prev, requested = cur.Operation.StartedAt, time.Now()
		_, err = c.Sync(ctx, argo.SyncRequest{App: app, Project: before.Project, Revision: rev, DryRun: true})
		return err // an auto-sync may be running: again
	})
	if o := follow(t, c.Follow(ctx, app, rev, requested, prev, true)); o.App.Operation.Phase != "Succeeded" {
		t.Errorf("dry run of %s: %+v", app, o.App.Operation)
	}
}

// suiteDryRun: a dry run's result is the revision asked for, and it
// deploys nothing: the deployed revision, health and history stay.
func suiteDryRun(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app := b.ManualApp()
	pinned := b.Commit(t, app)
	b.Refresh(t, app)
	before, err := c.Get(ctx, app, "")
	if err != nil {
		t.Fatal(err)
	}
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: app, Project: before.Project, Revision: pinned, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	o := follow(t, c.Follow(ctx, app, pinned, requested, before.Operation.StartedAt, true))
	if !o.Finished || o.App.Operation.Phase != "Succeeded" || o.App.Operation.Revision != pinned {
		t.Errorf("dry run to %s: %+v", pinned, o.App.Operation)
	}
	after, err := c.Get(ctx, app, "")
	if err != nil {
		t.Fatal(err)
	}
	if after.Sources[0].Deployed != before.Sources[0].Deployed || len(after.History) != len(before.History) || after.Health != before.Health {
		t.Errorf("a dry run deployed: deployed %s→%s, history %d→%d, health %s→%s", before.Sources[0].Deployed, after.Sources[0].Deployed,
			len(before.History), len(after.History), before.Health, after.Health)
	}
}

// rawConn is a plain gRPC connection to the backend's API server, sending
// token ("": none) as the argocd client does; closed when the test ends.
func rawConn(t *testing.T, b Backend, token string) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(tokenCreds(token)))
	}
	conn, err := grpc.NewClient(b.Addr(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// tokenCreds sends a session token as the argocd client does, in the
// "token" metadata, over plain gRPC.
type tokenCreds string

func (c tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"token": string(c)}, nil
}

func (tokenCreds) RequireTransportSecurity() bool { return false }

// suiteWatchFromVersion: Argo CD's Watch given a resourceVersion.
// stagedeck never sends one (it lists, then watches from the burst, so
// no change between the two is lost), but the fake must answer as Argo
// CD does: a watch of every app skips the burst of ADDED with any
// resourceVersion, even one that is not a number; a watch of one app
// keeps it; and no app older than the version (a number) is sent.
func suiteWatchFromVersion(t *testing.T, b Backend) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tok, revoke := b.IssueToken(t, 0)
	defer revoke()
	apps := application.NewApplicationServiceClient(rawConn(t, b, tok))
	app := b.ManualApp()
	var list *v1alpha1.ApplicationList
	eventually(t, 30*time.Second, "list with a new token", func() error { // real Argo CD reads tokens through an informer
		var err error
		list, err = apps.List(ctx, &application.ApplicationQuery{})
		return err
	})
	appVersion := ""
	for _, a := range list.Items {
		if a.Name == app {
			appVersion = a.ResourceVersion
		}
	}
	if list.ResourceVersion == "" || appVersion == "" {
		t.Fatalf("list version %q, %s's version %q: want both", list.ResourceVersion, app, appVersion)
	}
	watch := func(name, version string) <-chan *v1alpha1.ApplicationWatchEvent {
		q := &application.ApplicationQuery{ResourceVersion: &version}
		if name != "" {
			q.Name = &name
		}
		stream, err := apps.Watch(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan *v1alpha1.ApplicationWatchEvent, 4096)
		go func() {
			defer close(ch)
			for {
				ev, err := stream.Recv()
				if err != nil {
					return
				}
				ch <- ev
			}
		}()
		return ch
	}
	const never = "999999999999"
	all := watch("", list.ResourceVersion) // no burst; changes after the list
	notNumber := watch("", "not-a-number") // no burst either; every change
	one := watch(app, appVersion)          // the burst of one app is kept
	tooNew := watch(app, never)            // nothing is as new
	time.Sleep(time.Second)                // a watch subscribes after its burst
	seen := map[<-chan *v1alpha1.ApplicationWatchEvent][]*v1alpha1.ApplicationWatchEvent{}
	changed := func(ch <-chan *v1alpha1.ApplicationWatchEvent) bool {
		for _, ev := range seen[ch] {
			if ev.Application.Name == app && ev.Type == "MODIFIED" {
				return true
			}
		}
		return false
	}
	everyWatchSawIt := func() bool { return changed(all) && changed(notNumber) && changed(one) }
	// drain collects events for wait, or until every watch saw the change.
	drain := func(wait time.Duration, early bool) {
		deadline := time.After(wait)
		for !early || !everyWatchSawIt() {
			select {
			case ev := <-all:
				seen[all] = append(seen[all], ev)
			case ev := <-notNumber:
				seen[notNumber] = append(seen[notNumber], ev)
			case ev := <-one:
				seen[one] = append(seen[one], ev)
			case ev := <-tooNew:
				seen[tooNew] = append(seen[tooNew], ev)
			case <-deadline:
				return
			}
		}
	}
	// A change to app; again while a watch has not yet seen one (a change
	// made before a watch subscribed reaches no one).
	for deadline := time.Now().Add(time.Minute); !everyWatchSawIt(); {
		if time.Now().After(deadline) {
			t.Fatalf("no change of %s reached every watch within a minute", app)
		}
		b.Commit(t, app)
		b.Refresh(t, app)
		drain(5*time.Second, true)
	}
	drain(time.Second, false) // time for what a watch must not be sent
	types := func(ch <-chan *v1alpha1.ApplicationWatchEvent) string {
		var out []string
		for _, ev := range seen[ch] {
			out = append(out, fmt.Sprintf("%s %s@%s", ev.Type, ev.Application.Name, ev.Application.ResourceVersion))
		}
		return strings.Join(out, ", ")
	}
	t.Logf("from %s: %s\nfrom not-a-number: %s\n%s from %s: %s\n%s from %s: %s", list.ResourceVersion, types(all), types(notNumber), app, appVersion, types(one), app, never, types(tooNew))
	from, _ := strconv.Atoi(list.ResourceVersion)
	for _, ev := range seen[all] {
		if v, _ := strconv.Atoi(ev.Application.ResourceVersion); ev.Type == "ADDED" || v < from {
			t.Errorf("watch of every app from version %s: %s; want only changes from that version on", list.ResourceVersion, types(all))
			break
		}
	}
	for _, ev := range seen[notNumber] {
		if ev.Type == "ADDED" {
			t.Errorf("watch of every app from version not-a-number: %s; want no burst", types(notNumber))
			break
		}
	}
	if first := seen[one][0]; first.Type != "ADDED" || first.Application.Name != app {
		t.Errorf("watch of %s from its version %s: %s; want the app's ADDED first", app, appVersion, types(one))
	}
	if len(seen[tooNew]) > 0 {
		t.Errorf("watch of %s from version %s: %s; want nothing", app, never, types(tooNew))
	}
}

// suiteContentType: Argo CD's server tells gRPC from HTTP on one port by
// the first request of each connection, its content-type matched exactly
// against application/grpc: a connection that opens with a call naming
// its codec (application/grpc+proto, what grpc.ForceCodec sends unless
// the codec's name is empty) is dropped. Once a connection is gRPC's, its
// later calls may name the codec.
func suiteContentType(t *testing.T, b Backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dial := func() *grpc.ClientConn { return rawConn(t, b, "") }
	// Version needs no session.
	version := func(conn *grpc.ClientConn, opts ...grpc.CallOption) error {
		return conn.Invoke(ctx, "/version.VersionService/Version", &emptypb.Empty{}, &versionpkg.VersionMessage{}, opts...)
	}
	plain := dial()
	if err := version(plain); err != nil {
		t.Fatalf("version as application/grpc: %v", err)
	}
	if err := version(plain, grpc.CallContentSubtype("proto")); err != nil {
		t.Fatalf("version as application/grpc+proto on a connection opened as application/grpc: %v", err)
	}
	if err := version(dial(), grpc.CallContentSubtype("proto")); status.Code(err) != codes.Unavailable {
		t.Fatalf("a connection opened as application/grpc+proto: %v, want it dropped (Unavailable)", err)
	}
}

// eventually polls f every 200 ms until it returns nil or timeout passes
// (real Argo CD reads projects and accounts through informers and caches).
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// suiteRestricted: the env owner reads an app of another stage but may not
// sync or terminate it; can-i says so before anything is sent, and the
// server refuses both with permission denied.
func suiteRestricted(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	app := b.DeniedApp()
	denied := find(t, c, app)
	if _, err := c.Get(ctx, app, ""); err != nil {
		t.Fatalf("get %s as its reader: %v", app, err)
	}
	if ok, err := c.CanSync(ctx, denied.Project, app); err != nil || ok {
		t.Errorf("can-i sync %s/%s = %v, %v; want no", denied.Project, app, ok, err)
	}
	own := find(t, c, b.ManualApp())
	if ok, err := c.CanSync(ctx, own.Project, b.ManualApp()); err != nil || !ok {
		t.Errorf("can-i sync %s/%s = %v, %v; want yes", own.Project, b.ManualApp(), ok, err)
	}
	_, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: denied.Sources[0].Deployed})
	if !errors.Is(err, argo.ErrPermissionDenied) || !strings.Contains(err.Error(), "applications, sync, "+denied.Project+"/"+app) {
		t.Errorf("sync of %s: %v, want permission denied naming applications, sync, %s/%s", app, err, denied.Project, app)
	}
	// A terminate names no project: Argo CD says no more than that.
	if err := c.Terminate(ctx, app); !errors.Is(err, argo.ErrPermissionDenied) || strings.Contains(err.Error(), "applications, sync") {
		t.Errorf("terminate of %s: %v, want a bare permission denied", app, err)
	}
	if after := find(t, c, app); after.Operation.StartedAt != denied.Operation.StartedAt || after.Requested {
		t.Errorf("a denied request started an operation on %s: %+v", app, after.Operation)
	}
}

// suiteWindows: a deny window covering now closes manual syncs (the server
// refuses one, naming the window); with manualSync the window lets them
// through.
func suiteWindows(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	app := b.ManualApp()
	b.SetDenyWindow(t, app, false)
	var active []string
	eventually(t, 30*time.Second, "the deny window is active", func() error {
		open, act, err := c.SyncWindows(ctx, app)
		if err == nil && (open || len(act) == 0) {
			err = fmt.Errorf("open=%v active=%v", open, act)
		}
		active = act
		return err
	})
	if !strings.HasPrefix(active[0], "deny ") || strings.Contains(active[0], "manual sync allowed") {
		t.Errorf("active windows %q, want a deny window without manual sync", active)
	}
	before := find(t, c, app)
	_, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: before.Sources[0].Deployed})
	if !errors.Is(err, argo.ErrPermissionDenied) || !strings.Contains(err.Error(), "blocked by sync window") {
		t.Errorf("sync in a deny window: %v, want permission denied, blocked by sync window", err)
	}
	if after := find(t, c, app); after.Operation.StartedAt != before.Operation.StartedAt || after.Requested {
		t.Errorf("a refused sync started an operation on %s: %+v", app, after.Operation)
	}
	b.SetDenyWindow(t, app, true)
	eventually(t, 30*time.Second, "manualSync lets manual syncs through", func() error {
		open, act, err := c.SyncWindows(ctx, app)
		if err == nil && (!open || len(act) == 0 || !strings.Contains(act[0], "manual sync allowed")) {
			err = fmt.Errorf("open=%v active=%v", open, act)
		}
		return err
	})
	// The server lets it through too: sent, run and finished.
	rev := before.Sources[0].Deployed
	requested := time.Now()
	if _, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: rev}); err != nil {
		t.Fatalf("manual sync in a manualSync window: %v", err)
	}
	if o := follow(t, c.Follow(ctx, app, rev, requested, before.Operation.StartedAt, false)); !o.Succeeded() {
		t.Errorf("manual sync in a manualSync window: %+v", o.App.Operation)
	}
}

// suiteTerminate: with nothing running a terminate is refused; a sync held
// by a hook stays Running until terminated; the terminate ends it, Failed,
// and the deployed revision stays what it was.
func suiteTerminate(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	app := b.ManualApp()
	before, err := c.Get(ctx, app, "")
	if err != nil {
		t.Fatal(err)
	}
	if before.Operation.Running() || before.Requested {
		t.Fatalf("%s is busy before the test: %+v", app, before.Operation)
	}
	if err := c.Terminate(ctx, app); err == nil || !strings.Contains(err.Error(), "No operation is in progress") {
		t.Errorf("terminate with nothing running: %v, want No operation is in progress", err)
	}
	rev := b.HoldSync(t, app)
	if _, err := c.Sync(ctx, argo.SyncRequest{App: app, Revision: rev}); err != nil {
		t.Fatal(err)
	}
	running := func() error {
		a, err := c.Get(ctx, app, "")
		// Running and taken: Argo CD keeps the spec's operation field set
		// until the operation completes, so that field alone does not say
		// "requested, not started". (Nothing was running before, so this
		// one is ours; startedAt has whole seconds only and cannot tell.)
		if err == nil && (a.Operation.Phase != "Running" || a.Requested) {
			err = fmt.Errorf("operation %+v", a.Operation)
		}
		return err
	}
	eventually(t, time.Minute, "the held sync runs", running)
	time.Sleep(2 * time.Second)
	if err := running(); err != nil {
		t.Fatalf("the held sync did not stay Running: %v", err)
	}
	// Argo CD answers "Too many conflicts" when its controller updated the
	// app meanwhile; nothing was terminated, so it is sent again.
	for i := 0; i < 4; i++ {
		if err = c.Terminate(ctx, app); err == nil || !strings.Contains(err.Error(), "Too many conflicts") {
			break
		}
	}
	if err != nil {
		t.Fatalf("terminate: %v", err)
	}
	var after argo.App
	eventually(t, time.Minute, "the terminated operation ends", func() error {
		after, err = c.Get(ctx, app, "")
		if err == nil && (after.Operation.Running() || after.Requested || after.Operation.Phase == "Terminating") {
			err = fmt.Errorf("operation %+v", after.Operation)
		}
		return err
	})
	if after.Operation.Phase != "Failed" || !strings.Contains(after.Operation.Message, "terminated") {
		t.Errorf("after terminate: %+v, want Failed, terminated", after.Operation)
	}
	if after.Sources[0].Deployed != before.Sources[0].Deployed {
		t.Errorf("a terminated sync moved the deployed revision %s -> %s", before.Sources[0].Deployed, after.Sources[0].Deployed)
	}
}

// suiteTokens: a token that expired, or was revoked, fails with the login
// hint; until then it works.
func suiteTokens(t *testing.T, b Backend) {
	ctx := context.Background()
	loginHint := func(err error) error {
		if errors.Is(err, argo.ErrUnauthenticated) && strings.Contains(err.Error(), "argocd login ") {
			return nil
		}
		return fmt.Errorf("%v, want unauthenticated with the login hint", err)
	}
	// Expiry has whole seconds: a 5 s token lives 4 to 5 s.
	short, _ := b.IssueToken(t, 5*time.Second)
	c := b.ClientWith(t, short, false)
	if _, err := c.List(ctx); err != nil {
		t.Fatalf("the fresh short token: %v", err)
	}
	time.Sleep(6 * time.Second)
	if _, err := c.List(ctx); loginHint(err) != nil {
		t.Errorf("expired token: %v", loginHint(err))
	}
	tok, revoke := b.IssueToken(t, 0)
	c = b.ClientWith(t, tok, false)
	if _, err := c.List(ctx); err != nil {
		t.Fatalf("the token before revocation: %v", err)
	}
	revoke()
	eventually(t, 30*time.Second, "the revoked token is refused", func() error {
		_, err := c.List(ctx)
		return loginHint(err)
	})
}

// suiteGRPCWeb: over grpc-web the client lists, reads and watches.
func suiteGRPCWeb(t *testing.T, b Backend) {
	c := b.ClientWith(t, "", true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app := b.ManualApp()
	listed := find(t, c, app)
	if _, err := c.Get(ctx, app, ""); err != nil {
		t.Fatalf("get over grpc-web: %v", err)
	}
	w, err := c.Watch(ctx, app)
	if err != nil {
		t.Fatalf("watch over grpc-web: %v", err)
	}
	ev, err := w.Next()
	if err != nil || ev.App.Name != listed.Name {
		t.Fatalf("first watch event over grpc-web: %+v %v", ev, err)
	}
}

// suiteOutage: with the API server down a call fails as unreachable; once
// it is back the same client works again, without dialling anew.
func suiteOutage(t *testing.T, b Backend) {
	c := b.Client(t, false)
	ctx := context.Background()
	mustList(t, c)
	b.StopServer(t)
	started := false
	defer func() {
		if !started {
			b.StartServer(t)
		}
	}()
	if _, err := c.List(ctx); !errors.Is(err, argo.ErrUnreachable) {
		t.Errorf("list with the server down: %v, want unreachable", err)
	}
	b.StartServer(t)
	started = true
	eventually(t, 30*time.Second, "the same client works again", func() error {
		_, err := c.List(ctx)
		return err
	})
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
	sent, err := c.Sync(ctx, argo.SyncRequest{App: app, Project: before.Project, Revision: pinned, Reason: "suite", Operator: "suite"})
	if err != nil {
		t.Fatal(err)
	}
	// Setting the operation clears the previous one's state.
	if !sent.Requested || sent.Operation.Phase != "" || !sent.Operation.StartedAt.IsZero() {
		t.Errorf("the app as the sync was set: requested %v, operation %+v; want requested with no operation state", sent.Requested, sent.Operation)
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
	// Initiated by the account the token belongs to.
	if n := len(after.History); n == 0 || after.History[n-1].Revision != pinned || after.History[n-1].InitiatedBy != b.Account() {
		t.Errorf("history %+v: want the pinned deploy last, initiated by %s", after.History, b.Account())
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
	// Named with a project, as stagedeck sends a sync, a missing app is
	// not found, and so is one in another project (nothing is started).
	own := find(t, c, b.ManualApp())
	if _, err := c.Sync(ctx, argo.SyncRequest{App: "no-such-app", Project: own.Project, Revision: strings.Repeat("ab", 20)}); !errors.Is(err, argo.ErrNotFound) {
		t.Errorf("sync of a missing app in project %s: %v, want ErrNotFound", own.Project, err)
	}
	if _, err := c.Sync(ctx, argo.SyncRequest{App: b.ManualApp(), Project: "no-such-project", Revision: own.Sources[0].Deployed}); !errors.Is(err, argo.ErrNotFound) {
		t.Errorf("sync of %s named in another project: %v, want ErrNotFound", b.ManualApp(), err)
	}
	if after := find(t, c, b.ManualApp()); after.Requested || after.Operation.StartedAt != own.Operation.StartedAt {
		t.Errorf("a refused sync started an operation: %+v", after.Operation)
	}
	// A branch that does not exist is refused at once (what looks like a
	// sha is taken as it is: UnknownRevisionIsAcceptedThenErrors).
	if _, err := c.Sync(ctx, argo.SyncRequest{App: b.ManualApp(), Project: own.Project, Revision: "no-such-branch"}); err == nil || !strings.Contains(err.Error(), "unable to resolve 'no-such-branch'") {
		t.Errorf("sync to a missing branch: %v, want unable to resolve", err)
	}
	if ok, err := c.CanSync(ctx, own.Project, b.ManualApp()); err != nil || !ok {
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
