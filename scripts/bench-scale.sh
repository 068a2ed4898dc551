#!/usr/bin/env bash
# Fleet-scale figures on the real tier (not part of CI): brings up Argo CD
# (the realargo tier), creates N apps (STAGEDECK_BENCH_APPS, default
# 500,2000) and prints, side by side in one run, stagedeck's console first
# paint (cold and warm), its RSS under live watch, and `stagedeck status -o
# json` against `argocd app list -o json` (time and peak RSS).
# STAGEDECK_E2E_BIN / STAGEDECK_E2E_ARGOCD_BIN reuse built tier binaries.
#
# Both programs are measured built as their releases are: without cgo,
# -trimpath, stripped (stagedeck's .goreleaser.yaml; Argo CD's release
# flags). A cgo build of either links Go's plugin package (kubectl's
# kustomize imports it), which exports every symbol for plugins to link
# against: each run then maps about 27 MB more of the binary. The argocd
# CLI is v2.14.21, built once (a few minutes) in the tier's workspace, so
# with stagedeck's versions of the modules both link (realargo-deps.sh),
# whichever Argo CD serves (STAGEDECK_E2E_ARGOCD_BIN).
set -euo pipefail
export STAGEDECK_BENCH_WATCH=${STAGEDECK_BENCH_WATCH:-10m} # the issue: RSS after 10 minutes of live watch
cd "$(dirname "$0")/.."
bin=${STAGEDECK_E2E_BIN:-$(scripts/realargo-deps.sh | tail -n1)}
rel=$(dirname "$bin")/bench-release
mkdir -p "$rel"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$rel/stagedeck" .
if [ ! -x "$rel/argocd" ] || [ "$(cat "$rel/argocd.key" 2>/dev/null)" != "$(cat "$bin/argocd.key")" ]; then
  echo "bench-scale: building the argocd CLI as Argo CD releases it" >&2
  (cd "$(dirname "$bin")/src-argocd-v2.14.21" &&
    CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod" go build -trimpath -ldflags "-s -w" -o "$rel/argocd" github.com/argoproj/argo-cd/v2/cmd)
  cp "$bin/argocd.key" "$rel/argocd.key"
fi
STAGEDECK_E2E_BIN=$bin STAGEDECK_BENCH_STAGEDECK=$rel/stagedeck STAGEDECK_BENCH_ARGOCD=$rel/argocd \
  STAGEDECK_E2E_APP_RESYNC=${STAGEDECK_E2E_APP_RESYNC:-600} go test -tags realargo ./e2e/realargo/ -run '^$' -bench '^BenchmarkScale$' -benchtime 1x -timeout 60m -v |
  grep -E '^\|' || { echo "bench-scale: the run failed; rerun with -v for the log" >&2; exit 1; }
