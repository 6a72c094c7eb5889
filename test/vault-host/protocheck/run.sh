#!/usr/bin/env bash
# Checks that a directory of our .proto files (default: the repository's
# proto/) is wire-compatible with the SDK the Go host links; prints the report.
#
#   bash run.sh [PROTO_DIR]     exit 0 compatible, 1 differences, 2 could not run
#
# Our side is compiled by the same buf that generates the TypeScript
# (node_modules/.bin/buf, installed by `npm ci`). The checker is `go run`
# in its own module; Go caches the built program, so only the first run
# compiles the SDK.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PROTO_DIR="$(cd "${1:-$ROOT/proto}" && pwd)"
BUF="$ROOT/node_modules/.bin/buf"
GO="$(command -v go || echo /usr/local/go/bin/go)"

[ -x "$BUF" ] || { echo "run.sh: $BUF missing; run npm ci" >&2; exit 2; }
[ -x "$GO" ] || { echo "run.sh: no Go toolchain (go on PATH or /usr/local/go/bin/go)" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Only our files (imports are the well-known types), with source info so the
# report can give line numbers.
"$BUF" build "$PROTO_DIR" --exclude-imports --as-file-descriptor-set -o "$TMP/ours.binpb" || exit 2

cd "$HERE"
# -mod=readonly: go.mod/go.sum are the pinned versions; never rewrite them here.
exec "$GO" run -mod=readonly . "$TMP/ours.binpb"
