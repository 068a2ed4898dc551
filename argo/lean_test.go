package argo

import (
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// richApp has every part of an Application stagedeck reads, and the
// metadata the lean codec cuts.
func richApp(name string) v1alpha1.Application {
	at := metav1.NewTime(time.Unix(1_790_000_000, 0))
	src := v1alpha1.ApplicationSource{RepoURL: "https://git.example.com/ops.git", Path: "tst/" + name, TargetRevision: "main"}
	return v1alpha1.Application{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "argocd", ResourceVersion: "4711", UID: "u-" + "1", Generation: 3, CreationTimestamp: at,
			Labels:      map[string]string{"team": "web"},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"argoproj.io/v1alpha1","kind":"Application"}`, "notified": "yes"},
			Finalizers:  []string{"resources-finalizer.argocd.argoproj.io"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, Time: &at,
				FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{}}`)}}},
		},
		Spec: v1alpha1.ApplicationSpec{Project: "tst", Source: &src,
			SyncPolicy: &v1alpha1.SyncPolicy{Automated: &v1alpha1.SyncPolicyAutomated{Prune: true}}},
		Status: v1alpha1.ApplicationStatus{
			Sync:       v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeOutOfSync, Revision: "b2", Revisions: []string{"b2"}},
			Health:     v1alpha1.HealthStatus{Status: "Degraded", Message: "pod crashloop"},
			History:    v1alpha1.RevisionHistories{{ID: 1, Revision: "a1", DeployedAt: at, Source: src, InitiatedBy: v1alpha1.OperationInitiator{Username: "ann"}}},
			Conditions: []v1alpha1.ApplicationCondition{{Type: "SyncError", Message: "boom", LastTransitionTime: &at}},
			Summary:    v1alpha1.ApplicationSummary{Images: []string{"registry.example.com/web:1.2.3"}},
			Resources:  []v1alpha1.ResourceStatus{{Kind: "ConfigMap", Name: "web", Namespace: "tst", Status: v1alpha1.SyncStatusCodeSynced}},
			OperationState: &v1alpha1.OperationState{Phase: synccommon.OperationSucceeded, Message: "ok", StartedAt: at, FinishedAt: &at,
				Operation:  v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: "a1"}},
				SyncResult: &v1alpha1.SyncOperationResult{Revision: "a1", Source: src}},
		},
		Operation: &v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: "b2"}},
	}
}

// leanApps are Applications with every part fromApplication reads, in
// each of the ways an app is deployed: one source, several, a source
// hydrator; a sync that succeeded, ran dry, or still runs.
func leanApps() []v1alpha1.Application {
	at := metav1.NewTime(time.Unix(1_790_000_000, 0))
	rich := richApp("web")
	multi := richApp("multi")
	multi.Namespace = "team-a"
	multi.Spec.Source = nil
	multi.Spec.Sources = v1alpha1.ApplicationSources{
		{RepoURL: "https://git.example.com/ops.git", Path: "envs/dev/../prod/api", TargetRevision: "main",
			Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../shared/values.yaml"}, ReleaseName: "api",
				FileParameters: []v1alpha1.HelmFileParameter{{Name: "cfg", Path: "files/app.conf"}}}},
		{RepoURL: "https://charts.example.com", Chart: "api", TargetRevision: "1.2.3",
			Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/prod/api/values.yaml"}}},
		{RepoURL: "https://git.example.com/ops.git", Ref: "values", TargetRevision: "main"},
	}
	multi.Status.Sync.Revisions = []string{"c3", "1.2.3"}
	multi.Status.History = v1alpha1.RevisionHistories{{ID: 7, Revisions: []string{"b2", "1.2.2"}, DeployedAt: at,
		InitiatedBy: v1alpha1.OperationInitiator{Automated: true}, Sources: multi.Spec.Sources}}
	multi.Status.OperationState.Operation.Info = []*v1alpha1.Info{{Name: "Operator", Value: "ann"}, {Name: "Reason", Value: "hotfix"}}
	multi.Status.OperationState.SyncResult = &v1alpha1.SyncOperationResult{Revisions: []string{"c3", "1.2.3"}, Sources: multi.Spec.Sources,
		Resources: []*v1alpha1.ResourceResult{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "prod", Name: "api",
			Status: synccommon.ResultCodeSynced, Message: "configured", HookType: "PreSync", HookPhase: synccommon.OperationRunning, SyncPhase: "Sync"}}}
	hydrated := richApp("hydrated")
	hydrated.Spec.Source = nil
	hydrated.Spec.SourceHydrator = &v1alpha1.SourceHydrator{
		DrySource:  v1alpha1.DrySource{RepoURL: "https://git.example.com/ops.git", TargetRevision: "main", Path: "dry/web"},
		SyncSource: v1alpha1.SyncSource{TargetBranch: "env/prod", Path: "prod/web"},
	}
	dry := richApp("dry")
	dry.Spec.Source.Kustomize = &v1alpha1.ApplicationSourceKustomize{NamePrefix: "x-", Components: []string{"../../components/tls"},
		Patches: v1alpha1.KustomizePatches{{Path: "../patch.yaml"}, {Patch: "- op: add"}}}
	dry.Status.OperationState.Operation.Sync.DryRun = true
	dry.Status.OperationState.SyncResult.Revision = "d4" // a dry run's result did not deploy
	running := richApp("running")
	running.Spec.SyncPolicy = nil
	running.Operation = nil
	running.Status.OperationState.Phase = synccommon.OperationRunning
	running.Status.OperationState.FinishedAt = nil
	running.Status.OperationState.SyncResult = nil
	return []v1alpha1.Application{rich, multi, hydrated, dry, running}
}

// The lean decode of a list and of a watch event gives fromApplication
// what the full decode gives it, in each of leanApps' cases.
func TestLeanDecodeReadsWhatTheFullOneDoes(t *testing.T) {
	apps := leanApps()
	var seen []App
	for _, a := range apps {
		full, got := &v1alpha1.ApplicationWatchEvent{}, &v1alpha1.ApplicationWatchEvent{}
		decodeBoth(t, &v1alpha1.ApplicationWatchEvent{Type: "MODIFIED", Application: a}, full, got)
		want := named(&full.Application, "argocd")
		if g := named(&got.Application, "argocd"); got.Type != full.Type || !reflect.DeepEqual(g, want) {
			t.Errorf("event %s: lean decode gave\n%+v\nthe full one\n%+v", a.Name, g, want)
		}
		seen = append(seen, want)
	}
	full, got := &v1alpha1.ApplicationList{}, &v1alpha1.ApplicationList{}
	decodeBoth(t, &v1alpha1.ApplicationList{ListMeta: metav1.ListMeta{ResourceVersion: "99"}, Items: apps}, full, got)
	if got.ResourceVersion != "99" || len(got.Items) != len(full.Items) {
		t.Fatalf("lean list: resourceVersion %q, %d items; want 99, %d", got.ResourceVersion, len(got.Items), len(full.Items))
	}
	for i := range full.Items {
		if g, w := named(&got.Items[i], "argocd"), named(&full.Items[i], "argocd"); !reflect.DeepEqual(g, w) {
			t.Errorf("list item %d: lean decode gave\n%+v\nthe full one\n%+v", i, g, w)
		}
	}
	// The cases are worth what they set: each of App's fields is set in
	// one of them.
	for _, f := range unset(reflect.ValueOf(seen)) {
		t.Errorf("no case sets App.%s: leanApps must set every field fromApplication reads", f)
	}
}

// decodeBoth marshals msg and decodes it whole into full and lean into
// got, handed over, as gRPC does, in more than one buffer.
func decodeBoth(t *testing.T, msg, full, got any) {
	t.Helper()
	proto := encoding.GetCodecV2("proto")
	wire, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	b := wire.Materialize()
	if err := proto.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, full); err != nil {
		t.Fatal(err)
	}
	split := mem.BufferSlice{mem.SliceBuffer(b[:len(b)/3]), mem.SliceBuffer(b[len(b)/3:])}
	if err := (leanCodec{"proto"}).Unmarshal(split, got); err != nil {
		t.Fatal(err)
	}
}

// unset names the struct fields (as paths) that are zero in every
// element of the slices v holds, down through structs and slices.
func unset(v reflect.Value) []string {
	set := map[string]bool{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(path, v.Index(i))
			}
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				return
			}
			for i := 0; i < v.NumField(); i++ {
				f := path + v.Type().Field(i).Name
				set[f] = set[f] || !v.Field(i).IsZero()
				walk(f+".", v.Field(i))
			}
		}
	}
	walk("", v)
	var out []string
	for f, ok := range set {
		if !ok {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// What the board does not read is cut before the decode: the metadata
// kubectl and Kubernetes add, each managed resource, what the app was
// compared with, the sources of past syncs.
func TestLeanDecodeCutsWhatTheBoardDoesNotRead(t *testing.T) {
	a := richApp("web")
	a.Spec.Destination = v1alpha1.ApplicationDestination{Server: "https://kubernetes.default.svc", Namespace: "tst"}
	a.Status.Sync.ComparedTo = v1alpha1.ComparedTo{Source: *a.Spec.Source, Destination: a.Spec.Destination}
	a.Status.ReconciledAt = &metav1.Time{Time: time.Unix(1_790_000_000, 0)}
	got := &v1alpha1.ApplicationWatchEvent{}
	decodeBoth(t, &v1alpha1.ApplicationWatchEvent{Type: "MODIFIED", Application: a}, &v1alpha1.ApplicationWatchEvent{}, got)
	g := got.Application
	for what, left := range map[string]bool{
		"annotations":                      g.Annotations != nil,
		"managedFields":                    g.ManagedFields != nil,
		"labels":                           g.Labels != nil,
		"uid":                              g.UID != "",
		"finalizers":                       g.Finalizers != nil,
		"spec.destination":                 g.Spec.Destination != v1alpha1.ApplicationDestination{},
		"status.resources":                 len(g.Status.Resources) > 0,
		"status.reconciledAt":              g.Status.ReconciledAt != nil,
		"status.sync.comparedTo":           g.Status.Sync.ComparedTo.Source.RepoURL != "",
		"status.history[].source":          g.Status.History[0].Source.RepoURL != "",
		"operationState.syncResult.source": g.Status.OperationState.SyncResult.Source.RepoURL != "",
		"operation.sync":                   g.Operation.Sync != nil,
	} {
		if left {
			t.Errorf("lean decode kept %s", what)
		}
	}
	if g.Name != "web" || g.Operation == nil || g.Status.Sync.Status != v1alpha1.SyncStatusCodeOutOfSync {
		t.Errorf("lean decode lost what the board reads: %+v", g)
	}
}

// Any list the full decode takes, the lean one takes, and it gives
// fromApplication the same apps.
func FuzzLeanDecode(f *testing.F) {
	proto := encoding.GetCodecV2("proto")
	for _, a := range leanApps() {
		wire, err := proto.Marshal(&v1alpha1.ApplicationList{Items: []v1alpha1.Application{a}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire.Materialize())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var full, got v1alpha1.ApplicationList
		if proto.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &full) != nil {
			return
		}
		if err := (leanCodec{"proto"}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &got); err != nil {
			t.Fatalf("the full decode took it, the lean one: %v", err)
		}
		if len(got.Items) != len(full.Items) {
			t.Fatalf("lean decode: %d items, full %d", len(got.Items), len(full.Items))
		}
		for i := range full.Items {
			if g, w := named(&got.Items[i], "argocd"), named(&full.Items[i], "argocd"); !reflect.DeepEqual(g, w) {
				t.Fatalf("item %d: lean decode gave\n%+v\nthe full one\n%+v", i, g, w)
			}
		}
	})
}

// Bytes the cut cannot read are decoded as they came, so the error (or
// the result) is the proto codec's own.
func TestLeanDecodeOfBadBytesIsTheProtoCodecs(t *testing.T) {
	proto := encoding.GetCodecV2("proto")
	wire, err := proto.Marshal(&v1alpha1.ApplicationList{Items: []v1alpha1.Application{richApp("web")}})
	if err != nil {
		t.Fatal(err)
	}
	b := wire.Materialize()
	for _, bad := range [][]byte{b[:len(b)-7], append([]byte{0xff}, b...), {0x12, 0x80}} {
		var full, got v1alpha1.ApplicationList
		ferr := proto.Unmarshal(mem.BufferSlice{mem.SliceBuffer(bad)}, &full)
		gerr := (leanCodec{"proto"}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(bad)}, &got)
		if (ferr == nil) != (gerr == nil) || !reflect.DeepEqual(full, got) {
			t.Errorf("bad bytes %x...: lean gave %v, the proto codec %v", bad[:2], gerr, ferr)
		}
	}
}

// Lists mutated at random (a seeded run of 50,000: flipped, replaced,
// inserted and deleted bytes) that the full decode takes, the lean one
// takes too, with the same apps. (Go's fuzzing engine stalls on this
// package's instrumented build, so FuzzLeanDecode runs as seeds only.)
func TestLeanDecodeOfMutatedLists(t *testing.T) {
	proto := encoding.GetCodecV2("proto")
	var seeds [][]byte
	for _, a := range leanApps() {
		w, _ := proto.Marshal(&v1alpha1.ApplicationList{Items: []v1alpha1.Application{a, a}})
		seeds = append(seeds, w.Materialize())
	}
	r := rand.New(rand.NewSource(1))
	decoded := 0
	for n := 0; n < 50_000; n++ {
		b := append([]byte(nil), seeds[r.Intn(len(seeds))]...)
		for k := r.Intn(4) + 1; k > 0; k-- {
			switch r.Intn(4) {
			case 0:
				b[r.Intn(len(b))] ^= byte(1 << r.Intn(8))
			case 1:
				b[r.Intn(len(b))] = byte(r.Intn(256))
			case 2:
				i := r.Intn(len(b))
				b = append(b[:i], append([]byte{byte(r.Intn(256))}, b[i:]...)...)
			case 3:
				i := r.Intn(len(b))
				b = append(b[:i], b[i+1:]...)
			}
		}
		var full, got v1alpha1.ApplicationList
		if proto.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &full) != nil {
			continue
		}
		decoded++
		if err := (leanCodec{"proto"}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &got); err != nil {
			t.Fatalf("%x: the full decode took it, the lean one: %v", b, err)
		}
		if len(got.Items) != len(full.Items) {
			t.Fatalf("%x: lean decode: %d items, full %d", b, len(got.Items), len(full.Items))
		}
		for i := range full.Items {
			if g, w := named(&got.Items[i], "argocd"), named(&full.Items[i], "argocd"); !reflect.DeepEqual(g, w) {
				t.Fatalf("%x: item %d: lean decode gave\n%+v\nthe full one\n%+v", b, i, g, w)
			}
		}
	}
	if decoded < 1_000 {
		t.Fatalf("only %d of 50,000 mutated lists decode: the run tests too little", decoded)
	}
}
