//go:build realargo

package realargo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stagedeck/stagedeck/e2e/termtest"
)

// BenchmarkScale gives the figures of the fleet-scale issue on the real
// tier: N manual apps in a "bench" stage (STAGEDECK_BENCH_APPS, default
// 500,2000), then, side by side in one run, the median of 5 of
// `stagedeck status -o json` and `argocd app list -o json` (wall time and
// peak RSS) and of the console's first paint at 120x40 (process start to
// the first app row), cold (no board cache) and warm, with its RSS after
// STAGEDECK_BENCH_WATCH (default 10s) of live watch. Run it through
// scripts/bench-scale.sh; it is not part of CI. The script measures both
// programs as their releases are built (STAGEDECK_BENCH_STAGEDECK,
// STAGEDECK_BENCH_ARGOCD); without them, the tier's own builds.
func BenchmarkScale(b *testing.B) {
	stagedeck, argocdCLI := env.stagedeck, filepath.Join(env.argoBin, "argocd")
	if v := os.Getenv("STAGEDECK_BENCH_STAGEDECK"); v != "" {
		stagedeck = v
	}
	if v := os.Getenv("STAGEDECK_BENCH_ARGOCD"); v != "" {
		argocdCLI = v
	}
	counts := os.Getenv("STAGEDECK_BENCH_APPS")
	if counts == "" {
		counts = "500,2000"
	}
	watch := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("STAGEDECK_BENCH_WATCH")); err == nil {
		watch = d
	}
	if _, err := env.commitPush("bench: one web app", map[string]string{"bench/web/configmap.yaml": webManifest("bench", "1")}); err != nil {
		b.Fatal(err)
	}
	// Each config has a cache directory of its own: a new one is a cold start.
	benchCfg := func() string {
		cfg := env.configAs(env.adminConfig, "")
		data, _ := os.ReadFile(cfg)
		if err := os.WriteFile(cfg, append(data, "  - {name: bench, path: bench}\n"...), 0o644); err != nil {
			b.Fatal(err)
		}
		return cfg
	}
	cfg := benchCfg()
	fmt.Printf("\n| apps | stagedeck cold | stagedeck warm | console RSS after %s | status -o json | argocd app list -o json | status peak | argocd peak |\n|---|---|---|---|---|---|---|---|\n", watch)
	made := 0
	for _, f := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("STAGEDECK_BENCH_APPS: %v", err)
		}
		made = createBenchApps(b, made, n)
		total := waitListed(b)
		var status, argocd, statusRSS, argocdRSS, colds, warms []float64
		var rss, anon float64
		for i := 0; i < 5; i++ {
			s, sr := timed(b, stagedeck, "status", "--config", cfg, "-o", "json")
			a, ar := timed(b, argocdCLI, "app", "list", "-o", "json", "--config", env.adminConfig)
			status, statusRSS, argocd, argocdRSS = append(status, s), append(statusRSS, sr), append(argocd, a), append(argocdRSS, ar)
		}
		for i := 0; i < 5; i++ {
			cold := benchCfg()
			run := func() (float64, *termtest.Term) {
				start := time.Now()
				tm := termtest.Start(b, stagedeck, 120, 40, env.stagedeckEnv(), "--config", cold)
				for !strings.Contains(tm.Screen(), "itg-web") { // the first app row
					if time.Since(start) > time.Minute {
						b.Fatalf("no app row in a minute:\n%s", tm.Screen())
					}
					time.Sleep(time.Millisecond)
				}
				return float64(time.Since(start).Milliseconds()), tm
			}
			c, tm := run()
			if i == 0 {
				time.Sleep(watch)
				rss, anon = vmRSS(b, tm.Pid())
			}
			tm.Send("q")
			_ = tm.Exit(10 * time.Second)
			w, tm := run()
			tm.Send("q")
			_ = tm.Exit(10 * time.Second)
			colds, warms = append(colds, c), append(warms, w)
		}
		ms, ma := median(status), median(argocd)
		fmt.Printf("| %d | %.0f ms | %.0f ms | %.0f MB (%.0f MB private) | %.0f ms (%.2fx) | %.0f ms | %.0f MB | %.0f MB |\n",
			total, median(colds), median(warms), rss, anon, ms, ms/ma, ma, median(statusRSS), median(argocdRSS))
	}
}

// createBenchApps adds Applications bench-svc<from>..<to-1>: manual, all
// from bench/web (the repo server renders it once), never synced.
func createBenchApps(b testing.TB, from, to int) int {
	for lo := from; lo < to; lo += 250 {
		var y strings.Builder
		for i := lo; i < min(lo+250, to); i++ {
			fmt.Fprintf(&y, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: bench-svc%04d, namespace: argocd}
spec:
  project: default
  source: {repoURL: "file://%s", path: bench/web, targetRevision: main}
  destination: {server: "https://kubernetes.default.svc", namespace: bench}
---
`, i, env.bare)
		}
		if err := env.kubectlApply(y.String()); err != nil {
			b.Fatal(err)
		}
	}
	return to
}

// waitListed waits until Argo CD has compared every app once and returns
// how many it lists.
func waitListed(b testing.TB) int {
	deadline := time.Now().Add(15 * time.Minute)
	for {
		res, err := env.api("GET", "/api/v1/applications?fields=items.metadata.name,items.status.sync.status", env.token, nil)
		if err != nil {
			b.Fatal(err)
		}
		items, _ := res["items"].([]any)
		compared := 0
		for _, it := range items {
			st, _ := it.(map[string]any)["status"].(map[string]any)
			if sync, _ := st["sync"].(map[string]any); sync != nil && sync["status"] != nil && sync["status"] != "" {
				compared++
			}
		}
		if compared == len(items) {
			return len(items)
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d apps compared after 15 minutes", compared, len(items))
		}
		time.Sleep(2 * time.Second)
	}
}

// timed runs a command to completion: wall milliseconds and peak RSS (MB).
func timed(b *testing.B, name string, args ...string) (float64, float64) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", name}, args...)...)
	cmd.Env = append(os.Environ(), env.stagedeckEnv()...)
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %v: %v %s", name, args, err, errb.String())
	}
	wall := float64(time.Since(start).Milliseconds())
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	kb, _ := strconv.ParseFloat(lines[len(lines)-1], 64)
	return wall, kb / 1024
}

// vmRSS is a process's resident set now, and the private (anonymous)
// part of it, in MB. The rest is the binary's pages, shared with every
// other stagedeck and kept in the page cache.
func vmRSS(b *testing.B, pid int) (rss, anon float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				rss = kb / 1024
			case "RssAnon:":
				anon = kb / 1024
			}
		}
	}
	return rss, anon
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// TestHoldFleet keeps the tier up with N bench apps for profiling by hand:
// STAGEDECK_E2E_HOLD=2000:20m go test -tags realargo -run '^TestHoldFleet$'
// prints a stagedeck config to run against it, then holds for the duration.
func TestHoldFleet(t *testing.T) {
	n, d, ok := strings.Cut(os.Getenv("STAGEDECK_E2E_HOLD"), ":")
	if !ok {
		t.Skip("STAGEDECK_E2E_HOLD=apps:duration holds a fleet for profiling")
	}
	apps, err := strconv.Atoi(n)
	if err != nil {
		t.Fatal(err)
	}
	hold, err := time.ParseDuration(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.commitPush("bench: one web app", map[string]string{"bench/web/configmap.yaml": webManifest("bench", "1")}); err != nil {
		t.Fatal(err)
	}
	createBenchApps(t, 0, apps)
	waitListed(t)
	cfg := env.configAs(env.adminConfig, "")
	data, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(data, "  - {name: bench, path: bench}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("realargo: holding %d apps for %s: stagedeck --config %s (XDG_CACHE_HOME, ARGOCD_SERVER= as in stagedeckEnv)\n", apps, hold, cfg)
	time.Sleep(hold)
}
