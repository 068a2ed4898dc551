package patch

import (
	"fmt"
	"strings"
	"testing"
)

// bigValues is a ~10 MB Helm values file; the new side changes a few lines.
func bigValues() (old, new []byte) {
	var b strings.Builder
	for i := 0; b.Len() < 10<<20; i++ {
		fmt.Fprintf(&b, "service%06d:\n  image:\n    repository: registry.example.com/shop/service%06d\n    tag: \"1.%d.0\"\n  replicaCount: %d\n", i, i, i%50, i%7+1)
	}
	o := b.String()
	n := strings.Replace(o, "service000100:\n  image:", "service000100:\n  image:\n    pullPolicy: Always", 1)
	n = strings.Replace(n, "tag: \"1.0.0\"", "tag: \"9.9.9\"", 3)
	return []byte(o), []byte(n)
}

// BenchmarkUnified10MB diffs a 10 MB values file with a handful of changes.
func BenchmarkUnified10MB(b *testing.B) {
	o, n := bigValues()
	b.SetBytes(int64(len(o)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := Unified([]Pair{{From: &File{Path: "prod/values.yaml", Content: o}, To: &File{Path: "prod/values.yaml", Content: n}}}, 3)
		if !strings.Contains(out, "pullPolicy") {
			b.Fatal("change missing")
		}
	}
}
