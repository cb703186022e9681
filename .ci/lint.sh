#!/usr/bin/env bash
# Runs golangci-lint (.golangci.yml at the root) in every module of go.work
# and in the CI tool module .ci/modproxy: golangci-lint works one module at a
# time. Usage: bash .ci/lint.sh   (needs golangci-lint v2 on PATH; .ci/run
# installs the pinned version)
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for dir in $(go list -m -f '{{.Dir}}') "$PWD/.ci/modproxy"; do
  rel=${dir#"$PWD"}
  echo "-- .$rel"
  gowork=
  [ "$dir" = "$PWD/.ci/modproxy" ] && gowork=off
  (cd "$dir" && GOWORK=${gowork:-$(go env GOWORK)} golangci-lint run ./...) || status=1
done
exit $status
