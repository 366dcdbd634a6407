#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager (the suite runs its namespace controller) from the Go module
# k8s.io/kubernetes into a cache directory, for the end-to-end suite `npm run test:k8s`.
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, …) at v0.0.0 and replaces them
# with ./staging paths, which only work inside its own repository; the go.mod written here pins each of them by
# `replace` to the release matching KUBE_VERSION (v1.X.Y ↔ v0.X.Y), the same set kubernetes publishes together.
# A binary already in the cache is reused; delete the directory to rebuild. Prints the binaries' directory.
# Exit status 3 says "cannot be built on this machine" (no Go 1.23+, or no module proxy serving the release), as
# opposed to a build that failed.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.32.13}"
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
CACHE="${GATEHOUSE_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-k8s}/${KUBE_VERSION}"
COMMANDS=(kube-apiserver kube-controller-manager)
STAGING=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap
  code-generator component-base component-helpers controller-manager cri-api cri-client csi-translation-lib
  dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin
  sample-controller)
# Staging modules whose release the module proxy does not serve, pinned to the nearest one it does (used by
# kube-controller-manager's endpoint and endpointslice controllers only, which the suite does not run).
declare -A PINNED=()
[[ $KUBE_VERSION == v1.32.13 ]] && PINNED[endpointslice]=v0.32.12

missing=()
for command in "${COMMANDS[@]}"; do
  [[ -x "$CACHE/bin/$command" ]] || missing+=("$command")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$CACHE/bin"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go 1.23 or later is needed to build ${missing[*]}" >&2; exit 3; }
# k8s.io/kubernetes v1.32 needs Go 1.23 (Debian bookworm's golang-go is 1.19: use https://go.dev/dl/).
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [[ ! $go_minor =~ ^[0-9]+$ ]] || ((go_minor < 23)); then
  echo "build.sh: $(go env GOVERSION) is too old to build ${missing[*]}: Go 1.23 or later is needed" >&2
  exit 3
fi
if ! go list -m "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null 2>&1; then
  echo "build.sh: the Go module proxy ($(go env GOPROXY)) does not serve k8s.io/kubernetes@$KUBE_VERSION" >&2
  exit 3
fi
mkdir -p "$CACHE/module"
cd "$CACHE/module"
{
  echo "module gatehouse.dev/k8s-e2e-binaries"
  echo
  echo "go 1.23.0"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  for module in "${STAGING[@]}"; do echo "	k8s.io/$module => k8s.io/$module ${PINNED[$module]:-$STAGING_VERSION}"; done
  echo ")"
} >go.mod
# Blank imports of the commands keep `go mod tidy` resolving (and go.sum covering) everything they need.
{
  echo "//go:build tools"
  echo
  echo "package binaries"
  echo
  echo "import ("
  for command in "${COMMANDS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$command\""; done
  echo ")"
} >tools.go

export GOFLAGS=-trimpath GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
# What kube's own build stamps (hack/lib/version.sh): /version and kubectl's version skew check read it.
stamp=""
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  minor="${KUBE_VERSION#v1.}"
  stamp+=" -X $package.gitVersion=$KUBE_VERSION -X $package.gitMajor=1 -X $package.gitMinor=${minor%%.*}"
  stamp+=" -X $package.gitTreeState=clean"
done
start=$SECONDS
go mod tidy >&2
mkdir -p "$CACHE/bin"
for command in "${missing[@]}"; do
  go build -ldflags="-s -w $stamp" -o "$CACHE/bin/$command.partial" "k8s.io/kubernetes/cmd/$command" >&2
  mv "$CACHE/bin/$command.partial" "$CACHE/bin/$command"
done
echo "build.sh: built ${missing[*]} $KUBE_VERSION in $((SECONDS - start)) s" >&2
echo "$CACHE/bin"
