package argotest

import (
	"cmp"
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	accountpkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/account"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	versionpkg "github.com/argoproj/argo-cd/v2/pkg/apiclient/version"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Version answers the apiclient's connection probe.
func (s *Server) Version(context.Context, *emptypb.Empty) (*versionpkg.VersionMessage, error) {
	return &versionpkg.VersionMessage{Version: "v2.14.21+stagedeck-fake"}, nil
}

// CanI answers RBAC checks: "no" for denied sync targets, else "yes".
func (s *Server) CanI(_ context.Context, q *accountpkg.CanIRequest) (*accountpkg.CanIResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Resource == "applications" && q.Action == "sync" && s.denied[q.Subresource] {
		return &accountpkg.CanIResponse{Value: "no"}, nil
	}
	return &accountpkg.CanIResponse{Value: "yes"}, nil
}

// List returns all apps; like Argo CD it ignores the refresh parameter.
func (s *Server) List(_ context.Context, q *application.ApplicationQuery) (*v1alpha1.ApplicationList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listed = append(s.listed, time.Now())
	list := &v1alpha1.ApplicationList{}
	for _, a := range s.apps {
		if q.Name != nil && *q.Name != "" && key(q.GetAppNamespace(), *q.Name) != keyOf(a) {
			continue
		}
		list.Items = append(list.Items, *a.DeepCopy())
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	list.ResourceVersion = strconv.FormatInt(s.rv, 10)
	return list, nil
}

// commitish is what Argo CD takes as a commit without finding it in the
// repository: 7 hex digits or more (util/git: IsTruncatedCommitSHA).
var commitish = regexp.MustCompile(`^[0-9A-Fa-f]{7,}$`)

// appInProjectLocked finds an app for a call that names its project, as
// Argo CD does (getApplicationEnforceRBACClient): named, a missing app or
// one in another project is "not found" (the caller may read apps, so
// existence is no secret); unnamed, a missing app is "permission denied".
func (s *Server) appInProjectLocked(name *string, namespace, project string) (*v1alpha1.Application, error) {
	if project == "" {
		return s.appLocked(name, namespace)
	}
	if name == nil {
		return nil, status.Error(codes.InvalidArgument, "application name is required")
	}
	notFound := status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", *name)
	a, ok := s.apps[key(namespace, *name)]
	if !ok {
		return nil, notFound
	}
	if p := a.Spec.Project; p != project && !(p == "" && project == "default") {
		return nil, notFound
	}
	return a, nil
}

func (s *Server) appLocked(name *string, namespace string) (*v1alpha1.Application, error) {
	if name == nil {
		return nil, status.Error(codes.InvalidArgument, "application name is required")
	}
	a, ok := s.apps[key(namespace, *name)]
	if !ok {
		// As Argo CD (v2.14, v3): RBAC is enforced before the lookup, so a
		// missing app reads "permission denied", for admin too, and names
		// cannot be probed.
		return nil, status.Error(codes.PermissionDenied, "permission denied")
	}
	return a, nil
}

// Get returns one app; refresh=normal|hard reconciles it first.
func (s *Server) Get(_ context.Context, q *application.ApplicationQuery) (*v1alpha1.Application, error) {
	s.mu.Lock()
	refresh := q.Refresh != nil && (*q.Refresh == "normal" || *q.Refresh == "hard")
	if refresh { // a refresh asks for work: recorded, like the mutations
		s.calls = append(s.calls, Call{Method: "Refresh", App: key(q.GetAppNamespace(), q.GetName())})
	}
	a, err := s.appLocked(q.Name, q.GetAppNamespace())
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	if refresh {
		s.Reconcile()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return a.DeepCopy(), nil
}

// Watch streams ADDED for every current app, then changes as they happen.
// As Argo CD's: with a resourceVersion (any, even one that is not a
// number) a watch of every app skips the ADDED burst, while a watch of
// one app keeps it; and no app older than that version (a number) is
// sent, in the burst or after it. The burst is in namespace/name order.
func (s *Server) Watch(q *application.ApplicationQuery, stream application.ApplicationService_WatchServer) error {
	ch := make(chan *v1alpha1.ApplicationWatchEvent, 256)
	name := ""
	if q.Name != nil && *q.Name != "" {
		name = key(q.GetAppNamespace(), *q.Name)
	}
	minVersion, err := strconv.Atoi(q.GetResourceVersion())
	if err != nil {
		minVersion = 0
	}
	send := func(ev *v1alpha1.ApplicationWatchEvent) error {
		if v, err := strconv.Atoi(ev.Application.ResourceVersion); err == nil && v < minVersion {
			return nil
		}
		return stream.Send(ev)
	}
	s.mu.Lock()
	var initial []*v1alpha1.ApplicationWatchEvent
	if q.GetResourceVersion() == "" || name != "" {
		for _, a := range s.apps {
			if name == "" || keyOf(a) == name {
				initial = append(initial, &v1alpha1.ApplicationWatchEvent{Type: "ADDED", Application: *a.DeepCopy()})
			}
		}
	}
	s.watchers[ch] = name
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
	}()
	sort.Slice(initial, func(i, j int) bool {
		return initial[i].Application.QualifiedName() < initial[j].Application.QualifiedName()
	})
	for _, ev := range initial {
		if err := send(ev); err != nil {
			return err
		}
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev, ok := <-ch:
			if !ok {
				return status.Error(codes.Unavailable, "server shutting down")
			}
			if err := send(ev); err != nil {
				return err
			}
		}
	}
}

// Sync starts a sync operation, refusing what Argo CD refuses.
func (s *Server) Sync(_ context.Context, q *application.ApplicationSyncRequest) (*v1alpha1.Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Method: "Sync", App: key(q.GetAppNamespace(), q.GetName()), Revision: q.GetRevision(), DryRun: q.GetDryRun(), Prune: q.GetPrune(), Infos: map[string]string{},
		SourcePositions: q.SourcePositions, Revisions: q.Revisions}
	for _, i := range q.Infos {
		call.Infos[i.Name] = i.Value
	}
	s.calls = append(s.calls, call)
	a, err := s.appInProjectLocked(q.Name, q.GetAppNamespace(), q.GetProject())
	if err != nil {
		return nil, err
	}
	// As Argo CD's Sync: the window first, then the right to sync.
	if w := s.windows[keyOf(a)]; w != nil && !w.manualSync {
		return nil, status.Error(codes.PermissionDenied, "cannot sync: blocked by sync window")
	}
	if s.denied[a.Spec.Project+"/"+keyOf(a)] {
		return nil, status.Errorf(codes.PermissionDenied, "permission denied: applications, sync, %s/%s, sub: %s, iat: 2026-11-26T00:00:00Z", a.Spec.Project, a.Name, Account)
	}
	// Then the revision: an app with auto-sync follows its target and
	// refuses any other (a dry run aside); a branch or tag must resolve
	// now, while what looks like a sha is taken as it is.
	target := s.primary(a).TargetRevision
	if target == "" {
		target = "HEAD"
	}
	resolve := func(rev string) (string, error) {
		if s.opts.Git == nil {
			return rev, nil
		}
		sha, err := s.opts.Git.Resolve(rev)
		if err != nil && !commitish.MatchString(rev) {
			return "", status.Errorf(codes.FailedPrecondition, "error resolving repo revision: rpc error: code = Unknown desc = unable to resolve '%s' to a commit SHA", rev)
		} else if err != nil {
			// Argo CD accepts the request; the operation then errors when the
			// repo server cannot check the revision out.
			s.failNext[keyOf(a)] = "error:ComparisonError: Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = failed to initialize repository resources: rpc error: code = Internal desc = Failed to checkout revision " + rev + ": fatal: remote error: upload-pack: not our ref " + rev
			return rev, nil
		}
		return sha, nil
	}
	var revs []string // of several sources: each one's revision
	rev := q.GetRevision()
	if a.Spec.HasMultipleSources() {
		// As Argo CD: the revision is ignored; each source syncs to its
		// target unless its position (from 1) is given a revision, and a
		// source of the fake's repository is resolved in it. (Argo CD's
		// check of auto-sync here compares each source with itself, once
		// overwritten: it never refuses.)
		for _, src := range a.Spec.Sources {
			revs = append(revs, src.TargetRevision)
		}
		for i, pos := range q.SourcePositions {
			if pos <= 0 || pos > int64(len(revs)) || i >= len(q.Revisions) {
				return nil, status.Error(codes.Unknown, "source position is out of range")
			}
			revs[pos-1] = q.Revisions[i]
		}
		for i, src := range a.Spec.Sources {
			if src.RepoURL == s.primary(a).RepoURL {
				if revs[i], err = resolve(cmp.Or(revs[i], "HEAD")); err != nil {
					return nil, err
				}
			}
		}
		rev = revs[s.gitSource[keyOf(a)]]
	} else {
		if auto := a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil && !q.GetDryRun(); auto && rev != "" && rev != target {
			return nil, status.Errorf(codes.FailedPrecondition, "Cannot sync to %s: auto-sync currently set to %s", rev, a.Spec.Source.TargetRevision)
		}
		if rev, err = resolve(cmp.Or(rev, target)); err != nil {
			return nil, err
		}
	}
	// Last, as Argo CD sets the operation: none may be pending or running.
	if a.Operation != nil || (a.Status.OperationState != nil && a.Status.OperationState.Phase == synccommon.OperationRunning) {
		return nil, status.Error(codes.FailedPrecondition, "error setting app operation: another operation is already in progress")
	}
	s.startSyncLocked(a, rev, q.GetDryRun(), Account, q.Infos)
	if revs != nil {
		a.Operation.Sync.Revisions = revs
	}
	return a.DeepCopy(), nil
}

// TerminateOperation stops a running operation: Terminating, then Failed.
func (s *Server) TerminateOperation(_ context.Context, q *application.OperationTerminateRequest) (*application.OperationTerminateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: "TerminateOperation", App: key(q.GetAppNamespace(), q.GetName())})
	a, err := s.appLocked(q.Name, q.GetAppNamespace())
	if err != nil {
		return nil, err
	}
	// Terminating needs the right to sync (Argo CD's RBAC action "sync");
	// the request names no project, so Argo CD says only this.
	if s.denied[a.Spec.Project+"/"+keyOf(a)] {
		return nil, status.Error(codes.PermissionDenied, "permission denied")
	}
	if k := keyOf(a); s.conflict[k] > 0 {
		s.conflict[k]--
		return nil, status.Error(codes.Internal, "Failed to terminate app. Too many conflicts")
	}
	// As Argo CD: nothing to terminate unless an operation is set and the
	// controller has taken it.
	st := a.Status.OperationState
	if a.Operation == nil || st == nil {
		return nil, status.Error(codes.InvalidArgument, "Unable to terminate operation. No operation is in progress")
	}
	// As Argo CD: the API server marks it Terminating (the operation stays
	// set); the controller then ends it, Failed, and clears the operation.
	st.Phase = synccommon.OperationTerminating
	s.publishLocked("MODIFIED", a)
	s.afterOp(50*time.Millisecond, keyOf(a), s.opGen[keyOf(a)], func(a *v1alpha1.Application) {
		if st := a.Status.OperationState; st != nil && st.Phase == synccommon.OperationTerminating {
			now := metav1.Now()
			st.Phase, st.Message, st.FinishedAt = synccommon.OperationFailed, "Operation terminated", &now
			a.Operation = nil
			s.publishLocked("MODIFIED", a)
		}
	})
	return &application.OperationTerminateResponse{}, nil
}

// GetApplicationSyncWindows reports whether a manual sync is allowed now.
func (s *Server) GetApplicationSyncWindows(_ context.Context, q *application.ApplicationSyncWindowsQuery) (*application.ApplicationSyncWindowsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.appLocked(q.Name, q.GetAppNamespace()); err != nil {
		return nil, err
	}
	w := s.windows[key(q.GetAppNamespace(), q.GetName())]
	can := w == nil || w.manualSync
	res := &application.ApplicationSyncWindowsResponse{CanSync: &can}
	if w != nil {
		kind, sched, dur, manual := "deny", "0 0 * * *", "24h", w.manualSync
		w := &application.ApplicationSyncWindow{Kind: &kind, Schedule: &sched, Duration: &dur, ManualSync: &manual}
		res.ActiveWindows = append(res.ActiveWindows, w)
		res.AssignedWindows = append(res.AssignedWindows, w)
	}
	return res, nil
}

// RevisionMetadata reads author, date and message from git.
func (s *Server) RevisionMetadata(_ context.Context, q *application.RevisionMetadataQuery) (*v1alpha1.RevisionMetadata, error) {
	s.mu.Lock()
	_, err := s.appLocked(q.Name, q.GetAppNamespace())
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if s.opts.Git == nil {
		return nil, status.Error(codes.Unimplemented, "no git configured")
	}
	author, date, msg, err := s.opts.Git.Metadata(q.GetRevision())
	if err != nil {
		return nil, status.Errorf(codes.Unknown, "unable to resolve '%s' to a commit SHA", q.GetRevision())
	}
	return &v1alpha1.RevisionMetadata{Author: author, Date: metav1.NewTime(date), Message: msg}, nil
}

// Files is optional on Git: the files under dir at a revision. With it the
// fake renders managed resources from the ops repo, as a repo-server would.
type Files interface {
	Files(sha, dir string) (map[string][]byte, error)
}

// ManagedResources lists the app's resources with normalised live and
// predicted state as JSON, as Argo CD does: values.yaml becomes a ConfigMap,
// every manifest under templates/ is itself.
func (s *Server) ManagedResources(_ context.Context, q *application.ResourcesQuery) (*application.ManagedResourcesResponse, error) {
	s.mu.Lock()
	a, err := s.appLocked(q.ApplicationName, q.GetAppNamespace())
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	a = a.DeepCopy()
	s.mu.Unlock()
	files, ok := s.opts.Git.(Files)
	if !ok {
		return &application.ManagedResourcesResponse{}, nil
	}
	render := func(rev string) map[string]string {
		out := map[string]string{}
		if rev == "" {
			return out
		}
		fs, err := files.Files(rev, s.primary(a).Path)
		if err != nil {
			return out
		}
		for name, content := range fs {
			switch {
			case name == "values.yaml":
				cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
					"metadata": map[string]any{"name": a.Name + "-values", "namespace": a.Spec.Destination.Namespace},
					"data":     map[string]any{"values.yaml": string(content)}}
				b, _ := json.Marshal(cm)
				out["/ConfigMap/"+a.Name+"-values"] = string(b)
			case strings.HasPrefix(name, "templates/"):
				b, err := yaml.YAMLToJSON(content)
				if err != nil {
					continue
				}
				var obj struct {
					APIVersion string                `json:"apiVersion"`
					Kind       string                `json:"kind"`
					Metadata   struct{ Name string } `json:"metadata"`
				}
				if json.Unmarshal(b, &obj) != nil || obj.Kind == "" {
					continue
				}
				group := ""
				if g, _, ok := strings.Cut(obj.APIVersion, "/"); ok {
					group = g
				}
				out[group+"/"+obj.Kind+"/"+obj.Metadata.Name] = string(b)
			}
		}
		return out
	}
	live, target := render(s.deployedRevision(a)), render(a.Status.Sync.Revision)
	keys := map[string]bool{}
	for k := range live {
		keys[k] = true
	}
	for k := range target {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	res := &application.ManagedResourcesResponse{}
	for _, k := range names {
		parts := strings.SplitN(k, "/", 3)
		res.Items = append(res.Items, &v1alpha1.ResourceDiff{
			Group: parts[0], Kind: parts[1], Namespace: a.Spec.Destination.Namespace, Name: parts[2],
			NormalizedLiveState: live[k], PredictedLiveState: target[k], LiveState: live[k], TargetState: target[k],
			Modified: live[k] != target[k],
		})
	}
	return res, nil
}

// Rollback is refused for automated apps, as Argo CD does.
func (s *Server) Rollback(_ context.Context, q *application.ApplicationRollbackRequest) (*v1alpha1.Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: "Rollback", App: key(q.GetAppNamespace(), q.GetName())})
	a, err := s.appLocked(q.Name, q.GetAppNamespace())
	if err != nil {
		return nil, err
	}
	if s.denied[a.Spec.Project+"/"+keyOf(a)] { // Argo CD checks the sync right
		return nil, status.Errorf(codes.PermissionDenied, "permission denied: applications, sync, %s/%s, sub: %s, iat: 2026-11-26T00:00:00Z", a.Spec.Project, a.Name, Account)
	}
	if a.Spec.SyncPolicy != nil && a.Spec.SyncPolicy.Automated != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "rollback cannot be initiated when auto-sync is enabled")
	}
	if a.Operation != nil {
		return nil, status.Error(codes.FailedPrecondition, "another operation is already in progress")
	}
	for _, h := range a.Status.History {
		if h.ID == q.GetId() {
			s.startSyncLocked(a, h.Revision, q.GetDryRun(), "admin", nil)
			return a.DeepCopy(), nil
		}
	}
	return nil, status.Errorf(codes.InvalidArgument, "application %s does not have deployment with id %v", a.Name, q.GetId())
}
