//go:build realargo

package realargo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const argoConfigManifests = `apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels: {app.kubernetes.io/part-of: argocd}
data:
  accounts.ci: apiKey, login
  accounts.owner: apiKey
  timeout.reconciliation: 10s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-rbac-cm
  namespace: argocd
  labels: {app.kubernetes.io/part-of: argocd}
data:
  policy.csv: |
    g, ci, role:admin
    p, role:env-owner, applications, get, */*, allow
    p, role:env-owner, applications, sync, tst/*, allow
    p, role:env-owner, applications, sync, default/itg-web, allow
    g, owner, role:env-owner
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: argocd
  labels: {app.kubernetes.io/part-of: argocd}
type: Opaque
data:
  admin.password: %s
  admin.passwordMtime: %s
  server.secretkey: %s
`

// appProject is a project open to every repo and destination, and to the
// team namespaces' apps: default, and tst (the env owner's).
func appProject(name string) string {
	return fmt.Sprintf(`---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: %s
  namespace: argocd
spec:
  sourceRepos: ['*']
  sourceNamespaces: ['team-*']
  destinations: [{server: '*', namespace: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
`, name)
}

const sealedSecretCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sealedsecrets.bitnami.com
spec:
  group: bitnami.com
  names: {kind: SealedSecret, listKind: SealedSecretList, plural: sealedsecrets, singular: sealedsecret}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// sealed ciphertexts in the fixture: none may ever be printed.
var sealedValues = []string{"AgBkR3alEncryptedPasswordOLD", "AgBkR3alEncryptedPasswordNEW", "AgBkR3alEncryptedUserSAME"}

var stages = []string{"itg", "tst", "perf", "prod"}

func webManifest(stage, version string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  stage: %s\n  version: %q\n", stage, version)
}

func (t *tier) git(args ...string) (string, error) {
	return run(t.work, []string{
		"GIT_AUTHOR_NAME=CI Bot", "GIT_AUTHOR_EMAIL=ci@example.com", "GIT_COMMITTER_NAME=CI Bot", "GIT_COMMITTER_EMAIL=ci@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null",
	}, "git", args...)
}

// commitPush writes files in the CI clone (an empty content removes the
// file), commits and pushes; returns the sha.
func (t *tier) commitPush(subject string, files map[string]string) (string, error) {
	if _, err := t.git("pull", "-q", "--rebase", "origin", "main"); err != nil && !strings.Contains(err.Error(), "couldn't find remote ref") {
		return "", err
	}
	for p, c := range files {
		full := filepath.Join(t.work, p)
		if c == "" {
			if err := os.Remove(full); err != nil {
				return "", err
			}
			continue
		}
		_ = os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			return "", err
		}
	}
	if _, err := t.git("add", "-A"); err != nil {
		return "", err
	}
	if _, err := t.git("commit", "-q", "-m", subject); err != nil {
		return "", err
	}
	if _, err := t.git("push", "-q", "origin", "HEAD:main"); err != nil {
		return "", err
	}
	return t.git("rev-parse", "HEAD")
}

// opsRepo creates the bare ops remote: stages itg/tst/perf/prod, each with a
// plain-manifest app (web) and a Helm chart app (api) with per-stage values
// and a SealedSecret.
func (t *tier) opsRepo() error {
	t.bare = filepath.Join(t.dir, "ops.git")
	t.work = filepath.Join(t.dir, "ci-clone")
	if _, err := run(t.dir, nil, "git", "init", "-q", "--bare", "-b", "main", t.bare); err != nil {
		return err
	}
	if _, err := run(t.dir, nil, "git", "clone", "-q", t.bare, t.work); err != nil {
		return err
	}
	if _, err := t.git("checkout", "-q", "-b", "main"); err != nil {
		return err
	}
	files := map[string]string{}
	for _, st := range stages {
		files[st+"/web/configmap.yaml"] = webManifest(st, "1")
		files[st+"/api/Chart.yaml"] = "apiVersion: v2\nname: api\nversion: 0.1.0\n"
		files[st+"/api/values.yaml"] = "replicas: 2\nlogLevel: info\n"
		files[st+"/api/templates/configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-config\ndata:\n  replicas: \"{{ .Values.replicas }}\"\n  logLevel: {{ .Values.logLevel | quote }}\n"
		files[st+"/api/templates/sealedsecret.yaml"] = sealed(st, sealedValues[0])
	}
	// A team's own stage, deployed by an Application in the team's namespace
	// (Argo CD's apps in any namespace).
	files["team/web/configmap.yaml"] = webManifest("team", "1")
	// An app with two sources, both from the ops repository (no stage's).
	files["multi/web/configmap.yaml"] = webManifest("multi", "1")
	files["multi/values/configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: multi-values\ndata:\n  replicas: \"2\"\n"
	// A chart whose values come from a ref-only source (no stage's).
	files["multi/chart/Chart.yaml"] = "apiVersion: v2\nname: chart\nversion: 0.1.0\n"
	files["multi/chart/values.yaml"] = "replicas: 1\n"
	files["multi/chart/templates/configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values-web\ndata:\n  replicas: \"{{ .Values.replicas }}\"\n"
	files["multi/values/values.yaml"] = "replicas: 3\n"
	_, err := t.commitPush("Initial ops layout", files)
	return err
}

func sealed(stage, password string) string {
	return fmt.Sprintf(`apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: api-db
spec:
  encryptedData:
    DB_PASSWORD: %s
    DB_USER: %s
  template:
    metadata:
      name: api-db
`, password, sealedValues[2])
}

// applications creates one Application per stage and app: itg automated,
// the others manual; namespaces per stage.
// appNamespace is where a stage's Applications live: PROD's in the second
// Argo CD's namespace, the rest in the first's.
func appNamespace(stage string) string {
	if stage == "prod" {
		return "argocd-prod"
	}
	return "argocd"
}

func (t *tier) applications() error {
	var b strings.Builder
	for _, st := range stages {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n---\n", st)
		for _, app := range []string{"web", "api"} {
			policy, project := "", "default"
			if st == "tst" {
				project = "tst" // the env owner's project
			}
			if st == "itg" {
				policy = "  syncPolicy:\n    automated: {}\n"
			}
			fmt.Fprintf(&b, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: %[1]s-%[2]s
  namespace: %[5]s
spec:
  project: %[6]s
  source:
    repoURL: file://%[3]s
    path: %[1]s/%[2]s
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: %[1]s
%[4]s---
`, st, app, t.bare, policy, appNamespace(st), project)
		}
	}
	fmt.Fprintf(&b, `apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: team-web
  namespace: team-a
spec:
  project: tst
  source:
    repoURL: file://%s
    path: team/web
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: team
  syncPolicy:
    syncOptions: [CreateNamespace=true]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: multi-web
  namespace: argocd
spec:
  project: tst
  sources:
    - repoURL: file://%[1]s
      path: multi/web
      targetRevision: main
    - repoURL: file://%[1]s
      path: multi/values
      targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: multi
  syncPolicy:
    syncOptions: [CreateNamespace=true]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: values-web
  namespace: argocd
spec:
  project: tst
  sources:
    - repoURL: file://%[1]s
      path: multi/chart
      targetRevision: main
      helm:
        valueFiles: [$values/multi/values/values.yaml, values.yaml]
    - repoURL: file://%[1]s
      targetRevision: main
      ref: values
  destination:
    server: https://kubernetes.default.svc
    namespace: multi
`, t.bare)
	if err := t.kubectlApply(b.String()); err != nil {
		return err
	}
	// The team's app is deployed once, so the suite has a deployed revision.
	if _, err := t.kubectl("-n", "team-a", "patch", "application", "team-web", "--type", "merge", "-p",
		`{"operation":{"initiatedBy":{"username":"e2e"},"sync":{"revision":"main"}}}`); err != nil {
		return err
	}
	if err := poll(120*time.Second, "team-a/team-web first sync", func() error {
		out, err := t.kubectl("-n", "team-a", "get", "application", "team-web", "-o", "jsonpath={.status.operationState.phase}")
		if err != nil {
			return err
		}
		if out != "Succeeded" {
			return fmt.Errorf("team-a/team-web operation %q", out)
		}
		return nil
	}); err != nil {
		return err
	}
	// Wait for ITG's first auto-sync: the controller, repo server and git all work.
	return poll(120*time.Second, "itg auto-sync", func() error {
		out, err := t.kubectl("get", "application", "itg-web", "-o", "jsonpath={.status.operationState.phase}")
		if err != nil {
			return err
		}
		if out != "Succeeded" {
			return fmt.Errorf("itg-web operation %q", out)
		}
		return nil
	})
}
