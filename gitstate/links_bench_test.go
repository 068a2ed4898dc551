package gitstate

import (
	"fmt"
	"testing"
)

// BenchmarkAliases2000: a rollback of 4,000 files against 2,000
// kustomize overlays (each reading its own base) and 2,000 links.
func BenchmarkAliases2000(b *testing.B) {
	links, reads := map[string]string{}, map[string][]string{}
	var files []string
	for i := range 2000 {
		reads[fmt.Sprintf("tst/app%04d/kustomization.yaml", i)] = []string{fmt.Sprintf("base/app%04d", i)}
		links[fmt.Sprintf("prod/app%04d/common.yaml", i)] = fmt.Sprintf("../../base/app%04d/common.yaml", i)
		files = append(files, fmt.Sprintf("base/app%04d/common.yaml", i), fmt.Sprintf("base/app%04d/deploy.yaml", i))
	}
	l := NewLinks(links, reads)
	for b.Loop() {
		if got := l.Aliases(files); len(got) != 4000 {
			b.Fatalf("%d aliases", len(got))
		}
	}
}

// BenchmarkExpand2000: every app's expansion in a fleet of 2,000 overlays.
func BenchmarkExpand2000(b *testing.B) {
	reads := map[string][]string{}
	for i := range 2000 {
		reads[fmt.Sprintf("tst/app%04d/kustomization.yaml", i)] = []string{fmt.Sprintf("base/app%04d", i), "base/common"}
	}
	l := NewLinks(nil, reads)
	for b.Loop() {
		for i := range 2000 {
			if got := l.Expand([]string{fmt.Sprintf("tst/app%04d", i)}); len(got) != 2 {
				b.Fatalf("%q", got)
			}
		}
	}
}
