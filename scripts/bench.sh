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
