#!/usr/bin/env bash
# Builds the local Kubernetes control plane that the export's end-to-end
# test runs against: kube-apiserver, kube-controller-manager and kubectl
# v1.37.2, and etcd v3.7.3, from the Go module proxy, into
# $HERDCTL_TEST_CACHE/kube/bin. Nothing is rebuilt while the binaries of
# these versions are there (a stamp file names them).
#
# k8s.io/kubernetes points its staging modules (k8s.io/api, k8s.io/client-go
# ...) at ./staging with replace lines, which do not apply to a module that
# requires it; so a module of our own requires k8s.io/kubernetes and
# replaces every staging module its go.mod lists with the matching v0.x
# release. etcd gets a module of its own, so that neither one's dependency
# versions move the other's.
#
# The first build takes 10-20 minutes and up to 3 GB of memory on 2 cores;
# it runs niced with one package at a time so that the machine stays usable.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
CACHE=${HERDCTL_TEST_CACHE:-/var/cache/herdctl-test}
OUT=$CACHE/kube/bin
STAMP=$OUT/.versions
want="kubernetes $KUBE_VERSION etcd $ETCD_VERSION"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
	[ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kube-controller-manager" ] &&
	[ -x "$OUT/kubectl" ] && [ -x "$OUT/etcd" ]; then
	echo "kube-testbin.sh: cached in $OUT ($want)"
	exit 0
fi

GO=${GO:-go}
command -v "$GO" >/dev/null 2>&1 || GO=/usr/local/go/bin/go
# The dependencies' own toolchain lines must not make go fetch another Go.
export GOTOOLCHAIN=local
export GOFLAGS="-buildvcs=false -trimpath -mod=mod -p=${KUBE_BUILD_P:-1}"
export CGO_ENABLED=0
mkdir -p "$OUT"

staging_minor=${KUBE_VERSION#v1.}
staging=v0.$staging_minor

# kube: the module that builds the three Kubernetes commands.
src=$CACHE/kube-src/kubernetes
mkdir -p "$src"
modfile=$(mktemp)
trap 'rm -f "$modfile"' EXIT
"$GO" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null
kmod=$("$GO" env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBE_VERSION.mod
{
	echo "module herdctl.test/kubetestbin"
	echo
	echo "go 1.26"
	echo
	echo "require k8s.io/kubernetes $KUBE_VERSION"
	echo
	echo "replace ("
	# Every "k8s.io/NAME => ./staging/src/k8s.io/NAME" of kubernetes' go.mod.
	sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$kmod"
	echo ")"
} >"$modfile"
if ! grep -q "k8s.io/api => k8s.io/api $staging" "$modfile"; then
	echo "kube-testbin.sh: found no staging replace lines in $kmod" >&2
	exit 1
fi
if ! cmp -s "$modfile" "$src/go.mod"; then
	cp "$modfile" "$src/go.mod"
	rm -f "$src/go.sum"
fi
kpkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
minor=${KUBE_VERSION#v1.}
minor=${minor%%.*}
ldflags="-s -w"
for kv in gitVersion=$KUBE_VERSION gitMajor=1 gitMinor=$minor gitTreeState=clean; do
	ldflags="$ldflags -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done
echo "kube-testbin.sh: building ${kpkgs[*]} $KUBE_VERSION into $OUT"
(cd "$src" && "$GO" get "${kpkgs[@]/%/@$KUBE_VERSION}" && nice -n 10 "$GO" build -ldflags="$ldflags" -o "$OUT/" "${kpkgs[@]}")

# etcd: go.etcd.io/etcd/server/v3 is itself the etcd command.
esrc=$CACHE/kube-src/etcd
mkdir -p "$esrc"
cat >"$modfile" <<EOF
module herdctl.test/etcdtestbin

go 1.26

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
if ! cmp -s "$modfile" "$esrc/go.mod"; then
	cp "$modfile" "$esrc/go.mod"
	rm -f "$esrc/go.sum"
fi
echo "kube-testbin.sh: building etcd $ETCD_VERSION into $OUT"
(cd "$esrc" && "$GO" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && nice -n 10 "$GO" build -ldflags="-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3)

echo "$want" >"$STAMP"
echo "kube-testbin.sh: ready in $OUT ($want)"
