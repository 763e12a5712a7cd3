#!/usr/bin/env bash
# The release tarball works on its own: unpacks dist/swift-presence-<version>-linux-<arch>.tar.gz
# (scripts/make-dist.sh; `make test-dist` builds it first) into a fresh temporary directory,
# checks its .sha256 and SHA256SUMS, checks that bin/presence loads the bundled libnats, runs
# `bin/presence --version`, then starts a standalone `serve --dev` node from it in a clean
# environment (env -i, no project around it, every port assigned by the OS), waits for
# /health/ready, writes and reads a presence with a dev token, and stops it with SIGTERM:
# it must exit 0 and must have run the bundled bin/nats-server.
#   tests/dist/tarball_test.sh [TARBALL]
set -euo pipefail
cd "$(dirname "$0")/../.."

TARBALL=${1:-$(scripts/make-dist.sh --path)}
VERSION=$(basename "$TARBALL" | sed -n 's/^swift-presence-\(.*\)-linux-[a-z0-9_]*\.tar\.gz$/\1/p')
fail() { echo "tarball test: FAIL: $*" >&2; exit 1; }
[ -f "$TARBALL" ] || fail "$TARBALL is missing (make dist)"
[ -n "$VERSION" ] || fail "cannot read the version from the name $TARBALL"
command -v curl >/dev/null || fail "needs curl"

WORK=$(mktemp -d)
NODE_PID=""
# Stops the node (SIGTERM, then after 10 s SIGKILL for it and its nats-server).
stop_node() {
  local children
  children=$(child_pids)
  kill -TERM "$NODE_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$NODE_PID" $children 2>/dev/null || true
  wait "$NODE_PID" 2>/dev/null || true
  NODE_PID=""
}
cleanup() {
  if [ -n "$NODE_PID" ]; then stop_node; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# The node's child processes (its nats-server).
child_pids() { cat /proc/"$NODE_PID"/task/*/children 2>/dev/null || true; }

(cd "$(dirname "$TARBALL")" && sha256sum --quiet -c "$(basename "$TARBALL").sha256") || fail "the tarball does not match its .sha256"
tar -xzf "$TARBALL" -C "$WORK"
[ "$(ls "$WORK")" = "swift-presence-$VERSION" ] || fail "the tarball's top directories are '$(ls "$WORK" | xargs)', not swift-presence-$VERSION"
TOP="$WORK/swift-presence-$VERSION"
(cd "$TOP" && sha256sum --quiet --strict -c SHA256SUMS) || fail "a file does not match SHA256SUMS"
LISTED=$(cut -c67- "$TOP/SHA256SUMS" | LC_ALL=C sort)
PRESENT=$(cd "$TOP" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort)
[ "$LISTED" = "$PRESENT" ] || fail "SHA256SUMS does not list exactly the files of the tarball"
for f in bin/presence bin/nats-server lib/libnats.so.3.4 LICENSE NOTICE README.md RELEASE.md BUILD-INFO config/standalone.yaml; do
  [ -e "$TOP/$f" ] || fail "$f is missing"
done

LIBS=$(ldd "$TOP/bin/presence")
LIBNATS=$(awk '$1 ~ /^libnats\.so/ { print $3 }' <<<"$LIBS")
[ -n "$LIBNATS" ] && [ "$(readlink -f "$LIBNATS")" = "$TOP/lib/libnats.so.3.4" ] \
  || fail "bin/presence loads libnats from '$LIBNATS', not the bundled lib/libnats.so.3.4"
[[ "$LIBS" != *"not found"* ]] || fail "bin/presence needs a library this machine lacks: $(grep 'not found' <<<"$LIBS" | xargs)"

# A clean environment: no PATH entry of the project's, no HOME, no PRESENCE_* of the caller.
clean_env() { env -i PATH=/usr/bin:/bin HOME="$WORK" "$@"; }
GOT=$(cd "$WORK" && clean_env "$TOP/bin/presence" --version)
[ "$GOT" = "$VERSION" ] || fail "bin/presence --version says '$GOT', the tarball's name $VERSION"
echo "tarball test: $(basename "$TARBALL") unpacked, SHA256SUMS checked, --version $GOT"

# Starts `serve --dev` from the unpacked tree (extra environment as arguments), sets NODE_PID
# and HTTP_PORT once /health/ready answers 200; returns 1 if it does not within 60 s.
start_node() {
  rm -rf "$WORK/data"
  (cd "$WORK" && exec env -i PATH=/usr/bin:/bin HOME="$WORK" PRESENCE_SERVICE_HTTP_HOST=127.0.0.1 "$@" \
    "$TOP/bin/presence" serve --dev --data-dir "$WORK/data" \
    --http-port 0 --nats-client-port 0 --leafnode-port 0) > "$WORK/node.log" 2>&1 &
  NODE_PID=$!
  HTTP_PORT=""
  for _ in $(seq 1 300); do
    kill -0 "$NODE_PID" 2>/dev/null || { wait "$NODE_PID" || true; NODE_PID=""; return 1; }
    [ -n "$HTTP_PORT" ] || HTTP_PORT=$(sed -n 's/.*HTTP server listening.*http_port=\([0-9]*\).*/\1/p' "$WORK/node.log" | head -1)
    if [ -n "$HTTP_PORT" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/health/ready")" = 200 ]; then
      return 0
    fi
    sleep 0.2
  done
  stop_node
  return 1
}

# The nats-server the node started: its child process's executable.
node_nats_server() {
  local child
  for child in $(child_pids); do
    readlink -f "/proc/$child/exe" 2>/dev/null || true
  done | grep nats-server | head -1
}

# No nats-server setting and a PATH without one: bin/presence runs the bin/nats-server beside it.
start_node || { tail -20 "$WORK/node.log" >&2; fail "the node did not become ready"; }
[ "$(node_nats_server)" = "$TOP/bin/nats-server" ] || fail "the node ran '$(node_nats_server)', not $TOP/bin/nats-server"
echo "tarball test: node ready on 127.0.0.1:$HTTP_PORT with $(node_nats_server | sed "s|$WORK/||")"

TOKEN=$(cd "$WORK" && clean_env "$TOP/bin/presence" token --sub alice --data-dir "$WORK/data")
URL="http://127.0.0.1:$HTTP_PORT/api/v2/presence/alice"
CODE=$(curl -s -o "$WORK/put.json" -w '%{http_code}' -X PUT "$URL" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"status":"busy","message":"from the tarball","ttl":60}')
[ "$CODE" = 200 ] || fail "PUT answered $CODE: $(cat "$WORK/put.json")"
BODY=$(curl -sf "$URL") || fail "GET failed"
case "$BODY" in *'"busy"'*'"from the tarball"'* | *'"from the tarball"'*'"busy"'*) ;; *) fail "GET answered $BODY" ;; esac
echo "tarball test: PUT 200, GET $BODY"

kill -TERM "$NODE_PID"
RC=0
wait "$NODE_PID" || RC=$?
NODE_PID=""
[ "$RC" = 0 ] || { tail -20 "$WORK/node.log" >&2; fail "the node exited $RC after SIGTERM, not 0"; }
echo "tarball test: SIGTERM, exit 0"
echo "tarball test: passed"
