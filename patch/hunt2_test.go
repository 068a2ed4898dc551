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
