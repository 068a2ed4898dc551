#!/usr/bin/env bash
# Builds (once) and caches the real Argo CD end-to-end tier's binaries:
# kube-apiserver and kubectl v1.31.14, Argo CD v2.14.21 (one multi-call
# binary), Helm v3.16.3, and with STAGEDECK_E2E_ARGOCD3 set Argo CD v3.2.11;
# installs etcd and redis from Debian when missing. Prints the cache
# directory. With STAGEDECK_E2E_SHARED_READY=FILE, touches FILE once Argo CD
# v2 is built (see below), while the rest may still be building.
#
# Kubernetes, Helm and Argo CD v3 are each built in their own module graph,
# as their project pins it. (Building kube-apiserver in Argo CD's graph
# would compile the packages both link once, but Argo CD's newer
# apimachinery and structured-merge-diff make that kube-apiserver panic on
# the first create of a custom resource.)
# Argo CD v2.14.21, the version stagedeck's own client links, is built with
# stagedeck's module graph's versions of what both use (the suite's
# replaces included) and with the suite's compiler flags, so that the
# ~1,170 packages both link compile once, not twice: about 450 CPU-seconds
# of a cold run. (Go's build cache shares a compile only when the package,
# its dependencies' versions and the flags are the same.)
# Two lanes build at the same time (Kubernetes, then Helm; Argo CD v2, then
# v3), so that one lane's downloads and links, which leave a core idle,
# overlap the other's compiles. Warm: instant.
set -euo pipefail
K8S=v1.31.14
ARGOCD=v2.14.21
ARGOCD3=v3.2.11
HELM=v3.16.3
CACHE=${STAGEDECK_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stagedeck-e2e}
BIN=$CACHE/bin-k8s$K8S-argocd$ARGOCD-helm$HELM
BIN3=$CACHE/bin-argocd$ARGOCD3
mkdir -p "$BIN"
log() { echo "realargo-deps: $*" >&2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Stripped binaries, built without the debug information nobody reads here.
# No -trimpath: it would change every compile's cache key (see above).
BUILDFLAGS="-ldflags=-s -gcflags=all=-dwarf=false"

build_k8s() {
  [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kubectl" ] && return 0
  log "building kube-apiserver and kubectl $K8S"
  local w=$CACHE/src-k8s-$K8S
  mkdir -p "$w"
  {
    echo "module stagedeck.local/k8s"
    echo "go 1.24"
    echo "require k8s.io/kubernetes $K8S"
    echo "replace ("
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
      cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client \
      csi-translation-lib dynamic-resource-allocation endpointslice kms kube-aggregator kube-controller-manager \
      kube-proxy kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver \
      sample-cli-plugin sample-controller; do
      echo "	k8s.io/$m => k8s.io/$m v0${K8S#v1}"
    done
    echo ")"
  } > "$w/go.mod"
  printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\t_ "k8s.io/kubectl/pkg/cmd"\n)\n' > "$w/tools.go"
  rm -rf "$w/out" && mkdir -p "$w/out"
  # One go build for both, so that their shared packages compile once.
  (cd "$w" && GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy >&2 &&
    go build $BUILDFLAGS -o "$w/out/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >&2)
  mv "$w/out/kubectl" "$BIN/kubectl"
  mv "$w/out/kube-apiserver" "$BIN/kube-apiserver"
  rm -rf "$w/out"
  log "kube-apiserver and kubectl built at ${SECONDS}s"
}

# build_argocd MODULE VERSION GOVERSION OUTDIR: Argo CD's multi-call binary
# (with its module's replace block), the component symlinks and its CRDs.
# A binary is in place only once everything it needs is, so a failed or
# stopped run leaves nothing that looks built.
build_argocd() {
  local mod=$1 version=$2 gover=$3 out=$4
  local w=$CACHE/src-argocd-$version
  local graph=""
  if [ "$(cd "$ROOT" && go list -m -f '{{.Version}}' "$mod" 2>/dev/null)" = "$version" ]; then
    # stagedeck links this version: take its graph's versions and replaces
    # (a superset of Argo CD's own replace block). So this Argo CD links
    # newer go-git, x/net, x/crypto... than its release did: the tier
    # tests Argo CD's code, with the libraries stagedeck ships.
    graph=$(cd "$ROOT" && go list -m -f '{{if not .Main}}require {{.Path}} {{.Version}}{{end}}' all &&
      go list -m -f '{{with .Replace}}replace {{$.Path}} => {{if .Version}}{{.Path}} {{.Version}}{{else}}{{.Dir}}{{end}}{{end}}' all)
    graph=$(grep . <<<"$graph")
  fi
  # A cached binary is used only if built from the same graph: a change to
  # stagedeck's module versions rebuilds it, so warm and cold runs test the
  # same build.
  local key=""
  if [ -n "$graph" ]; then key=$(sha256sum <<<"$graph" | cut -c1-16); fi
  [ -x "$out/argocd" ] && [ "$(cat "$out/argocd.key" 2>/dev/null)" = "$key" ] && return 0
  log "building Argo CD $version"
  mkdir -p "$w" "$out"
  # The module's go.mod through the Go toolchain: GOPROXY, GOFLAGS, GONOSUMDB
  # and GOPRIVATE apply as the user set them; no registry is named here.
  local gomod
  gomod=$(cd "$CACHE" && go mod download -json "$mod@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -n "$gomod" ] && [ -f "$gomod" ] || { log "go mod download $mod@$version gave no go.mod"; exit 1; }
  cp "$gomod" "$w/argocd.mod" && chmod u+w "$w/argocd.mod"
  {
    echo "module stagedeck.local/argocd"
    echo "go $gover"
    echo "require $mod $version"
    if [ -n "$graph" ]; then
      echo "$graph"
    else
      sed -n '/^replace (/,/^)/p' "$w/argocd.mod"
    fi
  } > "$w/go.mod"
  printf 'package tools\n\nimport _ "%s/cmd"\n' "$mod" > "$w/tools.go"
  (cd "$w" && GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy >&2 &&
    go build $BUILDFLAGS -o "$out/argocd.new" "$mod/cmd" >&2)
  for n in argocd-server argocd-repo-server argocd-application-controller; do ln -sf argocd "$out/$n"; done
  # The CRDs of this exact version, from the module cache.
  local dir
  dir=$(cd "$w" && go list -m -f '{{.Dir}}' "$mod")
  mkdir -p "$out/crds" && cp "$dir"/manifests/crds/*.yaml "$out/crds/" && chmod -R u+w "$out/crds"
  mv "$out/argocd.new" "$out/argocd"
  echo "$key" >"$out/argocd.key"
  log "Argo CD $version built at ${SECONDS}s"
}

build_helm() {
  [ -x "$BIN/helm" ] && return 0
  log "building helm $HELM"
  GOBIN="$BIN" go install $BUILDFLAGS "helm.sh/helm/v3/cmd/helm@$HELM" >&2
  log "helm built at ${SECONDS}s"
}

# etcd, redis and openssl for the tier.
need_apt=()
command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || need_apt+=(etcd-server)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v openssl >/dev/null || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >&2
  # Debian starts redis as a service; the tier runs its own.
  (service redis-server stop || true) >/dev/null 2>&1
fi

# Each lane is its own process group, so that stopping this script stops
# its builds.
set -m
# (Steps on their own lines: on the left of && a function runs without
# set -e, and a failed build would carry on.)
lane1="" lane2=""
trap 'for l in $lane1 $lane2; do kill -- -"$l" 2>/dev/null || true; done' EXIT
trap 'exit 1' INT TERM
(
  build_k8s
  build_helm
) &
lane1=$!
(
  build_argocd github.com/argoproj/argo-cd/v2 "$ARGOCD" 1.24 "$BIN"
  # The packages stagedeck shares with it are compiled now.
  if [ -n "${STAGEDECK_E2E_SHARED_READY:-}" ]; then touch "$STAGEDECK_E2E_SHARED_READY"; fi
  if [ -n "${STAGEDECK_E2E_ARGOCD3:-}" ]; then build_argocd github.com/argoproj/argo-cd/v3 "$ARGOCD3" 1.25.5 "$BIN3"; fi
) &
lane2=$!
failed=0
wait "$lane1" || failed=1
wait "$lane2" || failed=1
trap - EXIT
[ "$failed" = 0 ] || { log "a build failed (above)"; exit 1; }
# Last line: the main bin dir; with STAGEDECK_E2E_ARGOCD3 the line before is v3's.
if [ -n "${STAGEDECK_E2E_ARGOCD3:-}" ]; then echo "$BIN3"; fi
echo "$BIN"
