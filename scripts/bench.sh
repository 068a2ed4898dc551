#!/usr/bin/env bash
# Benchmarks behind the figures in the README and closing notes.
# Speed: several iterations each. Peak RSS: one iteration per process, since
# VmHWM only ever grows within a process.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== opsrepo walk vs git CLI (20,000 commits, 5 stages x 100 apps)"
go test ./opsrepo/ -run '^$' -bench . -benchtime 10x | grep -E '^Benchmark'
echo "== peak RSS of one walk in a fresh process"
for b in 'LastChanges$' 'LastChangesDeep$' 'Pending$'; do
  go test ./opsrepo/ -run '^$' -bench "$b" -benchtime 1x | grep -E '^Benchmark'
done
echo "== board rendering and diff"
go test ./tui/ -run "^$" -bench . -benchmem | grep -E "^Benchmark"
echo "== a 10 MB values-file diff"
go test ./patch/ -run '^$' -bench . -benchtime 5x | grep -E '^Benchmark'
echo "== first paint of the console (process start to first frame, in a pty)"
go test ./e2e/ -run '^$' -bench FirstPaint -benchtime 10x | grep -E '^Benchmark'
if [ "${STAGEDECK_BENCH_SCALE:-}" = 1 ]; then
  echo "== fleet scale on the real tier (500 and 2,000 apps)"
  scripts/bench-scale.sh
else
  echo "== fleet scale: set STAGEDECK_BENCH_SCALE=1 to run scripts/bench-scale.sh (real tier, some minutes)"
fi
echo "== board build, Argo CD list, watch fan-out and a 500-event burst at 2,000 apps"
go test ./board/ ./argo/ ./feed/ ./tui/ -run '^$' -bench 'Collect2000|List2000|FanOutBurst|FleetBurst' -benchmem | grep -E '^Benchmark'
