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
tierjob=""
if [ "${STAGEDECK_SKIP_REALARGO:-}" = 1 ]; then
  echo "test.sh: STAGEDECK_SKIP_REALARGO=1: skipping the real Argo CD tier" >&2
else
  # One background job builds the tier's binaries (cold: long; warm:
  # instant), then runs both tiers once the tier's test binary is there.
  # It is its own process group: stopping it (the trap below) stops what it
  # started.
  set -m
  testdir=$(mktemp -d)
  trap '[ -z "$tierjob" ] || kill -- -"$tierjob" 2>/dev/null || true; rm -rf "$testdir"' EXIT
  testbin="$testdir/realargo.test"
  (
    STAGEDECK_E2E_SHARED_READY="$testdir/shared.ready" STAGEDECK_E2E_ARGOCD3=1 \
      ./scripts/realargo-deps.sh >"$testdir/deps.out" || { touch "$testdir/deps.failed"; exit 1; }
    echo "test.sh: tier binaries ready at ${SECONDS}s" >&2
    # (Ends if test.sh is gone: killed outright, it ran no trap.)
    while [ ! -e "$testbin" ]; do kill -0 $$ 2>/dev/null || exit 1; sleep 1; done
    bin=$(tail -n 1 "$testdir/deps.out")
    argocd3=$(head -n 1 "$testdir/deps.out")
    pids=()
    for argobin in "$bin" "$argocd3"; do
      name=$(basename "$argobin")
      # Run directly (not through go test), so that stopping it reaches
      # the tier, which then stops every process it started.
      (cd e2e/realargo && STAGEDECK_E2E_BIN=$bin STAGEDECK_E2E_ARGOCD_BIN=$argobin \
        exec "$testbin" -test.count=1 -test.timeout 40m -test.v) >"$testdir/tier.$name.log" 2>&1 &
      pids+=("$!:$name")
    done
    for p in "${pids[@]}"; do
      rc=0; wait "${p%%:*}" || rc=$?
      echo "$rc" >"$testdir/tier.${p#*:}.rc"
    done
  ) &
  tierjob=$!
  set +m
  # Stagedeck's compiles wait for Argo CD v2's, which builds the ~1,170
  # packages both link (realargo-deps.sh says why): run at the same time,
  # both would compile them.
  while [ ! -e "$testdir/shared.ready" ] && kill -0 "$tierjob" 2>/dev/null; do sleep 1; done
  if [ -e "$testdir/deps.failed" ]; then echo "test.sh: building the real tier's binaries failed" >&2; exit 1; fi
  go test -tags realargo -c -o "$testbin.tmp" ./e2e/realargo/
  mv "$testbin.tmp" "$testbin"
  echo "test.sh: tier test binary built at ${SECONDS}s" >&2
fi

# One pass each over every package, the tier's (tag realargo) included.
go vet -tags realargo ./...
echo "test.sh: vet done at ${SECONDS}s" >&2
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags realargo ./...
echo "test.sh: staticcheck done at ${SECONDS}s" >&2
# -vet=off: go vet ran above, on every package, with every check.
go test -count=1 -vet=off -timeout 20m ./...
# Redaction must fail closed on any input: a bounded fuzz run every time.
go test ./patch/ -run '^$' -fuzz '^FuzzRedact$' -fuzztime "${STAGEDECK_FUZZTIME:-30s}"

echo "test.sh: unit tests and fuzzing done at ${SECONDS}s; waiting for the real tiers"
failed=0
if [ -n "$tierjob" ]; then
  wait "$tierjob" || { echo "test.sh: the real tier's job failed" >&2; failed=1; }
  tierjob=""
  if [ -e "$testdir/deps.failed" ]; then echo "test.sh: building the real tier's binaries failed" >&2; exit 1; fi
  for log in "$testdir"/tier.*.log; do
    [ -e "$log" ] || { echo "test.sh: the real tiers did not run" >&2; failed=1; break; }
    name=${log#"$testdir"/tier.}; name=${name%.log}
    if [ "$(cat "$testdir/tier.$name.rc" 2>/dev/null)" = 0 ]; then
      echo "== real Argo CD tier ($name)"
      grep -E '^(--- |PASS|realargo:)' "$log"
    else
      cat "$log"
      echo "test.sh: the real Argo CD tier failed ($name)" >&2
      failed=1
    fi
  done
fi
trap - EXIT
rm -rf "${testdir:-}"
echo "test.sh: done in ${SECONDS}s"
exit "$failed"
