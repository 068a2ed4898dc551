// Package argotest is a real gRPC server implementing Argo CD's generated
// ApplicationService, VersionService and AccountService with a small
// simulated controller. It is the test fake for package argo and the engine
// of the --demo sandbox; it answers the way Argo CD v2.14 does, including its
// quirks (List ignores refresh; the first watch event after a sync can still
// carry the previous operation).
package argotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	accountpkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/account"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	settingspkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/settings"
	versionpkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/version"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/health"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	"github.com/soheilhy/cmux"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Git is what the simulated controller needs to know of the ops repository.
type Git interface {
	// Resolve turns a branch, "HEAD" or a (short) sha into a full sha.
	Resolve(rev string) (string, error)
	// Changed reports whether path differs between commits from and to.
	Changed(from, to, path string) (bool, error)
	// Metadata returns author, date and message of a commit.
	Metadata(sha string) (author string, date time.Time, message string, err error)
}

// Options configure a Server.
type Options struct {
	// Token, when set, is required in the "token" metadata of every call.
	Token string
	Git   Git
	// SyncDuration is how long a simulated sync stays Running.
	SyncDuration time.Duration
	// Addr to listen on; default 127.0.0.1:0.
	Addr string
}

// AppSpec declares one application.
type AppSpec struct {
	Name, Project, RepoURL, Path string
	// Namespace is where the Application lives; default the control
	// plane's ("argocd"). Others are Argo CD's apps in any namespace.
	Namespace string
	// TargetRevision is the source's spec revision; default "main".
	TargetRevision string
	Auto           bool
	// Deployed is the revision already synced (the last history entry); "" = never synced.
	Deployed string
	// Previous are older deploys, oldest first, recorded in history before Deployed.
	Previous []string
	Images   []string
	// Now is when the seeded history ends (default the wall clock); By
	// started those syncs (default "admin", "automated" for auto-sync).
	Now time.Time
	By  string
	// More makes an app with several sources (spec.sources): the one
	// above first, then these.
	More []MoreSource
	// Ref names the app's own source for "$ref/…" value files; ValueFiles
	// are its helm value files.
	Ref        string
	ValueFiles []string
}

// MoreSource is another source of an app with several; Before puts it
// ahead of the app's own (a Helm chart first, the ops repository's values
// second). Chart makes it a Helm repository's chart.
type MoreSource struct {
	RepoURL, Path, TargetRevision string
	Before                        bool
	Chart, Ref                    string
	ValueFiles                    []string
}

// helmOf is the helm options naming valueFiles; nil without any.
func helmOf(valueFiles []string) *v1alpha1.ApplicationSourceHelm {
	if len(valueFiles) == 0 {
		return nil
	}
	return &v1alpha1.ApplicationSourceHelm{ValueFiles: valueFiles}
}

// Call is one recorded API call, for tests to assert on.
type Call struct {
	Method   string
	App      string
	Revision string
	DryRun   bool
	Prune    bool
	Infos    map[string]string
	// SourcePositions and Revisions: what a sync pinned of an app with
	// several sources.
	SourcePositions []int64
	Revisions       []string
}

// Account is the Argo CD account every token of the fake belongs to, and
// so the user a sync sent with one is initiated by (as Argo CD names it:
// the account, not the token's subject account:apiKey).
const Account = "ci"

// Server is the running fake.
type Server struct {
	application.UnimplementedApplicationServiceServer
	versionpkg.UnimplementedVersionServiceServer
	accountpkg.UnimplementedAccountServiceServer

	opts Options
	lis  net.Listener
	grpc *grpc.Server

	mu            sync.Mutex
	apps          map[string]*v1alpha1.Application
	rv            int64
	watchers      map[chan *v1alpha1.ApplicationWatchEvent]string
	calls         []Call
	cl            *connsListener     // the port being served
	listed        []time.Time        // when each List came in
	settingsAsked int                // public settings asked
	failSettings  bool               // they answer Unavailable
	denied        map[string]bool    // "project/app" the token may not sync
	windows       map[string]*window // app -> its active deny window
	held          map[string]bool    // app -> its syncs run until terminated
	opGen         map[string]int     // app -> its operation's number: a timer acts on its own operation only
	gitSource     map[string]int     // app with several sources -> the index of the one from Options.Git
	tokens        map[string]token   // issued tokens beyond Options.Token
	failNext      map[string]string  // app -> message of its next sync's failure
	conflict      map[string]int     // app -> terminates answered "Too many conflicts"
	timers        []*time.Timer
	closed        bool
}

// Start listens on loopback and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.SyncDuration == 0 {
		opts.SyncDuration = 300 * time.Millisecond
	}
	lis, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("fake argo cd: %w", err)
	}
	s := &Server{
		opts: opts, lis: lis,
		apps:     map[string]*v1alpha1.Application{},
		watchers: map[chan *v1alpha1.ApplicationWatchEvent]string{},
		denied:   map[string]bool{}, windows: map[string]*window{}, failNext: map[string]string{}, conflict: map[string]int{},
		held: map[string]bool{}, tokens: map[string]token{}, opGen: map[string]int{}, gitSource: map[string]int{},
	}
	s.serve(lis)
	return s, nil
}

func (s *Server) serve(lis net.Listener) {
	g := grpc.NewServer(grpc.UnaryInterceptor(s.authUnary), grpc.StreamInterceptor(s.authStream))
	application.RegisterApplicationServiceServer(g, s)
	versionpkg.RegisterVersionServiceServer(g, s)
	accountpkg.RegisterAccountServiceServer(g, s)
	settingspkg.RegisterSettingsServiceServer(g, &settingsServer{s: s})
	s.mu.Lock()
	s.grpc = g
	s.mu.Unlock()
	// As Argo CD's API server tells gRPC from HTTP on its one port: cmux,
	// gRPC being a connection whose first request's content-type is
	// application/grpc exactly. Nothing else is served here, so any other
	// connection is dropped, as there.
	cl := &connsListener{Listener: lis, conns: map[net.Conn]struct{}{}}
	s.mu.Lock()
	s.cl = cl
	s.mu.Unlock()
	m := cmux.New(cl)
	grpcL := m.MatchWithWriters(cmux.HTTP2MatchHeaderFieldSendSettings("content-type", "application/grpc"))
	go func() { _ = g.Serve(grpcL) }()
	go func() { _ = m.Serve() }()
}

// GRPC is the running gRPC server, for tests that put a gateway in front
// of it (grpc-web). It changes when Start follows a Stop.
func (s *Server) GRPC() *grpc.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grpc
}

// Stop takes the API server down as a stopped argocd-server is: the port
// refuses connections and open streams end. The applications and their
// operations live on (the controller still runs); Restart brings the API
// back on the same address.
func (s *Server) Stop() {
	s.mu.Lock()
	g, cl := s.grpc, s.cl
	s.mu.Unlock()
	g.Stop()
	cl.closeAll()
}

// connsListener remembers the connections it accepted, so that a stop
// closes each, as an exiting argocd-server's are: cmux holds a connection
// that has sent no request yet (a client's dialled, unused one) out of
// gRPC's reach.
type connsListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (l *connsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns[c] = struct{}{}
		l.mu.Unlock()
	}
	return c, err
}

// closeAll closes the port and every connection it accepted.
func (l *connsListener) closeAll() {
	l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
	}
	clear(l.conns)
}

// Restart serves again on the address Stop left.
func (s *Server) Restart() error {
	lis, err := net.Listen("tcp", s.Addr())
	if err != nil {
		return fmt.Errorf("fake argo cd: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		lis.Close()
		return errors.New("fake argo cd: restart after Close")
	}
	s.lis = lis
	s.mu.Unlock()
	s.serve(lis)
	return nil
}

// Addr is host:port of the server.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lis.Addr().String()
}

// Close stops the server and every simulated operation.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for _, t := range s.timers {
		t.Stop()
	}
	for ch := range s.watchers {
		close(ch)
		delete(s.watchers, ch)
	}
	g, cl := s.grpc, s.cl
	s.mu.Unlock()
	g.Stop()
	cl.closeAll()
}

func (s *Server) checkToken(ctx context.Context, method string) error {
	// As Argo CD: the version and the public settings need no session.
	if s.opts.Token == "" || strings.HasSuffix(method, "/Version") || method == "/cluster.SettingsService/Get" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range md.Get("token") {
		if t == s.opts.Token {
			return nil
		}
		// As Argo CD words it (util/session: Parse, then the account's
		// token list).
		if tok, ok := s.tokens[t]; ok {
			switch {
			case tok.revoked:
				return status.Errorf(codes.Unauthenticated, "invalid session: account %s does not have token with id %s", Account, tok.id)
			case !tok.expires.IsZero() && time.Now().After(tok.expires):
				return status.Error(codes.Unauthenticated, "invalid session: token is expired") // v2.14's wording (jwt v4)
			}
			return nil
		}
	}
	if len(md.Get("token")) == 0 {
		return status.Error(codes.Unauthenticated, "no session information")
	}
	return status.Error(codes.Unauthenticated, "invalid session: token signature is invalid")
}

// token is an API token issued by IssueToken.
type token struct {
	id      string
	expires time.Time
	revoked bool
}

// IssueToken mints another API token for the account, as POST
// /api/v1/account/ci/token does; expiresIn 0 never expires. It returns
// the token and its id for RevokeToken.
func (s *Server) IssueToken(expiresIn time.Duration) (tok, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id = fmt.Sprintf("tok-%d", len(s.tokens)+1)
	tok = "issued-" + id
	t := token{id: id}
	if expiresIn > 0 {
		t.expires = time.Now().Add(expiresIn)
	}
	s.tokens[tok] = t
	return tok, id
}

// RevokeToken deletes an issued token, as DELETE
// /api/v1/account/ci/token/ID does: it stops working at once.
func (s *Server) RevokeToken(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		if t.id == id {
			t.revoked = true
			s.tokens[k] = t
		}
	}
}

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.checkToken(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.checkToken(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

// AddApp creates an application and reconciles it against git.
func (s *Server) AddApp(spec AppSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.Project == "" {
		spec.Project = "default"
	}
	if spec.TargetRevision == "" {
		spec.TargetRevision = "main"
	}
	if spec.Namespace == "" {
		spec.Namespace = ControlPlane
	}
	a := &v1alpha1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: spec.Namespace, CreationTimestamp: metav1.Now()},
		Spec: v1alpha1.ApplicationSpec{
			Project: spec.Project,
			Source: &v1alpha1.ApplicationSource{RepoURL: spec.RepoURL, Path: spec.Path, TargetRevision: spec.TargetRevision,
				Ref: spec.Ref, Helm: helmOf(spec.ValueFiles)},
			Destination: v1alpha1.ApplicationDestination{
				Server: "https://kubernetes.default.svc", Namespace: spec.Name,
			},
		},
	}
	if len(spec.More) > 0 {
		var before, after v1alpha1.ApplicationSources
		for _, m := range spec.More {
			src := v1alpha1.ApplicationSource{RepoURL: m.RepoURL, Path: m.Path, TargetRevision: m.TargetRevision,
				Chart: m.Chart, Ref: m.Ref, Helm: helmOf(m.ValueFiles)}
			if m.Before {
				before = append(before, src)
			} else {
				after = append(after, src)
			}
		}
		a.Spec.Sources = append(append(before, *a.Spec.Source), after...)
		a.Spec.Source = nil
		s.gitSource[keyOf(a)] = len(before)
	}
	if spec.Auto {
		a.Spec.SyncPolicy = &v1alpha1.SyncPolicy{Automated: &v1alpha1.SyncPolicyAutomated{}}
	}
	// As the Kubernetes API server records them for Argo CD (its API
	// server wrote the spec, its controller the status), and Argo CD's
	// lists and watches send them.
	created := a.CreationTimestamp
	a.ManagedFields = []metav1.ManagedFieldsEntry{
		{Manager: "argocd-server", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "argoproj.io/v1alpha1", Time: &created, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{".":{},"f:destination":{".":{},"f:namespace":{},"f:server":{}},"f:project":{},"f:source":{".":{},"f:path":{},"f:repoURL":{},"f:targetRevision":{}}}}`)}},
		{Manager: "argocd-application-controller", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "argoproj.io/v1alpha1", Time: &created, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{".":{},"f:controllerNamespace":{},"f:health":{".":{},"f:lastTransitionTime":{},"f:status":{}},"f:history":{},"f:operationState":{".":{},"f:finishedAt":{},"f:message":{},"f:operation":{".":{},"f:initiatedBy":{".":{},"f:username":{}},"f:retry":{},"f:sync":{".":{},"f:revision":{},"f:syncStrategy":{".":{},"f:hook":{}}}},"f:phase":{},"f:startedAt":{},"f:syncResult":{".":{},"f:resources":{},"f:revision":{},"f:source":{".":{},"f:path":{},"f:repoURL":{},"f:targetRevision":{}}}},"f:reconciledAt":{},"f:resources":{},"f:sourceType":{},"f:summary":{".":{},"f:images":{}},"f:sync":{".":{},"f:comparedTo":{".":{},"f:destination":{".":{},"f:namespace":{},"f:server":{}},"f:source":{".":{},"f:path":{},"f:repoURL":{},"f:targetRevision":{}}},"f:revision":{},"f:status":{}}}}`)}},
	}
	a.Status.Health.Status = health.HealthStatusHealthy
	a.Status.Summary.Images = spec.Images
	now := spec.Now
	if now.IsZero() {
		now = time.Now()
	}
	by := v1alpha1.OperationInitiator{Username: spec.By, Automated: spec.Auto}
	if by.Username == "" && !spec.Auto {
		by.Username = "admin"
	}
	for i, rev := range spec.Previous {
		at := metav1.NewTime(now.Add(-time.Duration(len(spec.Previous)-i) * 26 * time.Hour))
		a.Status.History = append(a.Status.History, s.historyEntry(a, int64(i), s.revisionsOf(a, rev), at, at, by))
	}
	if spec.Deployed != "" {
		deployedAt := metav1.NewTime(now.Add(-2 * time.Hour))
		a.Status.History = append(a.Status.History, s.historyEntry(a, int64(len(spec.Previous)), s.revisionsOf(a, spec.Deployed), deployedAt, deployedAt, by))
		a.Status.OperationState = &v1alpha1.OperationState{
			Operation:  v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: spec.Deployed}},
			Phase:      synccommon.OperationSucceeded,
			Message:    "successfully synced (all tasks run)",
			StartedAt:  deployedAt,
			FinishedAt: &deployedAt,
			SyncResult: s.syncResult(a, s.revisionsOf(a, spec.Deployed)),
		}
	}
	s.apps[keyOf(a)] = a
	s.reconcileLocked(a)
	s.publishLocked("ADDED", a)
}

// DenySync makes CanI answer "no" and Sync fail for project/app.
func (s *Server) DenySync(project, app string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[project+"/"+app] = true
}

// window is an active deny window; manualSync lets manual syncs through.
type window struct{ manualSync bool }

// CloseSyncWindow makes app's sync window deny manual syncs.
func (s *Server) CloseSyncWindow(app string) { s.SetDenyWindow(app, false) }

// SetDenyWindow puts app under a deny window active now; with manualSync
// Argo CD still lets a manual sync through (automated ones wait).
func (s *Server) SetDenyWindow(app string, manualSync bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows[app] = &window{manualSync: manualSync}
}

// ClearSyncWindows removes every window.
func (s *Server) ClearSyncWindows() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.windows)
}

// HoldSyncs makes app's syncs stay Running until terminated, as a sync
// waiting on a hook that never completes does.
func (s *Server) HoldSyncs(app string, hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[app] = hold
}

// DropStreams ends every open watch with Unavailable, as a restarting
// argocd-server or a dropped connection does; the operations go on.
func (s *Server) DropStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.watchers {
		close(ch)
		delete(s.watchers, ch)
	}
}

// FailNextSync makes app's next sync end Failed with message, health Degraded.
func (s *Server) FailNextSync(app, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[app] = message
}

// ConflictTerminates makes app's next n terminates fail as real Argo CD's
// do when its controller keeps updating the app: "Too many conflicts",
// nothing terminated.
func (s *Server) ConflictTerminates(app string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conflict[app] = n
}

// SetSyncDuration changes how long the next simulated syncs run.
func (s *Server) SetSyncDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.SyncDuration = d
}

// Watchers is the number of watch streams open now.
func (s *Server) Watchers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

// Calls returns the recorded mutating and metadata calls.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Lists returns when each application List came in, in order.
func (s *Server) Lists() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.listed...)
}

// Reconcile refreshes every app against git, as the controller's resync
// does, and starts auto-syncs for automated apps that are out of sync.
func (s *Server) Reconcile() {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.apps))
	for n := range s.apps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := s.apps[n]
		before := a.Status.Sync.Revision + string(a.Status.Sync.Status)
		s.reconcileLocked(a)
		if before != a.Status.Sync.Revision+string(a.Status.Sync.Status) {
			s.publishLocked("MODIFIED", a)
		}
		// An active deny window holds automated syncs, manualSync or not.
		if a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil && s.windows[n] == nil &&
			a.Status.Sync.Status == v1alpha1.SyncStatusCodeOutOfSync && a.Operation == nil &&
			(a.Status.OperationState == nil || a.Status.OperationState.Phase != synccommon.OperationRunning) {
			s.startSyncLocked(a, a.Status.Sync.Revision, false, "automated sync", nil)
		}
	}
}

// reconcileLocked compares the deployed revision with the target's head.
func (s *Server) reconcileLocked(a *v1alpha1.Application) {
	if s.opts.Git == nil {
		return
	}
	head, err := s.opts.Git.Resolve(s.primary(a).TargetRevision)
	if err != nil {
		a.Status.Sync.Status = v1alpha1.SyncStatusCodeUnknown
		a.Status.Conditions = []v1alpha1.ApplicationCondition{{Type: v1alpha1.ApplicationConditionComparisonError, Message: err.Error()}}
		return
	}
	a.Status.Conditions = nil
	if a.Spec.HasMultipleSources() {
		a.Status.Sync.Revisions = s.revisionsOf(a, head)
		a.Status.Sync.ComparedTo = v1alpha1.ComparedTo{Sources: a.Spec.Sources}
	} else {
		a.Status.Sync.Revision = head
		a.Status.Sync.ComparedTo = v1alpha1.ComparedTo{Source: *a.Spec.Source}
	}
	deployed := s.deployedRevision(a)
	switch {
	case deployed == "":
		a.Status.Sync.Status = v1alpha1.SyncStatusCodeOutOfSync
		a.Status.Health.Status = health.HealthStatusMissing
	case deployed == head:
		a.Status.Sync.Status = v1alpha1.SyncStatusCodeSynced
	default:
		changed, err := s.opts.Git.Changed(deployed, head, s.primary(a).Path)
		if err != nil {
			a.Status.Sync.Status = v1alpha1.SyncStatusCodeUnknown
			return
		}
		if changed {
			a.Status.Sync.Status = v1alpha1.SyncStatusCodeOutOfSync
		} else {
			a.Status.Sync.Status = v1alpha1.SyncStatusCodeSynced
		}
	}
}

// deployedRevision is the deployed revision of the source from Options.Git.
func (s *Server) deployedRevision(a *v1alpha1.Application) string {
	pick := func(rev string, revs []string) string {
		if i := s.gitSource[keyOf(a)]; rev == "" && i < len(revs) {
			return revs[i]
		}
		return rev
	}
	if st := a.Status.OperationState; st != nil && st.SyncResult != nil && pick(st.SyncResult.Revision, st.SyncResult.Revisions) != "" &&
		st.Phase == synccommon.OperationSucceeded && (st.Operation.Sync == nil || !st.Operation.Sync.DryRun) {
		return pick(st.SyncResult.Revision, st.SyncResult.Revisions)
	}
	if n := len(a.Status.History); n > 0 {
		return pick(a.Status.History[n-1].Revision, a.Status.History[n-1].Revisions)
	}
	return ""
}

// primary is the app's source, or of several the one from Options.Git:
// the one whose revision the fake resolves and deploys.
func (s *Server) primary(a *v1alpha1.Application) *v1alpha1.ApplicationSource {
	if a.Spec.HasMultipleSources() {
		return &a.Spec.Sources[s.gitSource[keyOf(a)]]
	}
	return a.Spec.Source
}

// revisionsOf is what each of an app's sources is at when the one from
// Options.Git is at rev: a source of that repository is at rev too, one of
// another repository at its target (the fake has one repository). One
// source: just rev.
func (s *Server) revisionsOf(a *v1alpha1.Application, rev string) []string {
	if !a.Spec.HasMultipleSources() {
		return []string{rev}
	}
	var out []string
	for _, src := range a.Spec.Sources {
		if src.RepoURL == s.primary(a).RepoURL {
			out = append(out, rev)
		} else {
			out = append(out, src.TargetRevision)
		}
	}
	return out
}

// syncResult is a sync's result at revs (one per source), as Argo CD
// spells it for one source or several.
func (s *Server) syncResult(a *v1alpha1.Application, revs []string) *v1alpha1.SyncOperationResult {
	if a.Spec.HasMultipleSources() {
		return &v1alpha1.SyncOperationResult{Revisions: revs, Sources: a.Spec.Sources}
	}
	return &v1alpha1.SyncOperationResult{Revision: revs[0], Source: *a.Spec.Source}
}

func (s *Server) historyEntry(a *v1alpha1.Application, id int64, revs []string, at, started metav1.Time, by v1alpha1.OperationInitiator) v1alpha1.RevisionHistory {
	h := v1alpha1.RevisionHistory{ID: id, DeployedAt: at, DeployStartedAt: &started, InitiatedBy: by}
	if a.Spec.HasMultipleSources() {
		h.Revisions, h.Sources = revs, a.Spec.Sources
	} else {
		h.Revision, h.Source = revs[0], *a.Spec.Source
	}
	return h
}

// opRevisions is what the operation in st deploys, one per source: the
// revisions the sync of an app with several sources fixed, else revision.
func (s *Server) opRevisions(a *v1alpha1.Application, st *v1alpha1.OperationState, revision string) []string {
	if sync := st.Operation.Sync; sync != nil && len(sync.Revisions) == len(a.Spec.Sources) && len(sync.Revisions) > 0 {
		return sync.Revisions
	}
	return s.revisionsOf(a, revision)
}

func (s *Server) publishLocked(typ string, a *v1alpha1.Application) {
	s.rv++
	a.ResourceVersion = strconv.FormatInt(s.rv, 10)
	for ch, name := range s.watchers {
		if name != "" && name != keyOf(a) {
			continue
		}
		ev := &v1alpha1.ApplicationWatchEvent{Type: watch.EventType(typ), Application: *a.DeepCopy()}
		select {
		case ch <- ev:
		default: // a slow watcher loses events, as with a real watch; it re-lists on reconnect
		}
	}
}

// startSyncLocked records the operation and schedules the simulated
// controller: Running at once, Succeeded after SyncDuration.
func (s *Server) startSyncLocked(a *v1alpha1.Application, revision string, dryRun bool, initiator string, infos []*v1alpha1.Info) {
	op := &v1alpha1.Operation{
		Sync:        &v1alpha1.SyncOperation{Revision: revision, DryRun: dryRun},
		InitiatedBy: v1alpha1.OperationInitiator{Username: initiator, Automated: initiator == "automated sync"},
	}
	for _, i := range infos {
		op.Info = append(op.Info, &v1alpha1.Info{Name: i.Name, Value: i.Value})
	}
	// As Argo CD's API server (SetAppOperation): the operation is set and
	// the previous operation's state cleared, in one update.
	a.Operation = op
	a.Status.OperationState = nil
	s.publishLocked("MODIFIED", a)
	name := keyOf(a)
	s.opGen[name]++
	gen := s.opGen[name]
	requested := time.Now()
	s.afterOp(20*time.Millisecond, name, gen, func(a *v1alpha1.Application) {
		if a.Operation == nil {
			return
		}
		// As Argo CD's controller: the operation field stays set while
		// the operation runs and is cleared when it completes.
		a.Status.OperationState = &v1alpha1.OperationState{
			Operation: *a.Operation, Phase: synccommon.OperationRunning,
			Message: "one or more tasks are running", StartedAt: metav1.NewTime(requested),
		}
		if !dryRun { // a dry run changes nothing in the cluster
			a.Status.Health.Status = health.HealthStatusProgressing
		}
		s.publishLocked("MODIFIED", a)
		if s.held[name] {
			return // waits on its hook until terminated
		}
		s.afterOp(s.opts.SyncDuration, name, gen, func(a *v1alpha1.Application) { s.finishSyncLocked(a, revision, dryRun) })
	})
}

// afterOp runs f on app name after d, under the lock, while the app's
// operation is still the gen-th: a timer acts on its own operation only.
func (s *Server) afterOp(d time.Duration, name string, gen int, f func(a *v1alpha1.Application)) {
	s.timers = append(s.timers, time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if a, ok := s.apps[name]; ok && !s.closed && s.opGen[name] == gen {
			f(a)
		}
	}))
}

func (s *Server) finishSyncLocked(a *v1alpha1.Application, revision string, dryRun bool) {
	if a.Status.OperationState == nil || a.Status.OperationState.Phase != synccommon.OperationRunning {
		return
	}
	name := keyOf(a)
	now := metav1.Now()
	st := a.Status.OperationState
	st.FinishedAt = &now
	a.Operation = nil
	if dryRun {
		// As Argo CD's controller: the result is the revision asked for; no
		// history entry, and the app's health is what it was.
		st.Phase, st.Message = synccommon.OperationSucceeded, "successfully synced (all tasks run)"
		st.SyncResult = s.syncResult(a, s.opRevisions(a, st, revision))
		s.publishLocked("MODIFIED", a)
		return
	}
	if msg, ok := s.failNext[name]; ok && strings.HasPrefix(msg, "error:") {
		// A revision the repo server cannot resolve: Error, no sync result.
		delete(s.failNext, name)
		st.Phase, st.Message, st.SyncResult = synccommon.OperationError, strings.TrimPrefix(msg, "error:"), nil
		a.Status.Health.Status = health.HealthStatusHealthy
		s.publishLocked("MODIFIED", a)
		return
	}
	if msg, ok := s.failNext[name]; ok {
		delete(s.failNext, name)
		st.Phase, st.Message = synccommon.OperationFailed, msg
		st.SyncResult = s.syncResult(a, s.opRevisions(a, st, revision))
		st.SyncResult.Resources = v1alpha1.ResourceResults{
			{Group: "apps", Kind: "Deployment", Namespace: a.Spec.Destination.Namespace, Name: a.Name, Status: synccommon.ResultCodeSyncFailed, Message: msg, SyncPhase: synccommon.SyncPhaseSync},
		}
		a.Status.Health.Status = health.HealthStatusDegraded
		s.publishLocked("MODIFIED", a)
		return
	}
	st.Phase, st.Message = synccommon.OperationSucceeded, "successfully synced (all tasks run)"
	st.SyncResult = s.syncResult(a, s.opRevisions(a, st, revision))
	st.SyncResult.Resources = v1alpha1.ResourceResults{
		{Kind: "ConfigMap", Namespace: a.Spec.Destination.Namespace, Name: a.Name + "-values", Status: synccommon.ResultCodeSynced, Message: "configmap/" + a.Name + "-values configured", SyncPhase: synccommon.SyncPhaseSync},
		{Group: "apps", Kind: "Deployment", Namespace: a.Spec.Destination.Namespace, Name: a.Name, Status: synccommon.ResultCodeSynced, Message: "deployment.apps/" + a.Name + " configured", SyncPhase: synccommon.SyncPhaseSync},
	}
	var id int64
	if n := len(a.Status.History); n > 0 {
		id = a.Status.History[n-1].ID + 1
	}
	started := st.StartedAt
	// As Argo CD's controller (persistRevisionHistory): who started the
	// operation is kept with the deploy.
	a.Status.History = append(a.Status.History, s.historyEntry(a, id, s.opRevisions(a, st, revision), now, started, st.Operation.InitiatedBy))
	if len(a.Status.History) > 10 {
		a.Status.History = a.Status.History[len(a.Status.History)-10:]
	}
	a.Status.Health.Status = health.HealthStatusHealthy
	if il, ok := s.opts.Git.(interface {
		Images(sha, path string) []string
	}); ok {
		a.Status.Summary.Images = il.Images(revision, s.primary(a).Path)
	}
	s.reconcileLocked(a)
	s.publishLocked("MODIFIED", a)
}

// settingsServer answers the public settings: the control plane's
// namespace, and that apps in other namespaces are on.
type settingsServer struct {
	settingspkg.UnimplementedSettingsServiceServer
	s *Server
}

func (ss *settingsServer) Get(ctx context.Context, _ *settingspkg.SettingsQuery) (*settingspkg.Settings, error) {
	s := ss.s
	s.mu.Lock()
	s.settingsAsked++
	fail := s.failSettings
	s.mu.Unlock()
	if fail {
		return nil, status.Error(codes.Unavailable, "settings unavailable")
	}
	set := &settingspkg.Settings{AppsInAnyNamespaceEnabled: true}
	// As Argo CD: the control plane's namespace is told to a logged-in
	// caller only (the settings need no session).
	if s.checkToken(ctx, "/settings.loggedIn") == nil {
		set.ControllerNamespace = ControlPlane
	}
	return set, nil
}

// FailSettings makes the public settings answer Unavailable (or answer
// again).
func (s *Server) FailSettings(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failSettings = fail
}

// SettingsAsked is how many times the public settings were asked.
func (s *Server) SettingsAsked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settingsAsked
}

// ControlPlane is the fake's own namespace, as argocd is Argo CD's.
const ControlPlane = "argocd"

// key names an app as the fake stores it: its name in the control plane's
// namespace, namespace/name elsewhere (Argo CD's qualified name).
func key(namespace, name string) string {
	if namespace == "" || namespace == ControlPlane {
		return name
	}
	return namespace + "/" + name
}

func keyOf(a *v1alpha1.Application) string { return key(a.Namespace, a.Name) }
