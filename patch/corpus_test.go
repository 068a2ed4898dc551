package patch

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// corpusLeak matches every secret value in testdata/secrets: the plain
// values (sdleakNNx9QZ) and their base64 spelling.
var corpusLeak = regexp.MustCompile(`sdleak\d\dx9Q[YZ]|c2RsZWFr[A-Za-z0-9+/=]+`)

// corpusCase is one real-world spelling of a secret: a directory of files
// added together in one diff.
type corpusCase struct {
	name   string
	files  []*File
	values []string
}

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	root := filepath.Join("..", "testdata", "secrets")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusCase
	for _, d := range dirs {
		c := corpusCase{name: d.Name()}
		err := filepath.WalkDir(filepath.Join(root, d.Name()), func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			c.files = append(c.files, &File{Path: "envs/prod/" + filepath.ToSlash(rel), Content: b})
			c.values = append(c.values, corpusLeak.FindAllString(string(b), -1)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.values) == 0 {
			t.Fatalf("corpus case %s has no sdleakNNx9QZ value to look for", c.name)
		}
		out = append(out, c)
	}
	if len(out) < 30 {
		t.Fatalf("the redaction corpus has %d cases, want at least 30", len(out))
	}
	return out
}

// TestCorpusNeverLeaks adds, changes and deletes every corpus file and
// checks that no secret value reaches the diff, while something is shown.
func TestCorpusNeverLeaks(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			var added, deleted, changed []Pair
			for _, f := range c.files {
				added = append(added, Pair{To: f})
				deleted = append(deleted, Pair{From: f})
				// A change that swaps every value for another one.
				other := &File{Path: f.Path, Content: []byte(corpusLeak.ReplaceAllStringFunc(string(f.Content), changeValue))}
				changed = append(changed, Pair{From: f, To: other})
			}
			for mode, pairs := range map[string][]Pair{"added": added, "deleted": deleted, "changed": changed} {
				out := Unified(pairs, 3)
				if !strings.Contains(out, "diff --git") {
					t.Fatalf("%s: nothing shown:\n%s", mode, out)
				}
				for _, v := range c.values {
					if strings.Contains(out, v) || strings.Contains(out, changeValue(v)) {
						t.Errorf("%s: value %s leaked:\n%s", mode, v, out)
					}
				}
				if !strings.Contains(out, "<hidden") && !strings.Contains(out, "<encrypted") && !strings.Contains(out, "content hidden") && !(c.name == "66-url-credentials" && strings.Contains(out, "://***@")) {
					t.Errorf("%s: no hidden marker says what was hidden:\n%s", mode, out)
				}
			}
		})
	}
}

// changeValue gives a corpus value another one, in the same spelling.
func changeValue(v string) string {
	if strings.HasPrefix(v, "c2RsZWFr") {
		b, err := base64.StdEncoding.DecodeString(v)
		if err == nil {
			return base64.StdEncoding.EncodeToString([]byte(changeValue(string(b))))
		}
	}
	return v[:len(v)-1] + "W"
}
