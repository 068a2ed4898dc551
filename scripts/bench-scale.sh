#!/usr/bin/env bash
# Fleet-scale figures on the real tier (not part of CI): brings up Argo CD
# (the realargo tier), creates N apps (STAGEDECK_BENCH_APPS, default
# 500,2000) and prints, side by side in one run, stagedeck's console first
# paint (cold and warm), its RSS under live watch, and `stagedeck status -o
# json` against `argocd app list -o json` (time and peak RSS).
# STAGEDECK_E2E_BIN / STAGEDECK_E2E_ARGOCD_BIN reuse built tier binaries.
set -euo pipefail
export STAGEDECK_BENCH_WATCH=${STAGEDECK_BENCH_WATCH:-10m} # the issue: RSS after 10 minutes of live watch
cd "$(dirname "$0")/.."
STAGEDECK_E2E_APP_RESYNC=${STAGEDECK_E2E_APP_RESYNC:-600} go test -tags realargo ./e2e/realargo/ -run '^$' -bench '^BenchmarkScale$' -benchtime 1x -timeout 60m -v |
  grep -E '^\|' || { echo "bench-scale: the run failed; rerun with -v for the log" >&2; exit 1; }
