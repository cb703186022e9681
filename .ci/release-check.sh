#!/usr/bin/env bash
# Release check: proves that a user can install this release with the go
# command alone, with no go.work and no replace directive to help.
#
# Usage: bash .ci/release-check.sh [REV]
#   REV       the commit to release (default HEAD); "worktree" takes the
#             working tree's tracked and untracked, not ignored, files
#   RELEASE_VERSION (env) the version to publish (default below; RELEASING.md)
#
# It builds a file-based module proxy (GOPROXY=file://…) holding the root
# module and the two stores at RELEASE_VERSION, zipped by the module zip
# rules (.ci/modproxy, golang.org/x/mod/zip). Then, in a fresh module outside
# the workspace, with its own module cache, it "go get"s beecloud,
# beecloudtest, stores/pgstore and stores/redisstore from that proxy (every
# other module comes from the real proxy, checked against the checksum
# database as usual), builds and runs a program that imports all four, and
# "go install"s cmd/beecloud@RELEASE_VERSION and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

RELEASE_VERSION=${RELEASE_VERSION:-v0.1.0}
rev=${1:-HEAD}
root=github.com/paybutton/beecloud
start=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/beecloud-release.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The source tree as the go command would fetch it from the repository at
# the release tag: committed files only.
mkdir "$tmp/src"
if [ "$rev" = worktree ]; then
  git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -x -C "$tmp/src"
  stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
else
  git archive --format=tar "$rev" | tar -x -C "$tmp/src"
  stamp=$(git log -1 --format=%cI "$rev")
fi
echo "release check: $root $RELEASE_VERSION from $rev"

# The proxy. modproxy is built from this checkout (not from REV), in its own
# module with a pinned golang.org/x/mod.
(cd .ci/modproxy && GOWORK=off GOFLAGS=-mod=readonly go build -o "$tmp/modproxy" .)
status=0
"$tmp/modproxy" -src "$tmp/src" -out "$tmp/proxy" -version "$RELEASE_VERSION" -time "$stamp" \
  "$root=." \
  "$root/stores/pgstore=stores/pgstore" \
  "$root/stores/redisstore=stores/redisstore" || status=1

# A user's environment: no workspace, no vendoring, our modules from the
# file proxy (they are not in the checksum database yet), everything else
# from the local module cache or the real proxy. A module cache of its own
# keeps these zips out of the developer's cache.
cache=$(go env GOMODCACHE)
GOPROXY="file://$tmp/proxy,file://$cache/cache/download,$(go env GOPROXY)"
export GOPROXY GOWORK=off GOFLAGS="-mod=mod -modcacherw -trimpath" \
  GONOSUMDB=github.com/paybutton GOPRIVATE= GONOPROXY= \
  GOMODCACHE="$tmp/modcache" GOBIN="$tmp/bin" GOTOOLCHAIN=local

# user runs one command of the user's, quietly unless it fails.
user() {
  local t0=$SECONDS
  if ! "$@" >"$tmp/out" 2>&1; then
    cat "$tmp/out" >&2
    echo "release check: FAILED: $*" >&2
    status=1
    return 1
  fi
  echo "  $(printf '%3d' $((SECONDS - t0)))s  $*"
}

mkdir "$tmp/shop"
cd "$tmp/shop"
cat >main.go <<'EOF'
// A user's program: it imports the SDK, its test helpers and both stores.
package main

import (
	"fmt"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/paybutton/beecloud/stores/redisstore"
)

var (
	_ beecloud.Store = (*pgstore.Store)(nil)
	_ beecloud.Store = (*redisstore.Store)(nil)
	_                = beecloudtest.NewSandbox
)

func main() {
	fmt.Println(len(beecloud.NewOutTradeNo()))
}
EOF
go mod init example.com/shop >/dev/null 2>&1
# First the stores alone, as a user who adds one to a project: they must
# bring the root module at the release, not a version that does not exist.
if user go get "$root/stores/pgstore@$RELEASE_VERSION" "$root/stores/redisstore@$RELEASE_VERSION" &&
  user go get "$root@$RELEASE_VERSION" "$root/beecloudtest@$RELEASE_VERSION"; then
  # Each of our modules resolves to the release, from the zips.
  for m in "$root" "$root/stores/pgstore" "$root/stores/redisstore"; do
    got=$(go list -m -f '{{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}' "$m")
    if [ "$got" != "$RELEASE_VERSION" ]; then
      echo "release check: FAILED: $m resolves to $got; want $RELEASE_VERSION" >&2
      status=1
    fi
  done
  user go mod verify >/dev/null
  user go vet . &&
    user go build -o shop . &&
    { out=$(./shop) && [ "$out" = 32 ] || { echo "release check: FAILED: the program printed $out; want 32" >&2; status=1; }; }
fi

# go install cmd@version refuses a module with replace directives, and
# builds the command exactly as a user gets it.
cd "$tmp"
if user go install "$root/cmd/beecloud@$RELEASE_VERSION"; then
  # The example from "beecloud sign -h".
  sign=$("$tmp/bin/beecloud" sign -app-id c5d1cba1-5e3f-4ba0-941d-9b0a371fe719 \
    -app-secret 39a7a518-9ac8-4a9e-87bc-7885f33cf18c -title test -amount 1 -out-trade-no test0001) || sign="(exit $?)"
  if [ "$sign" != e68639606d2d0a99b2e2c8872729d004 ]; then
    echo "release check: FAILED: the installed beecloud sign printed $sign" >&2
    status=1
  fi
fi

if [ "$status" = 0 ]; then
  echo "release check: ok ($((SECONDS - start))s): go get, build, run and go install at $RELEASE_VERSION"
else
  echo "release check: FAILED ($((SECONDS - start))s)" >&2
fi
exit "$status"
