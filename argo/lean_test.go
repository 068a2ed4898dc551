package argo

import (
	"reflect"
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

// The lean decode of a list and of a watch event is the full decode
// without the Applications' annotations and managedFields: nothing else
// is lost or changed.
func TestLeanDecodeCutsOnlyAnnotationsAndManagedFields(t *testing.T) {
	proto := encoding.GetCodecV2("proto")
	list := &v1alpha1.ApplicationList{ListMeta: metav1.ListMeta{ResourceVersion: "99"}, Items: []v1alpha1.Application{richApp("web"), richApp("api")}}
	event := &v1alpha1.ApplicationWatchEvent{Type: "MODIFIED", Application: richApp("web")}
	for _, tc := range []struct {
		name      string
		msg       any
		full, got any
		want      func(any)
	}{
		{"list", list, &v1alpha1.ApplicationList{}, &v1alpha1.ApplicationList{}, func(v any) {
			for i := range v.(*v1alpha1.ApplicationList).Items {
				cut(&v.(*v1alpha1.ApplicationList).Items[i])
			}
		}},
		{"event", event, &v1alpha1.ApplicationWatchEvent{}, &v1alpha1.ApplicationWatchEvent{}, func(v any) { cut(&v.(*v1alpha1.ApplicationWatchEvent).Application) }},
	} {
		wire, err := proto.Marshal(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		// As gRPC hands it over: in more than one buffer.
		b := wire.Materialize()
		split := mem.BufferSlice{mem.SliceBuffer(b[:len(b)/3]), mem.SliceBuffer(b[len(b)/3:])}
		if err := proto.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, tc.full); err != nil {
			t.Fatal(err)
		}
		if err := (leanCodec{"proto"}).Unmarshal(split, tc.got); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		tc.want(tc.full)
		if !reflect.DeepEqual(tc.full, tc.got) {
			t.Errorf("%s: lean decode\n%+v\nwant the full one without annotations and managedFields\n%+v", tc.name, tc.got, tc.full)
		}
	}
}

func cut(a *v1alpha1.Application) { a.Annotations, a.ManagedFields = nil, nil }

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
