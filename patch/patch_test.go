package patch

import (
	"strings"
	"testing"
)

const oldSecrets = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  LOG_LEVEL: info
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: api
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"PASSWORD":"aHVudGVyMg=="}}'
type: Opaque
data:
  PASSWORD: aHVudGVyMg==
  USER: YWRtaW4=
  OLDKEY: b2xkdmFsdWU=
stringData:
  TOKEN: plain-token-value-1
---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: api-db
  namespace: api
spec:
  encryptedData:
    DB_PASSWORD: AgC4kX9Qz1c8Wm2rT0vLp7YhN3sB6dFjE5uKaG0iOqOLD
    DB_USER: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq
  template:
    data:
      config.ini: "password=supersecret-template"
`

const newSecrets = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  LOG_LEVEL: debug
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: api
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"PASSWORD":"bmV3cGFzcw=="}}'
type: Opaque
data:
  PASSWORD: bmV3cGFzcw==
  USER: YWRtaW4=
  NEWKEY: bmV3dmFsdWU=
stringData:
  TOKEN: plain-token-value-1
---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: api-db
  namespace: api
spec:
  encryptedData:
    DB_PASSWORD: AgBhR7tYw2nQ5xK8mV3cL0pZ9sD4fG6jH1uE7iO2aTNEW
    DB_USER: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq
  template:
    data:
      config.ini: "password=supersecret-template"
`

// every secret value and ciphertext in the fixtures: none may ever be printed.
var secretValues = []string{
	"aHVudGVyMg==", "YWRtaW4=", "b2xkdmFsdWU=", "plain-token-value-1", "bmV3cGFzcw==", "bmV3dmFsdWU=",
	"AgC4kX9Qz1c8Wm2rT0vLp7YhN3sB6dFjE5uKaG0iOqOLD", "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq",
	"AgBhR7tYw2nQ5xK8mV3cL0pZ9sD4fG6jH1uE7iO2aTNEW", "supersecret-template", "hunter2",
}

func assertNoSecrets(t *testing.T, out string) {
	t.Helper()
	for _, v := range secretValues {
		if strings.Contains(out, v) {
			t.Errorf("secret value %q appears in the output", v)
		}
	}
}

func TestUnifiedRedactsSecretsKeyByKey(t *testing.T) {
	out := Unified([]Pair{{From: &File{Path: "api/secrets.yaml", Content: []byte(oldSecrets)}, To: &File{Path: "api/secrets.yaml", Content: []byte(newSecrets)}}}, 3)
	assertNoSecrets(t, out)
	for _, want := range []string{
		"-  LOG_LEVEL: info", "+  LOG_LEVEL: debug", // ordinary values still show
		"-  PASSWORD: <hidden>", "+  PASSWORD: <hidden changed>",
		"-  OLDKEY: <hidden removed>", "+  NEWKEY: <hidden added>",
		"-    DB_PASSWORD: <hidden>", "+    DB_PASSWORD: <hidden changed>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	for _, unchanged := range []string{"USER: <hidden", "TOKEN: <hidden", "DB_USER: <hidden", "config.ini: <hidden"} {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, unchanged) && (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) {
				t.Errorf("unchanged key shown as a change: %q", l)
			}
		}
	}
}

func TestAddedAndDeletedSecretFilesAndBrokenYAML(t *testing.T) {
	out := Unified([]Pair{
		{To: &File{Path: "prod/sealed.yaml", Content: []byte(newSecrets)}},
		{From: &File{Path: "tst/sealed.yaml", Content: []byte(oldSecrets)}},
		{From: &File{Path: "x/broken.yaml", Content: []byte("kind: Secret\ndata:\n  PASSWORD: aHVudGVyMg==\n  - [\n")}, To: &File{Path: "x/broken.yaml", Content: []byte("kind: Secret\ndata: {PASSWORD: b2xkdmFsdWU=}\n")}},
	}, 3)
	assertNoSecrets(t, out)
	for _, want := range []string{"new file mode", "deleted file mode", "+  PASSWORD: <hidden added>", "-  OLDKEY: <hidden removed>", "does not parse as YAML or JSON"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
}

func TestUnifiedRenameBinaryAndNoChange(t *testing.T) {
	out := Unified([]Pair{
		{From: &File{Path: "a/values.yaml", Content: []byte("x: 1\n")}, To: &File{Path: "a/values-renamed.yaml", Content: []byte("x: 1\n")}},
		{From: &File{Path: "a/logo.png", Content: []byte("\x89PNG\x00\x01")}, To: &File{Path: "a/logo.png", Content: []byte("\x89PNG\x00\x02")}},
		{From: &File{Path: "same.yaml", Content: []byte("a: 1\n")}, To: &File{Path: "same.yaml", Content: []byte("a: 1\n")}},
	}, 3)
	for _, want := range []string{"rename from a/values.yaml", "rename to a/values-renamed.yaml", "Binary files a/a/logo.png and b/a/logo.png differ"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x00") || strings.Contains(out, "same.yaml") {
		t.Errorf("binary bytes dumped or an unchanged file listed:\n%q", out)
	}
	if Unified([]Pair{{From: &File{Path: "s", Content: []byte(oldSecrets)}, To: &File{Path: "s", Content: []byte(oldSecrets)}}}, 3) != "" {
		t.Error("identical secret files produce a diff")
	}
}

func TestClassify(t *testing.T) {
	cases := map[string]LineKind{"+a": LineAdd, "-a": LineDelete, "@@ -1 +1 @@": LineHunk, "--- a/x": LineFile, "+++ b/x": LineFile, " ctx": LineContext, "Binary files a and b differ": LineBinary}
	for l, want := range cases {
		if got := Classify(l); got != want {
			t.Errorf("Classify(%q) = %v, want %v", l, got, want)
		}
	}
}

// TestCredentialKeysHideOnlyCredentials: a value under a key that names a
// credential is hidden; one that names where a credential is, a switch,
// or a template of one is shown.
func TestCredentialKeysHideOnlyCredentials(t *testing.T) {
	old := "db:\n  password: hunter2-Old\n  existingSecret: db-creds\n  passwordFile: /run/secrets/db\nenableToken: true\ntoken: \"{{ .Values.token }}\"\nvault: <path:kv/data/app#token>\nreplicas: 2\n"
	new := strings.Replace(strings.Replace(old, "hunter2-Old", "hunter2-New", 1), "replicas: 2", "replicas: 3", 1)
	out := Unified([]Pair{{From: &File{Path: "tst/api/values.yaml", Content: []byte(old)}, To: &File{Path: "tst/api/values.yaml", Content: []byte(new)}}}, 9)
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "+  password: <hidden changed>") {
		t.Errorf("the password is shown, or its change is not:\n%s", out)
	}
	for _, shown := range []string{"existingSecret: db-creds", "passwordFile: /run/secrets/db", "enableToken: true", `token: "{{ .Values.token }}"`, "<path:kv/data/app#token>", "+replicas: 3"} {
		if !strings.Contains(out, shown) {
			t.Errorf("%q is not shown:\n%s", shown, out)
		}
	}
}

// TestCredentialKeysAreHiddenInPlaceOnly: a value found by its key's name
// (not by a Secret's shape) is hidden where it is, not searched for in the
// other files: it may be a plain word, or a Secret's name.
func TestCredentialKeysAreHiddenInPlaceOnly(t *testing.T) {
	values := &File{Path: "prod/web/values.yaml", Content: []byte("tlsSecret: ingress-tls\ndefaultSecret: default\nUSE_TOKEN: \"true\"\noidcSecret: $oidc.okta.clientSecret\n")}
	ingress := &File{Path: "prod/web/ingress.yaml", Content: []byte("kind: Ingress\nmetadata:\n  namespace: default\nspec:\n  tls:\n    - secretName: ingress-tls\n")}
	out := Unified([]Pair{{To: values}, {To: ingress}}, 3)
	for _, shown := range []string{"secretName: ingress-tls", "namespace: default", `USE_TOKEN: "true"`, "$oidc.okta.clientSecret"} {
		if !strings.Contains(out, shown) {
			t.Errorf("%q is hidden:\n%s", shown, out)
		}
	}
	if !strings.Contains(out, "tlsSecret: <hidden") {
		t.Errorf("the credential key's value is shown:\n%s", out)
	}
}

// TestModesAreShownAsGitShowsThem: a symbolic link, an executable and a
// change of mode alone are visible in the diff a reviewer reads.
func TestModesAreShownAsGitShowsThem(t *testing.T) {
	link := &File{Path: "tst/web/values-prod.yaml", Content: []byte("../../prod/web/values.yaml"), Mode: 0o120000}
	reg := &File{Path: "tst/web/run.sh", Content: []byte("echo hi\n")}
	exe := &File{Path: "tst/web/run.sh", Content: []byte("echo hi\n"), Mode: 0o100755}
	cases := []struct {
		name string
		pair Pair
		want []string
	}{
		{"new link", Pair{To: link}, []string{"new file mode 120000\n", "+../../prod/web/values.yaml"}},
		{"deleted link", Pair{From: link}, []string{"deleted file mode 120000\n"}},
		{"mode alone", Pair{From: reg, To: exe}, []string{"old mode 100644\nnew mode 100755\n"}},
		{"unknown is regular", Pair{To: reg}, []string{"new file mode 100644\n"}},
	}
	for _, c := range cases {
		got := Unified([]Pair{c.pair}, 3)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, got)
			}
		}
	}
	same := &File{Path: "a", Content: []byte("x\n"), Mode: 0o100755}
	if got := Unified([]Pair{{From: same, To: same}}, 3); got != "" {
		t.Errorf("no change shown as %q", got)
	}
}

// TestCredentialLinesHideOnlyCredentials: lines that set a credential in
// a properties, ini or shell file, or in such a file inside a string, are
// hidden, their change said; settings, references and templates are shown.
func TestCredentialLinesHideOnlyCredentials(t *testing.T) {
	old := "db.password=hunter2-Old\nPASSWORD_MIN_LENGTH=8\nDB_PASSWORD=${DB_PASSWORD}\napi.token={{ .Values.token }}\npasswordFile=/run/secrets/db\nUSE_TOKEN=true\nreplicas=2\n"
	new := strings.Replace(strings.Replace(old, "hunter2-Old", "hunter2-New", 1), "replicas=2", "replicas=3", 1)
	out := Unified([]Pair{{From: &File{Path: "tst/api/app.properties", Content: []byte(old)}, To: &File{Path: "tst/api/app.properties", Content: []byte(new)}}}, 9)
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "+db.password=<hidden changed>") || !strings.Contains(out, "-db.password=<hidden>") {
		t.Errorf("the password is shown, or its change is not:\n%s", out)
	}
	for _, shown := range []string{"PASSWORD_MIN_LENGTH=8", "DB_PASSWORD=${DB_PASSWORD}", "api.token={{ .Values.token }}", "passwordFile=/run/secrets/db", "USE_TOKEN=true", "+replicas=3"} {
		if !strings.Contains(out, shown) {
			t.Errorf("%q is not shown:\n%s", shown, out)
		}
	}
	// In a one-line string the value ends at the next \n escape or the
	// closing quote; escaped quotes are part of it.
	in := `cfg: "LOG=info\nDB_PASSWORD=hun\"ter2\nREGION=eu"` + "\n"
	out = Unified([]Pair{{To: &File{Path: "tst/api/values.yaml", Content: []byte(in)}}}, 3)
	if strings.Contains(out, "hun") || strings.Contains(out, "ter2") || !strings.Contains(out, "REGION=eu") {
		t.Errorf("a credential line in a string:\n%s", out)
	}
}

// TestEnvEntriesAreCredentialsByName: {name: DB_PASSWORD, value: …} is a
// credential by its name, in YAML and JSON; valueFrom and other names show.
func TestEnvEntriesAreCredentialsByName(t *testing.T) {
	y := "env:\n  - name: LOG\n    value: debug\n  - name: DB_PASSWORD\n    value: hunter2\n  - name: TOKEN\n    valueFrom: {secretKeyRef: {name: t, key: token}}\n"
	j := `{"env":[{"name":"API_TOKEN","value":"hunter2"},{"name":"LOG","value":"debug"}]}`
	out := Unified([]Pair{{To: &File{Path: "a/deploy.yaml", Content: []byte(y)}}, {To: &File{Path: "a/x.json", Content: []byte(j)}}}, 3)
	if strings.Contains(out, "hunter2") || strings.Count(out, "<hidden added>") != 2 {
		t.Errorf("an env credential is shown:\n%s", out)
	}
	for _, shown := range []string{"value: debug", `"value": "debug"`, "secretKeyRef"} {
		if !strings.Contains(out, shown) {
			t.Errorf("%q is not shown:\n%s", shown, out)
		}
	}
}
