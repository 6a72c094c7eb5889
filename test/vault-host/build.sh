#!/usr/bin/env bash
# Builds vault-host (and the Go test plugin) from Debian-packaged Go sources only.
#
#   bash build.sh            -> builds, prints the vault-host binary path on stdout
#
# Output goes to ${VAULT_HOST_CACHE:-$HOME/.cache/vault-plugin-secrets-postgres/vault-host}
# (a project-specific default, so this copy never shares a cache with another
# copy of vault-host that may be built from different sources):
#   vault-host            the conformance host
#   vault-host-testplugin the Go test plugin used by test.sh
# Generated protobuf code lives only in the cache (never in the source tree).
#
# Rebuilds are skipped when nothing changed: a sha256 over every input (this
# script, the Go and .proto sources, the installed Debian package versions and
# `go version`) is stored as <cache>/inputs.sha256 and compared on each run.
# Concurrent runs (e.g. parallel test files) are serialised with flock(1).
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${VAULT_HOST_CACHE:-$HOME/.cache/vault-plugin-secrets-postgres/vault-host}"
GOWORK_DIR="$CACHE/gopath"
PKG_DIR="$GOWORK_DIR/src/vaulthost"

log() { echo "[build] $*" >&2; }

# Serialise concurrent runs: they share the staging GOPATH and the outputs.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# ---------------------------------------------------------------------------
# 1. Debian packages (installed only when missing).
#    golang-goprotobuf-dev is deliberately not listed: it pulls protoc-gen-go-1-3,
#    which conflicts with protoc-gen-go; golang-github-golang-protobuf-1-5-dev
#    provides the github.com/golang/protobuf API that go-plugin 1.0.1 needs.
#    golang-github-hashicorp-hcl-dev is HCL v1, which Vault uses to parse
#    password policies. golang-github-mitchellh-mapstructure-dev (1.5.0, the
#    version Vault's SDK pins) decodes plugins' OpenAPI documents the way
#    framework.NewOASDocumentFromMap does.
# ---------------------------------------------------------------------------
PKGS=(
  golang-go
  golang-github-hashicorp-go-plugin-dev
  golang-github-hashicorp-go-hclog-dev
  golang-github-hashicorp-hcl-dev
  golang-github-mitchellh-mapstructure-dev
  golang-google-grpc-dev
  golang-google-protobuf-dev
  golang-github-golang-protobuf-1-5-dev
  protobuf-compiler
  protoc-gen-go
  protoc-gen-go-grpc
)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# ---------------------------------------------------------------------------
# 1b. Skip the build when every input is unchanged since the last success.
# ---------------------------------------------------------------------------
inputs_sha256() {
  {
    (cd "$SRC_DIR" && find . -type f \( -name '*.go' -o -name '*.proto' -o -name 'build.sh' \) -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum)
    dpkg-query -W -f='${Package} ${Version}\n' "${PKGS[@]}"
    go version
  } | sha256sum | cut -d' ' -f1
}
STAMP="$CACHE/inputs.sha256"
WANT="$(inputs_sha256)"
if [ -x "$CACHE/vault-host" ] && [ -x "$CACHE/vault-host-testplugin" ] \
   && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" == "$WANT" ]; then
  log "up to date ($CACHE)"
  echo "$CACHE/vault-host"
  exit 0
fi
rm -f "$STAMP"

# ---------------------------------------------------------------------------
# 2. Stage sources into a private GOPATH inside the cache.
# ---------------------------------------------------------------------------
rm -rf "$PKG_DIR"
mkdir -p "$PKG_DIR/gen/pb" "$PKG_DIR/gen/logical" "$PKG_DIR/gen/multiplexing"
cp "$SRC_DIR"/*.go "$PKG_DIR/"
mkdir -p "$PKG_DIR/testplugin"
cp "$SRC_DIR"/testplugin/*.go "$PKG_DIR/testplugin/"

# ---------------------------------------------------------------------------
# 3. Generate Go code from our .proto files.
# ---------------------------------------------------------------------------
PROTO_INC=/usr/include
log "generating protobuf code"
protoc -I "$SRC_DIR/proto" -I "$PROTO_INC" \
  --go_out="$GOWORK_DIR/src" --go-grpc_out="$GOWORK_DIR/src" \
  "$SRC_DIR/proto/logical.proto" "$SRC_DIR/proto/multiplexing.proto" "$SRC_DIR/proto/backend.proto"

# ---------------------------------------------------------------------------
# 4. Build in GOPATH mode against /usr/share/gocode (fully offline).
# ---------------------------------------------------------------------------
export GO111MODULE=off
export GOPATH="$GOWORK_DIR:/usr/share/gocode"
export GOFLAGS=""
export GOCACHE="$CACHE/go-build"
export GOPROXY=off
log "compiling"
(cd "$PKG_DIR" && go vet . ./testplugin >&2 || true)
# Build to temporary names and rename, so a host or plugin that is running
# from the cache keeps its binary and no reader ever sees a half-written file.
(cd "$PKG_DIR" && go build -o "$CACHE/vault-host.new" .)
(cd "$PKG_DIR/testplugin" && go build -o "$CACHE/vault-host-testplugin.new" .)
mv -f "$CACHE/vault-host.new" "$CACHE/vault-host"
mv -f "$CACHE/vault-host-testplugin.new" "$CACHE/vault-host-testplugin"
echo "$WANT" >"$STAMP"

echo "$CACHE/vault-host"
