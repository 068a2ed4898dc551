package patch

import (
	"strings"
	"testing"
)

// TestCredentialSpellingsFromTheHunt: spellings a variant hunt found
// leaking, each added, deleted and changed.
func TestCredentialSpellingsFromTheHunt(t *testing.T) {
	const v = "OLDpw7Zk"
	cases := map[string]string{
		"values.yaml#extraEnv":    "extraEnv: |\n  - name: DB_PASSWORD\n    value: OLDpw7Zk\n",
		"values.yaml#envJson":     "envJson: '[{\"name\":\"DB_PASSWORD\",\"value\":\"OLDpw7Zk\"}]'\n",
		"cm.yaml#json":            "kind: ConfigMap\ndata:\n  app.json: '{\"db\":{\"password\":\"OLDpw7Zk\"}}'\n",
		"cm.yaml#yaml":            "kind: ConfigMap\ndata:\n  app.yaml: \"db: {password: OLDpw7Zk}\"\n",
		"compose.yaml":            "services:\n  app:\n    environment:\n      - DB_PASSWORD=OLDpw7Zk\n",
		"kustomization.yaml":      "configMapGenerator:\n  - name: c\n    literals:\n      - DB_PASSWORD=OLDpw7Zk\n",
		"deploy.yaml#args":        "args:\n  - --db-password=OLDpw7Zk\n  - --port=80\n",
		"deploy.yaml#flowargs":    "args: [--db-password=OLDpw7Zk, --port=80]\n",
		"values.yaml#comment":     "db:\n  # password: OLDpw7Zk\n  host: x\n",
		"app.properties#comment":  "#db.password=OLDpw7Zk\n",
		"db.ini#comment":          ";password=OLDpw7Zk\n",
		"app.properties#bang":     "db.password=!OLDpw7Zk\n",
		"app.properties#hash":     "db.password=#OLDpw7Zk\n",
		"values.yaml#dollar":      "password: $OLDpw7Zk$x\n",
		"values.yaml#folded":      "apiToken: zz\nnote: first line\n  DB_PASSWORD=OLDpw7Zk\n",
		"values.yaml#pass":        "pass: OLDpw7Zk\nMYSQL_PWD: OLDpw7Zk\nRABBITMQ_DEFAULT_PASS: OLDpw7Zk\n",
		"values.yaml#keybase":     "SECRET_KEY_BASE: OLDpw7Zk\nNEW_RELIC_LICENSE_KEY: OLDpw7Zk\n",
		"kubeconfig":              "users:\n- user:\n    client-key-data: OLDpw7Zk\n",
		"values.yaml#bearer":      "headers:\n  Authorization: Bearer OLDpw7Zk\n",
		"config.json#docker":      "{\"auths\": {\"r.io\": {\"auth\": \"OLDpw7Zk\"}}}\n",
		".npmrc":                  "//registry.npmjs.org/:_authToken=OLDpw7Zk\n_auth=OLDpw7Zk\n",
		"values.yaml#jdbc":        "url: jdbc:postgresql://db/app?user=app&password=OLDpw7Zk\n",
		"values.yaml#adonet":      "conn: Server=db;User Id=sa;Password=OLDpw7Zk;\n",
		"jaas.conf":               "KafkaClient { org.x.PlainLoginModule required username=\"u\" password=\"OLDpw7Zk\"; };\n",
		"app.xml":                 "<db><password>OLDpw7Zk</password><pw password=\"OLDpw7Zk\"/></db>\n",
		"app.toml":                "db = { password = \"OLDpw7Zk\" }\n",
		"run.sh":                  "cd /app && DB_PASSWORD=OLDpw7Zk ./run\n",
		"values.yaml#envKeyValue": "env:\n  - {key: DB_PASSWORD, value: OLDpw7Zk}\n  - {Name: API_TOKEN, Value: OLDpw7Zk}\n",
	}
	for name, content := range cases {
		p := strings.SplitN(name, "#", 2)[0]
		changed := strings.ReplaceAll(content, v, "NEWpw9Qx")
		for mode, pair := range map[string]Pair{
			"added":   {To: &File{Path: "tst/" + p, Content: []byte(content)}},
			"deleted": {From: &File{Path: "tst/" + p, Content: []byte(content)}},
			"changed": {From: &File{Path: "tst/" + p, Content: []byte(content)}, To: &File{Path: "tst/" + p, Content: []byte(changed)}},
		} {
			out := Unified([]Pair{pair}, 3)
			if strings.Contains(out, v) || strings.Contains(out, "NEWpw9Qx") {
				t.Errorf("%s %s leaks:\n%s", name, mode, out)
				break
			}
		}
	}
}

// TestCredentialRedactionReviewCases: a review's cases. A Secret inside a
// string is hidden field by field even when it also has credential lines;
// the longest match at a place wins; quoted values are hidden whole; a
// name or value given twice in other casings is hidden either way; and
// ordinary settings stay shown.
func TestCredentialRedactionReviewCases(t *testing.T) {
	leaks := map[string]string{
		"cm.yaml":           "kind: ConfigMap\ndata:\n  extra.yaml: |\n    kind: Secret\n    stringData: {password: LEAKaa1}\n    data: {.dockerconfigjson: TEVBS2JiMg==}\n",
		"client.properties": "sasl.jaas.config=org.x.Plain required username=\"u\" password=\"${X}\";\nssl.truststore.password=LEAKcc3 horse battery staple\n",
		"a.properties":      "password=\"LEAKdd4;LEAKee5\"\nconn=Password='LEAKff6;x'\n",
		"deploy.yaml":       "env:\n  - {name: DB_PASSWORD, value: LEAKgg7, Value: decoy}\n  - {name: DB_PASSWORD, Name: LOG, value: LEAKhh8}\n",
		"app.xml":           "<password encrypted=\"false\">LEAKii9</password>\n",
		"values.yaml":       "password: $LEAKjj0$x\n",
	}
	for p, c := range leaks {
		out := Unified([]Pair{{To: &File{Path: "tst/" + p, Content: []byte(c)}}}, 3)
		if strings.Contains(out, "LEAK") || strings.Contains(out, "horse") || strings.Contains(out, "TEVBS2JiMg") {
			t.Errorf("%s leaks:\n%s", p, out)
		}
	}
	shown := map[string][]string{
		"values.yaml": {"auth: {enabled: true, type: oidc}", "authorization: [admin, dev]", "auth: *authDefaults", "clientAuth: required",
			"bypass: cookie", "--client-auth=required", "auth.existingSecret=app-creds", "$__file{/etc/x}"},
		"NOTES.txt": {"replace <token> with the value", "kubectl get secret <secret> -o jsonpath"},
	}
	for p, want := range shown {
		c := strings.Join(want, "\n") + "\n"
		if p == "values.yaml" {
			c = "a:\n  auth: {enabled: true, type: oidc}\n  authorization: [admin, dev]\n  defaults: &authDefaults {x: 1}\n  b:\n    auth: *authDefaults\n" +
				"  tls:\n    clientAuth: required\n  cache:\n    bypass: cookie\n  args: [\"--client-auth=required\", \"--set auth.existingSecret=app-creds\"]\n  grafana: $__file{/etc/x}\n"
		}
		out := Unified([]Pair{{To: &File{Path: "tst/" + p, Content: []byte(c)}}}, 3)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q is hidden:\n%s", p, w, out)
			}
		}
	}
}

// BenchmarkDuplicateCredentialKeys: 20,000 repeats of one credential key
// (each hidden) in linear time.
func BenchmarkDuplicateCredentialKeys(b *testing.B) {
	c := []byte(strings.Repeat("dbPass: x1234567\n", 20000))
	for b.Loop() {
		Unified([]Pair{{To: &File{Path: "tst/values.yaml", Content: c}}}, 3)
	}
}
