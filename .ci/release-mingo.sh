#!/usr/bin/env bash
# Oldest-Go check: each published module's go directive is the oldest Go it
# builds and passes its tests with. Runs "go test ./..." of the root module,
# stores/pgstore and stores/redisstore with the Go release their go.mod names
# (GOTOOLCHAIN=go1.X.Y: the go command downloads that toolchain from the
# module proxy once, into the module cache).
#
# Usage: bash .ci/release-mingo.sh
# The stores' tests use $BEECLOUD_POSTGRES and $BEECLOUD_REDIS like the main
# test run (.ci/services.sh); without them they skip, unless CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/beecloud-mingo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# godirective prints a module's go directive as a toolchain release: 1.24
# means the release go1.24.0.
godirective() {
  local v
  v=$(awk '$1 == "go" { print $2; exit }' "$1/go.mod")
  case $v in
    *.*.*) echo "$v" ;;
    *) echo "$v.0" ;;
  esac
}

status=0
for dir in . stores/pgstore stores/redisstore; do
  v=$(godirective "$dir")
  start=$SECONDS
  # A workspace of the module and, for a store, the root module from this
  # checkout, at the module's own go version: go.work must not ask for a
  # newer Go. The stores require the root at its release, which may not be
  # published yet: like go.work, resolve that version here.
  rootver=$(awk '$1 == "github.com/paybutton/beecloud" { print $2 }' stores/pgstore/go.mod)
  {
    echo "go $v"
    echo "use $repo"
    [ "$dir" = . ] || echo "use $repo/$dir"
    echo "replace github.com/paybutton/beecloud $rootver => $repo"
  } >"$tmp/go.work"
  if (cd "$dir" && GOWORK="$tmp/go.work" GOTOOLCHAIN="go$v" GOFLAGS=-mod=readonly \
    go test -count=1 ./... >"$tmp/out" 2>&1); then
    echo "ok   $dir with go$v ($((SECONDS - start))s)"
  else
    cat "$tmp/out"
    echo "FAIL $dir with go$v: raise its go directive, or make it build and pass there" >&2
    status=1
  fi
done
exit "$status"
