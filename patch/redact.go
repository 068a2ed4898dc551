// Package patch renders unified diffs for people to review before a sync:
// git changes, Argo CD manifests, two stage directories. Secret values never
// leave it: Secrets and SealedSecrets are reduced to their keys, each marked
// added, removed, changed or unchanged; kustomize secretGenerator literals and
// env files show keys only; sops values read <encrypted>.
package patch

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Hidden-value markers. A changed value reads "<hidden>" on the old side and
// "<hidden changed>" on the new one, so the diff shows the key as changed.
const (
	hiddenSame    = "<hidden>"
	hiddenChanged = "<hidden changed>"
	hiddenAdded   = "<hidden added>"
	hiddenRemoved = "<hidden removed>"
)

// minScrub is the shortest secret value also searched for, and hidden,
// everywhere else in the file: shorter ones would hide ordinary words.
const minScrub = 6

// Markers reports every fixed text redaction writes in place of a value:
// tests that look for leaked values skip values these already contain.
func Markers() []string {
	return []string{hiddenSame, hiddenChanged, hiddenAdded, hiddenRemoved, unparseableLine, unparseableWhy, unencodable,
		changedSuffix, hiddenString, hiddenGenerated, hiddenComment, hiddenLine, encrypted, encryptedChanged, "!!merge", "&hidden", "*hidden"}
}

// RedactPair hides the secret values of a file's two versions (nil = absent),
// comparing them key by key. It is what Unified does to each file it shows.
func RedactPair(old, new []byte) ([]byte, []byte) {
	r := redactor{refs: map[string]SecretRef{}}
	r.learn(old)
	r.learn(new)
	return r.pair(Pair{From: &File{Content: old}, To: &File{Content: new}}, old, new)
}

// SecretRef marks a file whose whole content is secret material because
// something else names it: a kustomize secretGenerator, a patch of a Secret.
type SecretRef int

// How a referenced file is secret.
const (
	NotSecret  SecretRef = iota
	SecretEnv            // KEY=VALUE lines: keys shown
	SecretFile           // one secret value: nothing shown
)

// redactor hides secrets in the files of one diff. refs holds the paths
// a kustomization in the diff names as secret material; tokens are every
// secret value found in any file of the diff, hidden in all of them.
type redactor struct {
	refs   map[string]SecretRef
	tokens []string
}

// newRedactor reads every file of the diff once before any is shown: the
// kustomizations' secret references, and every secret value, so that a
// value of one file is hidden in the others too.
func newRedactor(pairs []Pair) redactor {
	r := redactor{refs: map[string]SecretRef{}}
	for _, p := range pairs {
		for _, f := range []*File{p.From, p.To} {
			if f == nil || IsBinary(f.Content) {
				continue
			}
			if isKustomization(f.Path) {
				for ref, kind := range SecretRefs(f.Path, f.Content) {
					r.refs[ref] = kind
				}
			}
			r.learn(f.Content)
		}
	}
	return r
}

// learn adds a file's secret values to the tokens hidden everywhere.
func (r *redactor) learn(b []byte) {
	if mayHoldSecret(b) {
		r.tokens = append(r.tokens, collect(parseSide(b).docs).tokens()...)
	}
}

// SecretRefs lists the files a kustomization names as secret material,
// by repository path: secretGenerator envs and files, and patch files
// whose target is a Secret.
func SecretRefs(kustomizationPath string, content []byte) map[string]SecretRef {
	out := map[string]SecretRef{}
	dir := path.Dir(kustomizationPath)
	for _, d := range parseSide(content).docs {
		for _, g := range generators(d) {
			for _, field := range []string{"envs", "env", "files"} {
				kind := SecretEnv
				if field == "files" {
					kind = SecretFile
				}
				for _, ref := range strs(get(g, field)) {
					if _, p, ok := strings.Cut(ref, "="); ok && field == "files" {
						ref = p
					}
					out[path.Join(dir, ref)] = kind
				}
			}
		}
		root := deref(d)
		if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = deref(root.Content[0])
		}
		for _, field := range []string{"patches", "patchesJson6902"} {
			for _, p := range seq(get(root, field)) {
				if secretKind(get(p, "target")) {
					for _, ref := range strs(get(p, "path")) {
						out[path.Join(dir, ref)] = SecretFile
					}
				}
			}
		}
	}
	return out
}

func isKustomization(p string) bool {
	switch path.Base(p) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// isEnvFile: dotenv files hold secrets more often than not; their values
// are hidden whether or not a generator names them.
func isEnvFile(p string) bool {
	b := path.Base(p)
	return b == ".env" || strings.HasPrefix(b, ".env.") || strings.HasSuffix(b, ".env")
}

// refOf is how a pair's file is secret by reference: marked by the
// repository (File.Secret), named by a kustomization in the diff, or a
// dotenv file.
func (r redactor) refOf(pr Pair) SecretRef {
	ref := NotSecret
	for _, f := range []*File{pr.From, pr.To} {
		if f == nil {
			continue
		}
		ref = max(ref, f.Secret, r.refs[path.Clean(f.Path)])
		if ref == NotSecret && f.Path != "" && isEnvFile(f.Path) {
			ref = SecretEnv
		}
	}
	return ref
}

func (r redactor) pair(pr Pair, old, new []byte) ([]byte, []byte) {
	// A private key is secret wherever it is: a values file, an env file,
	// a ConfigMap, a JSON string.
	old, new = hidePrivateKeys(old, new)
	switch r.refOf(pr) {
	case SecretFile:
		return hideGenerated(old, new)
	case SecretEnv:
		return redactEnv(old, new)
	}
	if !mayHoldSecret(old) && !mayHoldSecret(new) {
		o, n := hideEncrypted(old, new)
		return hideCredentialLines(scrubText(o, r.tokens), scrubText(n, r.tokens))
	}
	o, n := parseSide(old), parseSide(new)
	oc, nc := collect(o.docs), collect(n.docs)
	o.tooDeep, n.tooDeep = oc.deep, nc.deep
	// Tokens come from both sides before anything is hidden: a value of one
	// side must not show in the other side either.
	tokens := append(append(oc.tokens(), nc.tokens()...), r.tokens...)
	mark(oc, nc, hiddenRemoved, true)
	mark(nc, oc, hiddenAdded, false)
	reencode := len(oc.values)+len(nc.values) > 0
	outOld, outNew := o.render(tokens, reencode), n.render(tokens, reencode)
	if old != nil && new != nil && bytes.Equal(outOld, outNew) && !bytes.Equal(old, new) && bytes.HasPrefix(outNew, []byte(unparseableLine)) {
		outNew = append(bytes.TrimSuffix(outNew, []byte("\n")), changedSuffix+"\n"...)
	}
	// Credentials set in lines of text the parse keeps as strings (a
	// properties file, a ConfigMap's embedded file) are hidden last.
	return hideCredentialLines(hideEncrypted(outOld, outNew))
}

// scrubText hides every token in b, the longest first: a token that
// holds a shorter one (an id, and id:password) must not lose only its
// shorter part and show the rest. Map order must not decide that.
func scrubText(b []byte, tokens []string) []byte {
	var found []string
	for _, t := range tokens {
		if bytes.Contains(b, []byte(t)) {
			found = append(found, t)
		}
	}
	slices.SortFunc(found, func(x, y string) int { return cmp.Or(len(y)-len(x), strings.Compare(x, y)) })
	for _, t := range found {
		b = bytes.ReplaceAll(b, []byte(t), []byte(hiddenSame))
	}
	return b
}

// mayHoldSecret is the cheap gate that keeps the parser off ordinary
// values files. A kind can only read Secret without the word in the text
// through an escape or a tag, so those send the file to the parser too.
func mayHoldSecret(b []byte) bool {
	if b == nil {
		return false
	}
	return containsFold(b, "secret") || bytes.IndexByte(b, '\\') >= 0 ||
		bytes.Contains(b, []byte("!!")) || bytes.Contains(b, []byte("!<")) || bytes.Contains(b, []byte("%TAG")) ||
		credentialWords(b)
}

// secretKeySuffixes end the keys (lower case, without _ - .) whose value is
// a credential in a values file or a ConfigMap: dbPassword, API_TOKEN,
// client-secret, awsSecretAccessKey.
var secretKeySuffixes = []string{"password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "privatekey", "secretkey",
	"accesskey", "licensekey", "secretkeybase", "keydata", "authorization"}

// secretKeyWords are words that name a credential only as the key's last
// word (RABBITMQ_DEFAULT_PASS, docker's "auth"), not at the end of another
// (cache.bypass, ssl.client.auth is a mode).
var secretKeyWords = []string{"pass", "auth"}

// secretKey reports whether a mapping key names a credential. A key that
// names where one is (existingSecret, useSecret, the file or ref keys,
// which end otherwise) does not.
func secretKey(k string) bool {
	k = k[strings.LastIndexAny(k, "./")+1:] // a dotted or Helm --set path: its last part
	words := strings.FieldsFunc(k, func(r rune) bool { return r == '_' || r == '-' })
	if len(words) > 0 && slices.Contains(secretKeyWords, strings.ToLower(words[len(words)-1])) && (len(words) > 1 || len(k) <= 5) {
		return true
	}
	k = strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.':
			return -1
		}
		return unicode.ToLower(r)
	}, k)
	for _, p := range []string{"existing", "use", "create"} {
		if strings.HasPrefix(k, p+"secret") {
			return false
		}
	}
	for _, suf := range secretKeySuffixes {
		if strings.HasSuffix(k, suf) {
			return true
		}
	}
	return false
}

// credential reports whether n, the value of a secret key, holds one:
// a non-empty scalar that is not a boolean, a null, or a reference to a
// value kept elsewhere (a Helm or shell template, argocd-vault-plugin's
// <path:…>, vals' ref+…).
func credential(n *yaml.Node) bool {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Value == "" {
		return false
	}
	switch n.ShortTag() {
	case "!!bool", "!!null":
		return false
	}
	v := strings.TrimSpace(n.Value)
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off": // a switch, quoted (a ConfigMap's values are strings)
		return false
	}
	return !strings.Contains(v, "{{") && !plainReference.MatchString(v) && // ${VAR}, $(cmd), Argo CD's $secret.key
		!strings.HasPrefix(v, "<path:") && !strings.HasPrefix(v, "ref+")
}

func containsFold(b []byte, lower string) bool {
	for i := 0; i+len(lower) <= len(b); i++ {
		c := b[i] | 0x20
		if c == lower[0] && bytes.EqualFold(b[i:i+len(lower)], []byte(lower)) {
			return true
		}
	}
	return false
}

// side is one version of a file, parsed.
type side struct {
	raw     []byte
	docs    []*yaml.Node
	json    bool
	err     error
	tooDeep bool // nested beyond what the walk follows: hidden whole
}

var bom = []byte("\xef\xbb\xbf")

func parseSide(b []byte) side {
	s := side{raw: b}
	if b == nil {
		return s
	}
	src := bytes.TrimPrefix(b, bom)
	if t := bytes.TrimSpace(src); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		if docs, err := parseJSON(src); err == nil {
			s.docs, s.json = docs, true
			return s
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return s
		}
		if err != nil {
			s.docs, s.err = nil, err
			return s
		}
		s.docs = append(s.docs, &n)
	}
}

// secretValue is one hideable value: its node, and what to compare it by.
type secretValue struct {
	node   *yaml.Node
	orig   string
	prefix string // "KEY=" for a generator literal
	data   bool   // base64 data: its decoded text is searched for too
	// embedded is a manifest inside a string (a ConfigMap's file, a Helm
	// values block): redacted as a file of its own; inner are its tokens.
	embedded bool
	inner    []string
	// lines: an embedded text (not a document) whose credential lines are
	// hidden in it.
	lines bool
	// whole: a string that may hold a manifest with a Secret but does not
	// parse; hidden as one value, and searched for nowhere else.
	whole bool
	// inPlace: found by its key's name (a credential in a values file), not
	// by a Secret's shape: hidden where it is, and searched for nowhere
	// else (it may be a word such as "default").
	inPlace bool
}

// secrets are the hideable values of one side, by "object|field.key".
type secrets struct {
	values map[string]*secretValue
	docs   []*yaml.Node
	deep   bool // nested beyond maxDepth: not walked, so the file is hidden whole
	dups   map[string]int
}

// unique is key, or key#N for its Nth repeat: counted, so a file of
// thousands of repeats is not searched once per repeat.
func (s *secrets) unique(key string) string {
	if s.values[key] == nil {
		return key
	}
	if s.dups == nil {
		s.dups = map[string]int{}
	}
	for {
		n := s.dups[key] + 2
		s.dups[key] = n - 1
		if k := fmt.Sprintf("%s#%d", key, n); s.values[k] == nil {
			return k
		}
	}
}

// maxDepth bounds the walk; anything deeper fails closed.
const maxDepth = 256

func collect(docs []*yaml.Node) secrets {
	s := &secrets{values: map[string]*secretValue{}, docs: docs}
	for i, d := range docs {
		s.walk(d, fmt.Sprintf("#%d", i), map[*yaml.Node]bool{}, 0)
	}
	return *s
}

// walk finds the secrets of every Kubernetes object in n: a document, a
// List's items, a manifest nested in a values file (extraObjects) or in a
// string, a kustomization's secretGenerator and its patches of Secrets.
func (s *secrets) walk(n *yaml.Node, where string, seen map[*yaml.Node]bool, depth int) {
	n = deref(n)
	if depth > maxDepth {
		s.deep = true
		return
	}
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			s.walk(c, fmt.Sprintf("%s[%d]", where, i), seen, depth+1)
		}
		return
	case yaml.MappingNode:
	case yaml.ScalarNode:
		s.embedded(n, where, depth == 1)
		return
	default:
		return
	}
	kinds := strsOf(getAll(n, "kind"))
	meta := get(n, "metadata")
	id := strings.Join(kinds, ",") + "/" + str(get(meta, "namespace")) + "/" + str(get(meta, "name"))
	if str(get(meta, "name")) == "" {
		id += where
	}
	// Any kind key saying Secret makes it one (a duplicate key, a merge):
	// when in doubt, hidden.
	if hasKind(kinds, "Secret") {
		hideLastApplied(meta)
		s.fieldsAll(id+"|data", getAll(n, "data"), true)
		s.fieldsAll(id+"|stringData", getAll(n, "stringData"), false)
	}
	if hasKind(kinds, "SealedSecret") {
		hideLastApplied(meta)
		for _, spec := range getAll(n, "spec") {
			s.fieldsAll(id+"|encryptedData", getAll(spec, "encryptedData"), false)
			s.fieldsAll(id+"|data", getAll(spec, "data"), false) // the v1alpha1 single-blob field
			for _, tmpl := range getAll(spec, "template") {
				s.fieldsAll(id+"|template.data", getAll(tmpl, "data"), true)
				s.fieldsAll(id+"|template.stringData", getAll(tmpl, "stringData"), false)
			}
		}
	}
	// A kustomize patch of a Secret carries its values inline.
	if secretKind(get(n, "target")) {
		for _, p := range getAll(n, "patch") {
			s.values[id+"|patch"+where] = &secretValue{node: p, orig: canonical(p)}
		}
	}
	gens := generators(n)
	if hasKind(kinds, "SecretGenerator") { // the builtin plugin's config
		gens = append(gens, n)
	}
	for gi, g := range gens {
		name := str(get(g, "name"))
		if name == "" {
			name = fmt.Sprint(gi)
		}
		for _, lit := range seq(get(g, "literals")) {
			lit = deref(lit)
			if lit.Kind != yaml.ScalarNode {
				s.values[id+"|secretGenerator."+name+"."+canonical(lit)] = &secretValue{node: lit, orig: canonical(lit)}
				continue
			}
			k, v, _ := strings.Cut(lit.Value, "=")
			s.values[id+"|secretGenerator."+name+"."+k] = &secretValue{node: lit, orig: v, prefix: k + "="}
		}
	}
	// An env entry ({name: DB_PASSWORD, value: …}) is a credential by its
	// name, as a key would be.
	// ({key: …, value: …}, any casing; a name given twice counts either way).
	named := false
	for _, nm := range append(getAllFold(n, "name"), getAllFold(n, "key")...) {
		named = named || secretKey(str(nm))
	}
	if named {
		for _, v := range getAllFold(n, "value") {
			if credential(v) {
				s.values[s.unique(id+"|"+where+".env")] = &secretValue{node: v, orig: canonical(v), inPlace: true}
			}
		}
	}
	for _, kv := range pairs(n) {
		k := keyString(kv[0])
		if secretKey(k) && credential(kv[1]) {
			// A credential in the clear (a values file, a ConfigMap): the
			// repository should not hold it, and no one is shown it.
			s.values[s.unique(id+"|"+where+"."+k)] = &secretValue{node: kv[1], orig: canonical(kv[1]), inPlace: true}
			continue
		}
		s.walk(kv[1], where+"."+k, seen, depth+1)
	}
}

// fieldsAll records the values of every data map given (duplicate keys).
func (s *secrets) fieldsAll(prefix string, ms []*yaml.Node, data bool) {
	for i, m := range ms {
		p := prefix
		if i > 0 {
			p = fmt.Sprintf("%s#%d", prefix, i+1)
		}
		s.fields(p, m, data)
	}
}

// embedded finds a manifest inside a string (a ConfigMap's file, a Helm
// values block, a one-line JSON): redacted as a file of its own. A string
// that names a Secret kind but does not parse (a Helm template) is hidden
// whole.
//
// A string (not the whole document: a properties file reads as one) with
// lines that set a credential has them hidden in it.
func (s *secrets) embedded(n *yaml.Node, where string, document bool) {
	b := []byte(n.Value)
	if !credentialWords(b) && !(strings.Contains(n.Value, "\\") && containsFold(b, "kind")) {
		return
	}
	lines := func() bool {
		if !document && len(credentialMatches(b)) > 0 {
			s.values["embedded|"+where] = &secretValue{node: n, orig: n.Value, embedded: true, lines: true}
			return true
		}
		return false
	}
	side := parseSide(b)
	structured := false
	for _, d := range side.docs {
		if r := deref(d); r != nil && r.Kind == yaml.DocumentNode && len(r.Content) > 0 {
			k := deref(r.Content[0])
			structured = structured || k != nil && k.Kind != yaml.ScalarNode
		}
	}
	if side.err == nil && !structured {
		lines() // a plain string (the kind value "Secret" itself, or text)
		return
	}
	inner := collect(side.docs)
	switch {
	case len(inner.values) > 0: // a document with secrets: redacted as a file
		s.values["embedded|"+where] = &secretValue{node: n, orig: n.Value, embedded: true, inner: inner.tokens()}
	case (side.err != nil || inner.deep) && containsFold(b, "kind"):
		s.values["embedded|"+where] = &secretValue{node: n, orig: n.Value, whole: true}
	default:
		lines()
	}
}

// fields records every value of a data map; a value that is not a map is one secret.
func (s *secrets) fields(prefix string, m *yaml.Node, data bool) {
	if m == nil {
		return
	}
	if deref(m).Kind != yaml.MappingNode {
		s.values[prefix] = &secretValue{node: m, orig: canonical(m)}
		return
	}
	for _, kv := range pairs(m) {
		k := s.unique(prefix + "." + keyString(kv[0])) // a duplicate key is hidden too
		s.values[k] = &secretValue{node: kv[1], orig: canonical(kv[1]), data: data}
	}
}

// generators are the secretGenerator entries of a kustomization.
func generators(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = deref(n.Content[0])
	}
	var out []*yaml.Node
	for _, g := range seq(get(n, "secretGenerator")) {
		if g = deref(g); g.Kind == yaml.MappingNode {
			out = append(out, g)
		}
	}
	return out
}

func hideLastApplied(meta *yaml.Node) {
	for _, kv := range pairs(get(meta, "annotations")) {
		if keyString(kv[0]) == "kubectl.kubernetes.io/last-applied-configuration" {
			hide(kv[1], hiddenSame, "")
		}
	}
}

// tokens are the secret texts searched for everywhere in the output: each
// value, each line of it, and what base64 data decodes to.
func (s secrets) tokens() []string {
	var out []string
	add := func(v string) {
		for _, l := range append([]string{v}, strings.Split(v, "\n")...) {
			if l = strings.TrimSpace(l); len(l) >= minScrub {
				out = append(out, l)
			}
		}
	}
	for _, v := range s.values {
		if v.embedded {
			out = append(out, v.inner...)
			continue
		}
		if v.whole || v.inPlace {
			continue
		}
		add(v.orig)
		if v.data {
			if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v.orig), "")); err == nil && utf8.Valid(b) {
				add(string(b))
			}
		}
	}
	return out
}

// mark hides each value of mine, comparing with the same key in theirs.
func mark(mine, theirs secrets, missing string, oldSide bool) {
	// Lines hidden in a text come last, and only where nothing else hid
	// the text (a Secret's field is hidden whole).
	keys := make([]string, 0, len(mine.values))
	for k := range mine.values {
		keys = append(keys, k)
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmp.Compare(b2i(mine.values[a].lines), b2i(mine.values[b].lines))
	})
	for _, k := range keys {
		v := mine.values[k]
		if v.lines && (v.node.Kind != yaml.ScalarNode || v.node.Value != v.orig) {
			continue
		}
		other, present := theirs.values[k]
		if v.whole {
			state := ""
			switch {
			case !present && oldSide:
				state = " (removed)"
			case !present:
				state = " (added)"
			case v.orig != other.orig && !oldSide:
				state = " (changed)"
			}
			hide(v.node, hiddenString+state, "")
			continue
		}
		if v.embedded {
			var o, n []byte
			if present {
				o, n = []byte(other.orig), []byte(v.orig)
			} else {
				n = []byte(v.orig)
			}
			if oldSide {
				o, n = n, o
			}
			var ro, rn []byte
			if v.lines { // text, not a document: a scalar would find itself again
				ro, rn = hideCredentialLines(o, n)
			} else {
				ro, rn = RedactPair(o, n)
			}
			v.node.Value, v.node.Style = string(rn), yaml.LiteralStyle
			if oldSide {
				v.node.Value = string(ro)
			}
			continue
		}
		switch {
		case !present:
			hide(v.node, missing, v.prefix)
		case v.orig == other.orig, oldSide:
			hide(v.node, hiddenSame, v.prefix)
		default:
			hide(v.node, hiddenChanged, v.prefix)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// hide replaces a value, and the anchor an alias points at, by a marker.
func hide(n *yaml.Node, marker, prefix string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		hide(n.Alias, marker, "")
	}
	n.Kind, n.Tag, n.Style, n.Value, n.Content, n.Alias = yaml.ScalarNode, "!!str", 0, prefix+marker, nil, nil
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
}

// render encodes a parsed side with its secrets hidden, after hiding every
// other node and comment that holds a secret text, then searches the text
// once more: whatever spelling carried a value, it does not get out.
func (s side) render(tokens []string, reencode bool) []byte {
	if s.raw == nil {
		return nil
	}
	var out []byte
	switch {
	case s.tooDeep:
		return []byte(unparseableLine + unencodable)
	case s.err != nil && mentionsSecret(s.raw):
		line := ""
		if m := yamlLine.FindStringSubmatch(s.err.Error()); m != nil {
			line = " (line " + m[1] + ")"
		}
		return []byte(fmt.Sprintf("%s: %s%s\n", unparseableLine, unparseableWhy, line))
	case s.err != nil, !reencode:
		out = s.raw
	default:
		seen := map[*yaml.Node]bool{}
		for _, d := range s.docs {
			scrubNodes(d, tokens, seen)
		}
		if s.json {
			out = encodeJSON(s.docs)
		} else {
			out = encodeYAML(s.raw, s.docs)
		}
	}
	return scrubText(out, tokens)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// unparseableLine replaces a file that mentions a secret kind but does not parse.
const (
	unparseableLine = "# stagedeck: content hidden"
	unparseableWhy  = "it mentions Secret but does not parse as YAML or JSON"
	unencodable     = ": it could not be shown without its secret values\n"
	changedSuffix   = " · changed"
)

// scrubNodes hides every scalar, key and comment holding a secret text.
func scrubNodes(n *yaml.Node, tokens []string, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	for _, c := range []*string{&n.HeadComment, &n.LineComment, &n.FootComment} {
		if containsAny(*c, tokens) {
			*c = hiddenComment
		}
	}
	if n.Kind == yaml.ScalarNode {
		if containsAny(n.Value, tokens) {
			hide(n, hiddenSame, "")
			return
		}
	}
	if n.Anchor != "" && containsAny(n.Anchor, tokens) {
		n.Anchor = "hidden" // aliases keep pointing at the node; the encoder names it
	}
	for _, c := range n.Content {
		scrubNodes(c, tokens, seen)
	}
	scrubNodes(n.Alias, tokens, seen)
}

const (
	hiddenComment = "# <hidden comment>"
	hiddenString  = "<hidden: a string naming a Secret that does not parse>"
)

func containsAny(s string, tokens []string) bool {
	if len(s) < minScrub {
		return false
	}
	for _, t := range tokens {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// mentionsSecret: the word, or a kind that an escape or a tag could spell
// as one. A file like that which does not parse is hidden whole.
func mentionsSecret(b []byte) bool {
	if bytes.Contains(b, []byte("Secret")) {
		return true
	}
	tricky := bytes.IndexByte(b, '\\') >= 0 || bytes.Contains(b, []byte("!!")) || bytes.Contains(b, []byte("!<"))
	return tricky && containsFold(b, "kind")
}

// secretKind reports whether a kustomize patch target may select a
// Secret. Kustomize reads a target's kind as a regular expression (anchored)
// and a target without one selects by name or label, any kind: when in
// doubt, it may.
func secretKind(m *yaml.Node) bool {
	if m = deref(m); m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	kinds := strsOf(getAll(m, "kind"))
	if len(kinds) == 0 {
		return true
	}
	for _, k := range kinds {
		if hasKind([]string{k}, "Secret") || hasKind([]string{k}, "SealedSecret") {
			return true
		}
		if re, err := regexp.Compile("^(?:" + strings.TrimSpace(k) + ")$"); err == nil && (re.MatchString("Secret") || re.MatchString("SealedSecret")) {
			return true
		}
	}
	return false
}

// hasKind reports whether kinds holds want, in any case and spacing: the
// API server would refuse "secret", but what the repository holds is shown
// as it is, so it is hidden as a Secret all the same.
func hasKind(kinds []string, want string) bool {
	for _, k := range kinds {
		if strings.EqualFold(strings.TrimSpace(k), want) {
			return true
		}
	}
	return false
}

// getAll is every value of key in a mapping: duplicates and merged ones.
func getAll(m *yaml.Node, key string) []*yaml.Node {
	var out []*yaml.Node
	for _, kv := range pairs(m) {
		if keyString(kv[0]) == key {
			out = append(out, kv[1])
		}
	}
	return out
}

func strsOf(ns []*yaml.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, str(n))
	}
	return out
}

// --- YAML helpers: aliases resolved, merge keys (<<) expanded ---

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	return n
}

// pairs lists a mapping's key/value pairs, merged ones (<<) first, as
// Kubernetes reads them.
func pairs(m *yaml.Node) [][2]*yaml.Node { return pairsSeen(m, map[*yaml.Node]bool{}) }

// pairsSeen is pairs that follows each merge source once: a mapping may
// merge itself (&a {<<: *a}), which must not loop.
func pairsSeen(m *yaml.Node, seen map[*yaml.Node]bool) [][2]*yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode || seen[m] {
		return nil
	}
	seen[m] = true
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "") {
			src := deref(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, s := range src.Content {
					out = append(out, pairsSeen(s, seen)...)
				}
			} else {
				out = append(out, pairsSeen(src, seen)...)
			}
			continue
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// get is the value of key in a mapping (the last one, as a decoder keeps).
func get(m *yaml.Node, key string) *yaml.Node {
	var found *yaml.Node
	for _, kv := range pairs(m) {
		if keyString(kv[0]) == key {
			found = kv[1]
		}
	}
	return found
}

func keyString(n *yaml.Node) string { return str(n) }

// getAllFold is every value of key in m, in any case.
func getAllFold(m *yaml.Node, key string) []*yaml.Node {
	var out []*yaml.Node
	for _, kv := range pairs(m) {
		if strings.EqualFold(keyString(kv[0]), key) {
			out = append(out, kv[1])
		}
	}
	return out
}

// str is a scalar's decoded value (!!binary included); "" otherwise.
func str(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	if n.Tag == "!!binary" {
		if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), "")); err == nil {
			return string(b)
		}
	}
	return n.Value
}

func seq(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func strs(n *yaml.Node) []string {
	var out []string
	for _, c := range seq(n) {
		if s := str(c); s != "" {
			out = append(out, s)
		}
	}
	if s := str(n); s != "" {
		out = append(out, s)
	}
	return out
}

func canonical(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Sprintf("%p", n) // unique: compares as changed
	}
	return string(b)
}

func encodeYAML(orig []byte, docs []*yaml.Node) []byte {
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 || bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(orig, bom)), []byte("---")) {
			buf.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return []byte(unparseableLine + unencodable)
		}
		enc.Close()
	}
	return buf.Bytes()
}

// --- JSON: parsed into YAML nodes in key order, written back as JSON ---

func parseJSON(b []byte) ([]*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var docs []*yaml.Node
	for {
		n, err := jsonValue(dec, 0)
		if errors.Is(err, io.EOF) && len(docs) > 0 {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}})
	}
}

func jsonValue(dec *json.Decoder, depth int) (*yaml.Node, error) {
	if depth > 512 {
		return nil, errors.New("json: nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if t == '[' {
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		} else if t != '{' {
			return nil, fmt.Errorf("json: unexpected %v", t)
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				ks, ok := k.(string)
				if !ok {
					return nil, errors.New("json: object key is not a string")
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ks})
			}
			v, err := jsonValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("json: unexpected token %v", tok)
}

func encodeJSON(docs []*yaml.Node) []byte {
	var buf bytes.Buffer
	for _, d := range docs {
		if d.Kind == yaml.DocumentNode && len(d.Content) > 0 {
			d = d.Content[0]
		}
		writeJSON(&buf, d, "")
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node, indent string) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		open, close, step := "{", "}", 2
		if n.Kind == yaml.SequenceNode {
			open, close, step = "[", "]", 1
		}
		if len(n.Content) == 0 {
			buf.WriteString(open + close)
			return
		}
		buf.WriteString(open + "\n")
		for i := 0; i < len(n.Content); i += step {
			buf.WriteString(indent + "  ")
			if step == 2 {
				writeString(buf, n.Content[i].Value)
				buf.WriteString(": ")
			}
			writeJSON(buf, n.Content[i+step-1], indent+"  ")
			if i+step < len(n.Content) {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + close)
	default:
		if n.Tag == "!!str" || n.Tag == "" {
			writeString(buf, n.Value)
		} else {
			buf.WriteString(n.Value)
		}
	}
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// --- files a secretGenerator reads, dotenv files, sops values ---

const (
	hiddenGenerated = "# stagedeck: content hidden: a kustomization may read this file as secret material"
	hiddenLine      = "<hidden line>"
)

func hideGenerated(old, new []byte) ([]byte, []byte) {
	line := func(b []byte, state string) []byte {
		if b == nil {
			return nil
		}
		return []byte(fmt.Sprintf("%s (%d bytes%s)\n", hiddenGenerated, len(b), state))
	}
	state := ""
	if old != nil && new != nil && !bytes.Equal(old, new) {
		state = ", changed"
	}
	return line(old, ""), line(new, state)
}

// redactEnv shows the keys of KEY=VALUE lines only; any other line but a
// blank one is hidden too (a commented-out old password is still one).
func redactEnv(old, new []byte) ([]byte, []byte) {
	parse := func(b []byte) map[string]string {
		m := map[string]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := envLine(l); ok {
				m[k] = v
			}
		}
		return m
	}
	om, nm := parse(old), parse(new)
	render := func(b []byte, mine, theirs map[string]string, missing string, oldSide bool) []byte {
		if b == nil {
			return nil
		}
		var sb strings.Builder
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			k, v, ok := envLine(l)
			switch {
			case strings.TrimSpace(l) == "":
				sb.WriteString("\n")
				continue
			case !ok && strings.HasPrefix(strings.TrimSpace(l), "#"):
				sb.WriteString(hiddenComment)
			case !ok:
				sb.WriteString(hiddenLine)
			default:
				tv, present := theirs[k]
				marker := hiddenChanged
				switch {
				case !present:
					marker = missing
				case tv == v, oldSide:
					marker = hiddenSame
				}
				sb.WriteString(k + "=" + marker)
			}
			sb.WriteString("\n")
		}
		return []byte(sb.String())
	}
	return render(old, om, nm, hiddenRemoved, true), render(new, nm, om, hiddenAdded, false)
}

var envKey = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=`)

func envLine(l string) (key, value string, ok bool) {
	m := envKey.FindStringSubmatchIndex(l)
	if m == nil {
		return "", "", false
	}
	return l[m[2]:m[3]], strings.TrimSpace(strings.TrimSuffix(l[m[1]:], "\r")), true
}

const (
	encrypted        = "<encrypted>"
	encryptedChanged = "<encrypted changed>"
)

// sopsValue is a sops-encrypted value: ENC[AES256_GCM,data:...,type:str].
var sopsValue = regexp.MustCompile(`ENC\[[^\]\n]*\]`)

// privateKey is a PEM private key block (RSA, EC, OpenSSH, PKCS#8,
// encrypted or not) or a PGP one, across lines or in a string with \n
// escapes, up to its end line or, cut short, the end of the file.
var privateKey = regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)`)

const (
	hiddenKey        = "<hidden: private key>"
	hiddenKeyChanged = "<hidden: private key, changed>"
)

// hidePrivateKeys replaces each private key block by a marker that says
// whether the new side's key is one the old side had.
func hidePrivateKeys(old, new []byte) ([]byte, []byte) {
	return hideMatches(old, new, "PRIVATE KEY", privateKey, hiddenKey, hiddenKeyChanged)
}

// credentialLine is a "KEY=value" or "KEY: value" line (properties, env,
// ini and shell files, and such files inside YAML strings).
// A comment (#, ;), a list item (- ) or a flag (--) may lead it: commented
// out or in a compose file's environment, it is a credential all the same.
var credentialLine = regexp.MustCompile(`(?m)^([ \t]*(?:[#;]+[ \t]*)?(?:-[ \t]+)?(?:export[ \t]+)?["']?([A-Za-z0-9_.\-]+)["']?[ \t]*[=:][ \t]*)([^\n\r]*?)([ \t]*\r?)$`)

// credentialInline is KEY=value inside a line: a URL's query
// (?user=a&password=b), a connection string (User Id=sa;Password=x;), a
// command line, an XML attribute or a TOML table, a folded text; quoted,
// or up to the next separator. Its matches may overlap (a=Password=x):
// see inlineMatches.
var credentialInline = regexp.MustCompile(`(?:[\s;&?,{(\[:=]|^)((?:--?)?([A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*=[ \t]*)("[^"\n]*"|'[^'\n]*'|\{[^}=\n]*\}|\$\{[^}\s]*\}|\$\([^)\s]*\)|[^\s;&,"'<>)\]}]+)`)

// credentialQuoted is such a line inside a one-line string: after a
// double quote or a \n escape up to the next \n escape or the closing
// quote (other escapes are part of the value), or after a single quote up
// to the closing one.
var credentialQuoted = []*regexp.Regexp{
	// <password>x</password>, <password encrypted="false">x</password>
	regexp.MustCompile(`(<([A-Za-z][A-Za-z0-9_.\-]*)(?:\s[^<>\n]*)?>)([^<\n]+)</`),
	regexp.MustCompile(`(?:\\n|")([ \t]*(?:export[ \t]+)?([A-Za-z0-9_.\-]+)[ \t]*[=:][ \t]*)((?:[^\n\r"\\]|\\[^n\n\r])*)`),
	regexp.MustCompile(`'([ \t]*(?:export[ \t]+)?([A-Za-z0-9_.\-]+)[ \t]*[=:][ \t]*)([^\n\r']*)`),
}

// hideCredentialLines hides the value of every line that sets a key
// naming a credential (DB_PASSWORD=…, db.password: …) to one in the clear,
// wherever the line is: a properties file, a ConfigMap's embedded file, a
// values block. The old side's values decide whether the new side's
// changed.
func hideCredentialLines(old, new []byte) ([]byte, []byte) {
	if !credentialWords(old) && !credentialWords(new) {
		return old, new
	}
	oldMatches := credentialMatches(old)
	var inOld map[string]bool // nil: nothing to compare with
	if old != nil {
		inOld = map[string]bool{}
		for _, m := range oldMatches {
			inOld[m.key+"\x00"+m.value] = true
		}
	}
	return hideMatched(old, oldMatches, nil), hideMatched(new, credentialMatches(new), inOld)
}

// credentialMatch is a credential value set in text, at b[start:end].
type credentialMatch struct {
	start, end int
	key, value string
}

// credentialMatches finds, line by line and only in lines with a
// credential's word (a big values file has few), the values of keys that
// name a credential; where matches overlap the longest (a whole line over
// a KEY=value inside it) wins, sorted stably so no order of equals decides
// what shows.
func credentialMatches(b []byte) []credentialMatch {
	var locs [][]int
	for start := 0; start < len(b); {
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += start
		}
		if line := b[start:end]; credentialWords(line) {
			found := append(credentialLine.FindAllSubmatchIndex(line, -1), inlineMatches(line)...)
			for _, re := range credentialQuoted {
				found = append(found, re.FindAllSubmatchIndex(line, -1)...)
			}
			for _, loc := range found {
				for i := range loc {
					if loc[i] >= 0 {
						loc[i] += start
					}
				}
			}
			locs = append(locs, found...)
		}
		start = end + 1
	}
	slices.SortStableFunc(locs, func(x, y []int) int { return cmp.Or(x[6]-y[6], y[7]-x[7]) })
	var out []credentialMatch
	taken := -1
	for _, loc := range locs {
		m := credentialMatch{start: loc[6], end: loc[7], key: string(b[loc[4]:loc[5]]), value: string(b[loc[6]:loc[7]])}
		if m.start < taken || !secretKey(m.key) || !credentialText(m.value) {
			continue
		}
		taken = m.end
		out = append(out, m)
	}
	return out
}

// hideMatched replaces each match's value by a marker: "changed" when
// inOld is given and does not hold the same key and value.
func hideMatched(b []byte, matches []credentialMatch, inOld map[string]bool) []byte {
	if len(matches) == 0 {
		return b
	}
	var out []byte
	last := 0
	for _, m := range matches {
		marker := hiddenSame
		if inOld != nil && !inOld[m.key+"\x00"+m.value] {
			marker = hiddenChanged
		}
		out = append(append(out, b[last:m.start]...), marker...)
		last = m.end
	}
	return append(out, b[last:]...)
}

// inlineMatches finds credentialInline's matches in line, each search
// starting again just before the last match's value, so a value that is
// itself KEY=value (conn=Password=x) is searched too.
func inlineMatches(line []byte) [][]int {
	var out [][]int
	for pos := 0; pos < len(line); {
		loc := credentialInline.FindSubmatchIndex(line[pos:])
		if loc == nil {
			break
		}
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += pos
			}
		}
		out = append(out, loc)
		pos = max(pos+1, loc[6]-1)
	}
	return out
}

// credentialWords reports whether b has a word a credential's key has
// (pass, pwd, token, secret, key, auth), in any case: one pass over b.
func credentialWords(b []byte) bool {
	for i, c := range b {
		for _, w := range credentialWordsBy[c|0x20] {
			if i+len(w) <= len(b) && bytes.EqualFold(b[i:i+len(w)], []byte(w)) {
				return true
			}
		}
	}
	return false
}

// credentialWordsBy lists credentialWords' words by their first letter.
var credentialWordsBy = [256][]string{'p': {"pass", "pwd"}, 't': {"token"}, 's': {"secret"}, 'k': {"key"}, 'a': {"auth"}}

// credentialText reports whether v, a credential line's value, holds one:
// anything but nothing, a switch, a YAML block indicator, a template or a
// plain reference to a value kept elsewhere (${VAR}, $(cmd), $VAR, Argo
// CD's $secret.key, argocd-vault-plugin's <path:…>, vals' ref+…).
func credentialText(v string) bool {
	v = strings.TrimSpace(v)
	if u, err := strconv.Unquote(v); err == nil {
		v = u
	} else if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		v = v[1 : len(v)-1]
	}
	switch strings.ToLower(v) {
	case "", "true", "false", "yes", "no", "on", "off", "null", "~", "enabled", "disabled", "required", "optional", "none", "{", "[":
		return false
	}
	if collection := len(v) >= 2 && (v[0] == '{' && v[len(v)-1] == '}' || v[0] == '[' && v[len(v)-1] == ']'); collection ||
		yamlAlias.MatchString(v) {
		return false // {enabled: true}, [admin, dev], *defaults
	}
	return !blockIndicator.MatchString(v) && !strings.Contains(v, "{{") && !plainReference.MatchString(v) &&
		!strings.HasPrefix(v, "<path:") && !strings.HasPrefix(v, "ref+") && !strings.HasPrefix(v, "<hidden")
}

var (
	blockIndicator = regexp.MustCompile(`^[|>][-+0-9]*$`)
	plainReference = regexp.MustCompile(`^(?:\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\$[a-z0-9-]+\.[A-Za-z0-9_.-]+|\$__[a-z]+\{[^}]*\})$`)
	yamlAlias      = regexp.MustCompile(`^\*[A-Za-z0-9_.-]+$`)
)

// hideEncrypted replaces sops values: ciphertext tells a reader nothing
// but changes on every re-encryption; a value new to this side reads
// <encrypted changed>.
func hideEncrypted(old, new []byte) ([]byte, []byte) {
	return hideMatches(old, new, "ENC[", sopsValue, encrypted, encryptedChanged)
}

// hideMatches replaces every match of re on both sides by marker, or on
// the new side by changed when the old side had no such match; hint is a
// text every match holds, to skip the expression when neither side has it.
func hideMatches(old, new []byte, hint string, re *regexp.Regexp, marker, changed string) ([]byte, []byte) {
	if !bytes.Contains(old, []byte(hint)) && !bytes.Contains(new, []byte(hint)) {
		return old, new
	}
	inOld := map[string]bool{}
	for _, m := range re.FindAll(old, -1) {
		inOld[string(m)] = true
	}
	rep := func(b []byte, changedIfNew bool) []byte {
		if b == nil {
			return nil
		}
		return re.ReplaceAllFunc(b, func(m []byte) []byte {
			if changedIfNew && !inOld[string(m)] {
				return []byte(changed)
			}
			return []byte(marker)
		})
	}
	return rep(old, false), rep(new, old != nil)
}
