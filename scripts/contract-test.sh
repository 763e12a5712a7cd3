#!/usr/bin/env bash
# Contract test: runs schemathesis (from PyPI) against a live node with a valid admin token.
# Every response must conform to openapi.yaml (status codes, content types, headers, bodies)
# and no generated input may produce a 5xx. Any finding fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${PRESENCE_BIN:-.build/debug/presence}
[ -x "$BIN" ] || swift build --product presence
if ! python3 -c 'import schemathesis' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check 'schemathesis>=4,<5' \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages 'schemathesis>=4,<5'
fi
schemathesis() { python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "st"; sys.exit(schemathesis())' "$@"; }

WORK=$(mktemp -d)
# The debug build carries coverage counters (make build): the node writes them here, not into the checkout.
export LLVM_PROFILE_FILE="$WORK/presence-%p.profraw"
HTTP_PORT=${CONTRACT_HTTP_PORT:-28080}
export JWT_SECRET=contract-test-secret-0123456789abcdef
export PRESENCE_NATS_CLIENT_PORT=${CONTRACT_NATS_PORT:-24222}
export PRESENCE_NATS_LEAFNODE_PORT=${CONTRACT_LEAF_PORT:-27422}
export PRESENCE_RATE_LIMIT_WRITES_PER_SECOND=100000
export PRESENCE_RATE_LIMIT_WRITE_BURST=100000
export PRESENCE_SERVICE_HTTP_HOST=127.0.0.1
export PRESENCE_LOG_LEVEL=warn

"$BIN" serve --data-dir "$WORK/data" --http-port "$HTTP_PORT" --node-id contract > "$WORK/service.log" 2>&1 &
PID=$!
cleanup() {
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/health/ready" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$HTTP_PORT/health/ready" >/dev/null || { cat "$WORK/service.log"; exit 1; }

TOKEN=$("$BIN" token --sub contract-admin --scope presence:admin --ttl 3600)

# The stream never ends by design, so it is left out of the generated requests (the test
# suite covers it); everything else is exercised with valid and invalid inputs.
schemathesis run "http://127.0.0.1:$HTTP_PORT/openapi.yaml" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path /api/v2/presence/stream \
  --max-examples "${CONTRACT_MAX_EXAMPLES:-60}" \
  --seed "${CONTRACT_SEED:-1}" \
  --request-timeout 5 \
  --suppress-health-check all
