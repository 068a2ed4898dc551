package opsrepo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The benchmark repository: 20,000 commits over 5 stages x 100 app
// directories, packed as a clone would be. Built once per test binary.
var (
	benchOnce sync.Once
	benchDir  string
)

func benchRepo(b *testing.B) string {
	benchOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "stagedeck-bench-20k")
		if _, err := os.Stat(filepath.Join(dir, ".git", "packed-refs")); err != nil {
			os.RemoveAll(dir)
			os.MkdirAll(dir, 0o755)
			genRepo(b, dir, 20000, 5, 100, false, 42)
		}
		benchDir = dir
	})
	return benchDir
}

var benchStages = []string{"stage0", "stage1", "stage2", "stage3", "stage4"}

// BenchmarkLastChanges: stagedeck's one walk for all five stages.
func BenchmarkLastChanges(b *testing.B) {
	dir := benchRepo(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := openLocal(b, dir) // include opening, as one `stagedeck status` does
		head, _ := r.Head()
		got, err := r.LastChanges(context.Background(), head, benchStages)
		r.Close()
		if err != nil || len(got) != 5 {
			b.Fatalf("%v %d", err, len(got))
		}
	}
	reportRSS(b)
}

// BenchmarkLastChangesGitCLI: `git log -1 --format=%H -- <path>` per stage.
func BenchmarkLastChangesGitCLI(b *testing.B) {
	dir := benchRepo(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range benchStages {
			gitLog(b, dir, "log", "-1", "--format=%H", "--", p)
		}
	}
}

// BenchmarkLastChangesDeep: a path last changed in the root commit, so the
// walk covers all 20,000 commits.
func BenchmarkLastChangesDeep(b *testing.B) {
	dir := benchRepo(b)
	paths := append([]string{"stage0/app000/values.yaml.orig"}, benchStages...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := openLocal(b, dir)
		head, _ := r.Head()
		_, err := r.LastChanges(context.Background(), head, paths)
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRSS(b)
}

func BenchmarkLastChangesDeepGitCLI(b *testing.B) {
	dir := benchRepo(b)
	paths := append([]string{"stage0/app000/values.yaml.orig"}, benchStages...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range paths {
			gitLog(b, dir, "log", "-1", "--format=%H", "--", p)
		}
	}
}

// BenchmarkPending: deployed 2,000 commits behind head, all five stages in one walk.
func BenchmarkPending(b *testing.B) {
	dir := benchRepo(b)
	deployed := gitLog(b, dir, "rev-parse", "main~2000")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := openLocal(b, dir)
		head, _ := r.Head()
		p, err := r.Pending(context.Background(), head, deployed, benchStages)
		r.Close()
		if err != nil || !p.Ancestor || len(p.Commits["stage0"]) == 0 {
			b.Fatalf("%v %+v", err, p.Ancestor)
		}
	}
	reportRSS(b)
}

func BenchmarkPendingGitCLI(b *testing.B) {
	dir := benchRepo(b)
	deployed := gitLog(b, dir, "rev-parse", "main~2000")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range benchStages {
			gitLog(b, dir, "log", "--format=%H", deployed+"..main", "--", p)
		}
	}
}

func gitLog(b *testing.B, dir string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// reportRSS reports the process's peak resident set (VmHWM) in MB.
func reportRSS(b *testing.B) {
	runtime.GC()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb)
			b.ReportMetric(kb/1024, "peak-RSS-MB")
		}
	}
}

// BenchmarkLastChangesWarm: the console's refresh, with the repository
// already open (the idx is loaded once per process).
func BenchmarkLastChangesWarm(b *testing.B) {
	r := openLocal(b, benchRepo(b))
	head, _ := r.Head()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.LastChanges(context.Background(), head, benchStages); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSecretRefsAt: reading every kustomization of a commit (500
// app directories), once per commit a diff shows (then cached).
func BenchmarkSecretRefsAt(b *testing.B) {
	r, err := Open(context.Background(), Options{URL: benchRepo(b), Branch: "main"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	h, err := r.Resolve("main")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.secretRefsAt(h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinks2000: listing the symbolic links of a commit whose tree
// holds 2,000 app directories (5 stages x 400), as a cold collect does
// once per head (uncached here).
func BenchmarkLinks2000(b *testing.B) {
	dir := b.TempDir()
	genRepo(b, dir, 50, 5, 400, false, 7)
	benchLinks(b, dir, 0)
}

// benchLinks times reading the links of dir's head, uncached, and checks
// how many kustomizations read something.
func benchLinks(b *testing.B, dir string, reads int) {
	gitLog(b, dir, "gc", "-q")
	r := openLocal(b, dir)
	defer r.Close()
	h, err := r.Head()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r.mu.Lock()
		r.links = nil
		r.mu.Unlock()
		l, err := r.Links(h)
		if err != nil || l.Reads() != reads {
			b.Fatal(err, l.Reads())
		}
	}
}

// BenchmarkLinks2000Kustomize: the same over 2,000 kustomize overlays,
// each reading a base of its own in ../../base (every one parsed).
func BenchmarkLinks2000Kustomize(b *testing.B) {
	dir := b.TempDir()
	gitCLI(b, dir, "init", "-q", "-b", "main")
	for s := 0; s < 5; s++ {
		for a := 0; a < 400; a++ {
			app := fmt.Sprintf("stage%d/app%03d", s, a)
			writeFile(b, dir, app+"/kustomization.yaml", fmt.Sprintf(
				"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base/app%03d\n  - service.yaml\npatches:\n  - path: replicas.yaml\n    target: {kind: Deployment}\nconfigMapGenerator:\n  - name: cfg\n    files: [app.conf]\n", a))
			writeFile(b, dir, app+"/replicas.yaml", "replicas: 2\n")
		}
	}
	commitAll(b, dir, "overlays")
	benchLinks(b, dir, 2000)
}
