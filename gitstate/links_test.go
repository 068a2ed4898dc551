package gitstate

import (
	"slices"
	"testing"
)

func TestLinksExpand(t *testing.T) {
	l := NewLinks(map[string]string{
		"tst/web/values-prod.yaml": "../../prod/web/values.yaml", // a file link inside an app
		"tst/api":                  "../prod/api",                // an app directory that is a link
		"shared":                   "prod/common",                // a linked directory at the root
		"prod/common/x.yaml":       "../../itg/x.yaml",           // followed transitively
		"tst/out":                  "../../etc/passwd",           // out of the repository: ignored
		"tst/abs":                  "/etc/passwd",                // absolute: ignored
		"tst/web-other/a":          "../../perf/a",               // "tst/web-other" is not inside "tst/web"
		"loop/a":                   "b",
		"loop/b":                   "a",
	}, nil)
	cases := []struct {
		paths []string
		want  []string
	}{
		{[]string{"tst/web"}, []string{"prod/web/values.yaml"}},
		{[]string{"tst/web/"}, []string{"prod/web/values.yaml"}},
		{[]string{"tst/api"}, []string{"prod/api"}},
		{[]string{"tst/api/templates/x.yaml"}, []string{"prod/api/templates/x.yaml", "tst/api"}},
		{[]string{"shared/y.yaml"}, []string{"prod/common/y.yaml", "shared"}},
		{[]string{"shared"}, []string{"itg/x.yaml", "prod/common"}},
		{[]string{"tst/web-other"}, []string{"perf/a"}},
		{[]string{"loop"}, []string{}}, // both targets are inside loop already
		{[]string{"itg"}, []string{}},
		{[]string{"tst"}, []string{"perf/a", "prod/api", "prod/web/values.yaml"}},
	}
	for _, c := range cases {
		got := l.Expand(c.paths)
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("Expand(%q) = %q; want %q", c.paths, got, c.want)
		}
	}
	if got := l.Expand([]string{""}); len(got) != 0 {
		t.Errorf("the root holds every link's target already: %q", got)
	}
	if n := l.Len(); n != 7 {
		t.Errorf("Len = %d; want 7 (out-of-repository and absolute links left out)", n)
	}
	var none *Links
	if got := none.Expand([]string{"tst"}); got != nil {
		t.Errorf("no links: %q", got)
	}
}

func TestLinksAliases(t *testing.T) {
	l := NewLinks(map[string]string{
		"prod/web/common.yaml": "../../tst/web/common.yaml",
		"prod/shared":          "../tst/shared",
		"perf/shared":          "../prod/shared", // a link to a link
		"all":                  ".",
	}, nil)
	got := l.Aliases([]string{"tst/web/common.yaml", "tst/shared/db.yaml", "tst/other.yaml"})
	for _, want := range []string{"prod/web/common.yaml", "prod/shared/db.yaml", "perf/shared/db.yaml", "all/tst/other.yaml"} {
		if !slices.Contains(got, want) {
			t.Errorf("Aliases lacks %s: %q", want, got)
		}
	}
	if slices.Contains(got, "tst/web/common.yaml") {
		t.Errorf("a file is not its own alias: %q", got)
	}
	if len(got) > maxLinkedPaths {
		t.Errorf("a link to the root must not grow without end: %d aliases", len(got))
	}
}

func TestKustomizationReads(t *testing.T) {
	l := NewLinks(nil, map[string][]string{
		"tst/web/kustomization.yaml":  {"base/web", "prod/web/patch.yaml", "../outside"},
		"prod/web/kustomization.yaml": {"base/web"},
		"base/web/kustomization.yaml": {"base/common"}, // read transitively
	})
	got := l.Expand([]string{"tst/web"})
	for _, want := range []string{"base/web", "prod/web/patch.yaml", "base/common"} {
		if !slices.Contains(got, want) {
			t.Errorf("Expand lacks %s: %q", want, got)
		}
	}
	if slices.Contains(got, "outside") || slices.Contains(got, "../outside") {
		t.Errorf("a reference out of the repository kept: %q", got)
	}
	// A change to the shared base reaches both stages' kustomizations.
	al := l.Aliases([]string{"base/common/labels.yaml"})
	for _, want := range []string{"base/web/kustomization.yaml", "tst/web/kustomization.yaml", "prod/web/kustomization.yaml"} {
		if !slices.Contains(al, want) {
			t.Errorf("Aliases lacks %s: %q", want, al)
		}
	}
	if l.Len() != 0 || l.Reads() != 3 {
		t.Errorf("Len %d Reads %d", l.Len(), l.Reads())
	}
}
