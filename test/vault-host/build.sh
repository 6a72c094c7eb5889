#!/usr/bin/env bash
# Builds vault-host and its Go test plugin as a Go module (go.mod/go.sum in
# this directory) with the machine's Go toolchain.
#
#   bash build.sh            -> builds, prints the vault-host binary path on
#                               its last stdout line
#
# Output goes to <cache>/builds/<inputs sha256>/, where <cache> is
# ${VAULT_HOST_CACHE:-$HOME/.cache/vault-plugin-secrets-postgres/vault-host}
# and the sha256 is over the inputs (this script, the Go sources, go.mod,
# go.sum and `go version`):
#   vault-host             the conformance host
#   vault-host-testplugin  the Go test plugin used by test.sh
# So a build is skipped when nothing changed, and checkouts with different
# sources (worktrees, a CI clone) never replace each other's binaries while
# their tests run them. The newest few builds are kept.
#
# Needs Go >= 1.25 and, for the first build, the Go module proxy (modules go
# to the normal module cache; go.sum pins them, -mod=readonly keeps go.mod
# and go.sum untouched). Concurrent runs (parallel test files) are
# serialised with flock(1). Every build also runs `go vet`, which must find
# nothing.
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${VAULT_HOST_CACHE:-$HOME/.cache/vault-plugin-secrets-postgres/vault-host}"
MIN_GO_MINOR=25

log() { echo "[build] $*" >&2; }
die() { echo "[build] error: $*" >&2; exit 1; }

GO="$(command -v go || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
[ -n "$GO" ] || die "no Go toolchain found (need Go >= 1.$MIN_GO_MINOR on PATH or in /usr/local/go)"

# Never let go.mod's go line fetch another toolchain: use this one or fail.
export GOTOOLCHAIN=local
GO_VERSION="$("$GO" version)"
if [[ ! "$GO_VERSION" =~ go1\.([0-9]+) ]] || [ "${BASH_REMATCH[1]}" -lt "$MIN_GO_MINOR" ]; then
  die "Go >= 1.$MIN_GO_MINOR is required (OpenBao's SDK needs it); found: $GO_VERSION"
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# The Go files of this module: protocheck/ is a separate module.
go_sources() {
  (cd "$SRC_DIR" && find . -path ./protocheck -prune -o -type f -name '*.go' -print0 | LC_ALL=C sort -z)
}

inputs_sha256() {
  {
    (cd "$SRC_DIR" && go_sources | xargs -0 sha256sum && sha256sum build.sh go.mod go.sum)
    echo "$GO_VERSION"
  } | sha256sum | cut -d' ' -f1
}
OUT="$CACHE/builds/$(inputs_sha256)"
if [ -x "$OUT/vault-host" ] && [ -x "$OUT/vault-host-testplugin" ]; then
  touch "$OUT"
  log "up to date ($OUT)"
  echo "$OUT/vault-host"
  exit 0
fi

export GOFLAGS="-mod=readonly -buildvcs=false"
export GOCACHE="$CACHE/go-build"
cd "$SRC_DIR"
log "building with $GO_VERSION (the first build downloads modules)"
"$GO" vet ./... >&2 || die "go vet reported problems"
# Into a temporary directory, then renamed: no reader sees a half-written build.
rm -rf "$OUT.new"
"$GO" build -o "$OUT.new/vault-host" .
"$GO" build -o "$OUT.new/vault-host-testplugin" ./testplugin
rm -rf "$OUT"
mv "$OUT.new" "$OUT"

# Keep the newest builds; an older one may still be running elsewhere, but
# its files stay readable until that process ends.
KEEP_BUILDS=4
ls -1dt "$CACHE"/builds/*/ 2>/dev/null | tail -n +$((KEEP_BUILDS + 1)) | xargs -r rm -rf

echo "$OUT/vault-host"
