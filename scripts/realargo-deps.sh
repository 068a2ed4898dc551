#!/usr/bin/env bash
# Builds (once) and caches the real Argo CD end-to-end tier's binaries:
# kube-apiserver and kubectl v1.31.14, Argo CD v2.14.21 (one multi-call
# binary), Helm v3.16.3; installs etcd and redis from Debian when missing.
# Prints the cache directory. Cold: about 11 minutes on 2 cores; warm: instant.
set -euo pipefail
K8S=v1.31.14
ARGOCD=v2.14.21
HELM=v3.16.3
CACHE=${STAGEDECK_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stagedeck-e2e}
BIN=$CACHE/bin-k8s$K8S-argocd$ARGOCD-helm$HELM
mkdir -p "$BIN"
log() { echo "realargo-deps: $*" >&2; }

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

if [ ! -x "$BIN/kube-apiserver" ] || [ ! -x "$BIN/kubectl" ]; then
  log "building kube-apiserver and kubectl $K8S (about 6 minutes cold)"
  W=$CACHE/src-k8s-$K8S
  mkdir -p "$W"
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
  } > "$W/go.mod"
  printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n\t_ "k8s.io/kubectl/pkg/cmd"\n)\n' > "$W/tools.go"
  (cd "$W" && GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy >&2 && \
    go build -trimpath -ldflags=-s -o "$BIN/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2 && \
    go build -trimpath -ldflags=-s -o "$BIN/kubectl" k8s.io/kubernetes/cmd/kubectl >&2)
fi

# build_argocd MODULE VERSION GOVERSION OUTDIR: Argo CD's multi-call binary
# (with its module's replace block), the component symlinks and its CRDs.
build_argocd() {
  local mod=$1 version=$2 gover=$3 out=$4
  local w=$CACHE/src-argocd-$version
  log "building Argo CD $version (about 4 minutes cold)"
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
    sed -n '/^replace (/,/^)/p' "$w/argocd.mod"
  } > "$w/go.mod"
  printf 'package tools\n\nimport _ "%s/cmd"\n' "$mod" > "$w/tools.go"
  (cd "$w" && GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy >&2 && \
    go build -trimpath -ldflags=-s -o "$out/argocd" "$mod/cmd" >&2)
  for n in argocd-server argocd-repo-server argocd-application-controller; do ln -sf argocd "$out/$n"; done
  # The CRDs of this exact version, from the module cache.
  local dir
  dir=$(cd "$w" && go list -m -f '{{.Dir}}' "$mod")
  mkdir -p "$out/crds" && cp "$dir"/manifests/crds/*.yaml "$out/crds/" && chmod -R u+w "$out/crds"
}

[ -x "$BIN/argocd" ] || build_argocd github.com/argoproj/argo-cd/v2 "$ARGOCD" 1.24 "$BIN"

# A second Argo CD for the same suite: our v2.14 client against a v3 server.
ARGOCD3=v3.2.11
BIN3=$CACHE/bin-argocd$ARGOCD3
if [ -n "${STAGEDECK_E2E_ARGOCD3:-}" ] && [ ! -x "$BIN3/argocd" ]; then
  build_argocd github.com/argoproj/argo-cd/v3 "$ARGOCD3" 1.25.5 "$BIN3"
fi

if [ ! -x "$BIN/helm" ]; then
  log "building helm $HELM (about 1 minute cold)"
  GOBIN="$BIN" go install "helm.sh/helm/v3/cmd/helm@$HELM" >&2
fi
# Last line: the main bin dir; with STAGEDECK_E2E_ARGOCD3 the line before is v3's.
if [ -n "${STAGEDECK_E2E_ARGOCD3:-}" ]; then echo "$BIN3"; fi
echo "$BIN"
