#!/usr/bin/env bash
# Builds the Go peer offline from Debian's packages:
#
#   bench/peers/go/build.sh OUTPUT      e.g. bench/peers/go/build.sh build/peers/go-peer
#
# Needs golang-go (Go 1.19) and golang-github-jackc-pgx-v4-dev, whose sources Debian installs
# under /usr/share/gocode/src. The build uses GOPATH mode on that tree, so it needs no go.mod, no
# module proxy and no network. Running it again just rebuilds the binary.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTPUT" >&2
  exit 2
fi
out=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
gopath=/usr/share/gocode
install_hint="install them with: apt-get install -y golang-go golang-github-jackc-pgx-v4-dev"

if ! command -v go >/dev/null 2>&1; then
  echo "$0: the go command is missing; $install_hint" >&2
  exit 1
fi
if [ ! -d "$gopath/src/github.com/jackc/pgx/v4" ]; then
  echo "$0: pgx v4 is missing from $gopath/src; $install_hint" >&2
  exit 1
fi
# sync/atomic's typed integers need Go 1.19.
minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$minor" ] || [ "$minor" -lt 19 ]; then
  echo "$0: Go 1.19 or later is needed, found $(go env GOVERSION); $install_hint" >&2
  exit 1
fi

export GO111MODULE=off GOPATH=$gopath GOPROXY=off GOFLAGS= CGO_ENABLED=0
# The build cache goes where go puts it by default; a CI job without HOME gets one of its own.
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
  export GOCACHE=${TMPDIR:-/tmp}/go-peer-cache
fi
mkdir -p "$(dirname "$out")"
cd "$here"
go build -trimpath -o "$out" .
echo "built $out with $(go env GOVERSION)" >&2
