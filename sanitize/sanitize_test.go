package sanitize

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain subject", "plain subject"},
		{"tab\tkept", "tab\tkept"},
		{"title \x1b]0;pwned\x07 done", `title \x1b]0;pwned\x07 done`},
		{"red \x1b[31mbleed", `red \x1b[31mbleed`},
		{"over\rwrite", `over\x0dwrite`},
		{"two\nlines", `two\x0alines`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"raw c1 \x9b31m", `raw c1 \x9b31m`},
		{"bidi \u202egnp.exe", `bidi \u202egnp.exe`},
		{"ünïcode ✓ 🔒", "ünïcode ✓ 🔒"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBodyKeepsNewlines(t *testing.T) {
	in := "+a: 1\n-b: \x1b[2J\r\n"
	want := "+a: 1\n-b: \\x1b[2J\\x0d\n"
	if got := Body(in); got != want {
		t.Fatalf("Body(%q) = %q, want %q", in, got, want)
	}
}

func TestNoControlByteSurvives(t *testing.T) {
	var all strings.Builder
	for b := 0; b < 256; b++ {
		all.WriteByte(byte(b))
	}
	for _, r := range []rune{0x80, 0x85, 0x9b, 0x9f, 0x202e} {
		all.WriteRune(r)
	}
	for _, out := range []string{Line(all.String()), Body(all.String())} {
		for _, r := range out {
			if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0xfffd {
				t.Fatalf("control %U survived in %q", r, out)
			}
		}
		if strings.Contains(Line(all.String()), "\n") {
			t.Fatal("Line kept a newline")
		}
	}
}

func TestUserinfo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"fetch http://user:s3cr3t@git.example.com/ops.git: timeout", "fetch http://***@git.example.com/ops.git: timeout"},
		{`ops repo "https://oauth2:glpat-XYZ@gitlab.example.com/a/b.git"`, `ops repo "https://***@gitlab.example.com/a/b.git"`},
		{"ssh://git@host:22/ops.git", "ssh://***@host:22/ops.git"},
		{"git@github.com:acme/ops.git stays", "git@github.com:acme/ops.git stays"},
		{"mail ann@example.com stays", "mail ann@example.com stays"},
		{"two: http://a:b@x/ and HTTPS://c:d@y/", "two: http://***@x/ and HTTPS://***@y/"},
		{"https://u:p@ss@host/ops.git", "https://***@host/ops.git"},    // '@' in the password
		{"https://u:pa/ss#x@host/ops.git", "https://***@host/ops.git"}, // '/' and '#' too
		{"https://host/path?q=a@b", "https://***@b"},                   // a query's '@' is hidden too: the safe side
	} {
		if got := Userinfo(tc.in); got != tc.want {
			t.Errorf("Userinfo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Error(errors.New("dial http://u:pw@h/\x1b[31m")); got != `dial http://***@h/\x1b[31m` {
		t.Errorf("Error = %q", got)
	}
}

func BenchmarkLineClean(b *testing.B) {
	s := "ci-bot: deploy api 2.0.7 to itg (#1234)"
	for b.Loop() {
		_ = Line(s)
	}
}

func TestWriterHoldsSplitRunes(t *testing.T) {
	var sb strings.Builder
	w := NewWriter(&sb)
	in := []byte("ok ✓ \x1b[31m\n")
	for i := range in {
		if _, err := w.Write(in[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := sb.String(), "ok ✓ \\x1b[31m\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestJSONKeepsValuesExact(t *testing.T) {
	in := []byte("{\"s\":\"a\x7fb\u009bc\u202ed\"}")
	out := JSON(in)
	if string(out) != `{"s":"a\u007fb\u009bc\u202ed"}` {
		t.Fatalf("got %s", out)
	}
	var v map[string]string
	if err := json.Unmarshal(out, &v); err != nil || v["s"] != "a\x7fb\u009bc\u202ed" {
		t.Fatalf("not the same value: %q %v", v["s"], err)
	}
}

// TestInvisibleAndFormatCharactersAreShown: what a terminal draws as
// nothing, or uses to reorder or break a line, is shown as an escape, in
// every cleaner; the values stay exact in JSON.
func TestInvisibleAndFormatCharactersAreShown(t *testing.T) {
	for _, r := range []rune{0x200b, 0x200c, 0x200d, 0x2060, 0x2063, 0xfeff, 0x00ad, 0x2028, 0x2029, 0xfff9, 0xfffb, 0x180e, 0x061c, 0x200e, 0x2066, 0xe0041, 0xe007f} {
		in := "Zed" + string(r) + "Width"
		for name, got := range map[string]string{"Line": Line(in), "Body": Body(in)} {
			if strings.ContainsRune(got, r) || !strings.Contains(strings.ToLower(got), `\u`) {
				t.Errorf("%s(%q) = %q: %U not shown as an escape", name, in, got, r)
			}
		}
		b, _ := json.Marshal(map[string]string{"s": in})
		out := JSON(b)
		var v map[string]string
		if strings.ContainsRune(string(out), r) || json.Unmarshal(out, &v) != nil || v["s"] != in {
			t.Errorf("JSON(%s) = %s: %U raw or the value changed (%q)", b, out, r, v["s"])
		}
	}
	for _, keep := range []string{"é", "e\u0301", "✓ 🔒", "日本語", "\u00a0nbsp"} {
		if Line(keep) != keep {
			t.Errorf("Line(%q) = %q: printable text changed", keep, Line(keep))
		}
	}
}

// TestCredentialsInURLsAreHiddenOnEveryPath: a subject, an Argo CD
// message or a file line with a URL's userinfo shows ***, in Line, Body,
// the Writer and JSON alike.
func TestCredentialsInURLsAreHiddenOnEveryPath(t *testing.T) {
	in := "Deploy https://ci:ghp_SUBJtoken1@github.com/acme/ops.git and x_https://u:pw-2@h/ now"
	want := "Deploy https://***@github.com/acme/ops.git and x_https://***@h/ now"
	if got := Line(in); got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	if got := Body(in + "\n"); got != want+"\n" {
		t.Errorf("Body = %q", got)
	}
	var sb strings.Builder
	if _, err := NewWriter(&sb).Write([]byte(in + "\n")); err != nil || sb.String() != want+"\n" {
		t.Errorf("Writer = %q %v", sb.String(), err)
	}
	b, _ := json.Marshal(map[string]string{"operationMessage": in})
	if out := string(JSON(b)); strings.Contains(out, "ghp_SUBJtoken1") || strings.Contains(out, "pw-2") || !strings.Contains(out, "https://***@github.com") {
		t.Errorf("JSON = %s", out)
	}
}

// userinfoRE is the regular expression Userinfo's scan does the work of.
var userinfoRE = regexp.MustCompile(`(?i)([a-z][a-z0-9+.\-]*://)[^\s"'<>]*@`)

// TestUserinfoScanIsTheExpression: on random text made of what matters to
// a URL, the linear scan hides exactly what the expression would.
func TestUserinfoScanIsTheExpression(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"://", "@", ":", "/", " ", "\"", "'", "<", ">", "\n", "h", "X", "9", "+", ".", "-", "_", "*", "***", "https", "é", "s3cr3t"}
	for range 200000 {
		var sb strings.Builder
		for range rng.IntN(14) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		in := sb.String()
		if got, want := Userinfo(in), userinfoRE.ReplaceAllString(in, "${1}***@"); got != want {
			t.Fatalf("Userinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkBodyWithURLs: a large body with addresses and URLs in it (the
// userinfo scan is on the path of every diff and -o json).
func BenchmarkBodyWithURLs(b *testing.B) {
	line := "  repo: https://github.com/acme/ops.git # owner ann@example.com, ssh://***@git.example.com/x\n"
	s := strings.Repeat(line, 15000) // about 1.3 MB
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Body(s)
	}
}
