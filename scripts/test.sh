#!/usr/bin/env bash
# The whole test suite: formatting, vet, every package's tests (unit, golden,
# gRPC fake, real git repositories, pseudo-terminal end-to-end flows).
# Faster edit loop: go test ./opsrepo/ ./argo/... ./board/ ./config/ ./tui/
set -euo pipefail
cd "$(dirname "$0")/.."
# Test binaries without DWARF (stack traces use the symbol table, not
# DWARF): about a tenth less compile and link work, cold and warm.
export GOFLAGS="${GOFLAGS:-} -gcflags=all=-dwarf=false -ldflags=-w"
command -v git >/dev/null || { echo "test.sh: git is required (apt-get install git)" >&2; exit 1; }
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:" >&2; echo "$unformatted" >&2; exit 1
fi
# The end-to-end tier against a real Argo CD (etcd, kube-apiserver, Argo CD,
# Redis, git on loopback), twice: Argo CD v2.14.21 (our client's version)
# and v3.2.11. Binaries are built once and cached by version. Both tiers run
# in the background while the unit tests run: they wait on Argo CD more than
# they compute, and CI stays within its 5 minutes warm on 2 cores.
tiers=()
if [ "${STAGEDECK_SKIP_REALARGO:-}" = 1 ]; then
  echo "test.sh: STAGEDECK_SKIP_REALARGO=1: skipping the real Argo CD tier" >&2
else
  # The tier's binaries build (cold: long; warm: instant) while the tier's
  # test binary compiles. Each job is its own process group: stopping one
  # (the trap below) stops what it started.
  set -m
  testdir=$(mktemp -d)
  depsout=$(mktemp)
  deps=""
  trap 'for t in "${tiers[@]}" "$deps:"; do [ -n "${t%%:*}" ] && kill -- -"${t%%:*}" 2>/dev/null || true; done; rm -rf "$testdir" "$depsout"' EXIT
  STAGEDECK_E2E_ARGOCD3=1 ./scripts/realargo-deps.sh >"$depsout" &
  deps=$!
  # Compiled once and run directly, so that stopping it reaches the tier,
  # which then stops every process it started.
  testbin="$testdir/realargo.test"
  go test -tags realargo -c -o "$testbin" ./e2e/realargo/
  echo "test.sh: tier test binary built at ${SECONDS}s" >&2
  wait "$deps" || { echo "test.sh: building the real tier's binaries failed" >&2; exit 1; }
  echo "test.sh: tier binaries ready at ${SECONDS}s" >&2
  bin=$(tail -n 1 "$depsout")
  argocd3=$(head -n 1 "$depsout")
  for argobin in "$bin" "$argocd3"; do
    log=$(mktemp)
    (cd e2e/realargo && STAGEDECK_E2E_BIN=$bin STAGEDECK_E2E_ARGOCD_BIN=$argobin exec "$testbin" -test.count=1 -test.timeout 40m -test.v) >"$log" 2>&1 &
    tiers+=("$!:$log:$(basename "$argobin")")
  done
  set +m
fi

# One pass each over every package, the tier's (tag realargo) included.
go vet -tags realargo ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags realargo ./...
# -vet=off: go vet ran above, on every package, with every check.
go test -count=1 -vet=off -timeout 20m ./...
# Redaction must fail closed on any input: a bounded fuzz run every time.
go test ./patch/ -run '^$' -fuzz '^FuzzRedact$' -fuzztime "${STAGEDECK_FUZZTIME:-30s}"

echo "test.sh: unit tests and fuzzing done at ${SECONDS}s; waiting for the real tiers"
failed=0
for t in "${tiers[@]}"; do
  pid=${t%%:*}; rest=${t#*:}; log=${rest%%:*}; name=${rest#*:}
  if wait "$pid"; then
    echo "== real Argo CD tier ($name)"
    grep -E '^(--- |PASS|realargo:)' "$log"
    rm -f "$log"
  else
    cat "$log"
    echo "test.sh: the real Argo CD tier failed ($name)" >&2
    failed=1
  fi
done
trap - EXIT
rm -rf "${depsout:-}" "${testdir:-}"
echo "test.sh: done in ${SECONDS}s"
exit "$failed"
