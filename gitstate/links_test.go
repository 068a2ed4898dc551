package gitstate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
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
	if n := l.Len(); n != 5 {
		t.Errorf("Len = %d; want 5 (out-of-repository, absolute and looping links left out)", n)
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
	for _, want := range []string{"prod/web/common.yaml", "prod/shared/db.yaml", "perf/shared/db.yaml"} {
		if !slices.Contains(got, want) {
			t.Errorf("Aliases lacks %s: %q", want, got)
		}
	}
	if slices.Contains(got, "tst/web/common.yaml") {
		t.Errorf("a file is not its own alias: %q", got)
	}
	// A link to the root (or to its own directory) only repeats paths: it
	// adds no alias, and none without end.
	if slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, "all/") }) || len(got) != 3 {
		t.Errorf("aliases through a link to the root: %q", got)
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

// TestLinksFailClosed: past its bounds an expansion reads the whole
// repository; it never drops what lies beyond them.
func TestLinksFailClosed(t *testing.T) {
	raw := map[string]string{"tst/web/z-last": "../../prod/web/values.yaml"}
	for i := range maxLinkedPaths + 10 {
		raw[fmt.Sprintf("tst/web/l%05d", i)] = fmt.Sprintf("../../shared/f%05d", i)
	}
	if got := NewLinks(raw, nil).Expand([]string{"tst/web"}); !slices.Contains(got, "") && !slices.Contains(got, "prod/web/values.yaml") {
		t.Errorf("a link past the bound was dropped: %d paths", len(got))
	}
	// A chain of kustomize bases longer than a link chain may be.
	reads := map[string][]string{}
	for i := range 60 {
		reads[fmt.Sprintf("b%02d/kustomization.yaml", i)] = []string{fmt.Sprintf("b%02d", i+1)}
	}
	reads["b60/kustomization.yaml"] = []string{"prod/web"}
	l := NewLinks(nil, reads)
	if got := l.Expand([]string{"b00"}); !slices.Contains(got, "prod/web") && !slices.Contains(got, "") {
		t.Errorf("the end of a long chain of bases is missed: %q", got)
	}
	if got := l.Aliases([]string{"prod/web/values.yaml"}); !slices.Contains(got, "b00/kustomization.yaml") && !slices.Contains(got, "") {
		t.Errorf("a change at the end of a long chain does not reach its start: %q", got)
	}
}

// TestLinksResolveAsTheKernelDoes: ".." after a linked directory climbs
// from where the link points, and a path through a link is not hidden by
// the link itself being listed.
func TestLinksResolveAsTheKernelDoes(t *testing.T) {
	l := NewLinks(map[string]string{
		"tst/web/v.yaml": "../../shared/sub/../values.yaml",
		"shared/sub":     "../prod/web/deep",
	}, nil)
	if got := l.Expand([]string{"tst/web"}); !slices.Contains(got, "prod/web/values.yaml") {
		t.Errorf("Expand = %q; want prod/web/values.yaml, as the kernel reads it", got)
	}
	l = NewLinks(map[string]string{
		"tst/lnk":         "../shared",
		"shared/b/v.yaml": "../../tst/lnk/a/v.yaml",
		"shared/a/v.yaml": "../../prod/web/values.yaml",
	}, nil)
	if got := l.Expand([]string{"tst/lnk/b"}); !slices.Contains(got, "prod/web/values.yaml") {
		t.Errorf("Expand = %q; want prod's values read through shared/a", got)
	}
	// A kustomization reached as an exact path reads what it reads.
	l = NewLinks(nil, map[string][]string{"shared/kustomization.yaml": {"prod/web"}})
	if got := l.Expand([]string{"shared/kustomization.yaml"}); !slices.Contains(got, "prod/web") {
		t.Errorf("Expand = %q", got)
	}
}

// TestLinksStayBounded: links whose targets climb through each other
// resolve within the kernel's budget, and links into each other end a
// rollback's aliases in the whole repository, not in memory.
func TestLinksStayBounded(t *testing.T) {
	raw := map[string]string{}
	for i := range 5 {
		raw[fmt.Sprintf("a/l%d", i)] = strings.Repeat(fmt.Sprintf("l%d/../", (i+1)%5), 100) + "x"
	}
	done := make(chan struct{})
	go func() { NewLinks(raw, nil); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("resolving links that climb through each other does not end")
	}
	l := NewLinks(map[string]string{"envs/prod/shared": "../staging", "envs/staging/shared": "../prod"}, nil)
	if got := l.Aliases([]string{"envs/staging/values.yaml"}); len(got) != 1 || got[0] != "" {
		t.Errorf("aliases through links into each other: %d paths; want the whole repository", len(got))
	}
}
