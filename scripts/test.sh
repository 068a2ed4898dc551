#!/usr/bin/env bash
# The whole test suite: formatting, vet, every package's tests (unit, golden,
# gRPC fake, real git repositories, pseudo-terminal end-to-end flows).
# Faster edit loop: go test ./opsrepo/ ./argo/... ./board/ ./config/ ./tui/
set -euo pipefail
cd "$(dirname "$0")/.."
command -v git >/dev/null || { echo "test.sh: git is required (apt-get install git)" >&2; exit 1; }
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
go test -count=1 -timeout 20m ./...
