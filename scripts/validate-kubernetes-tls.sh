#!/usr/bin/env bash
# Validates the TLS overlay of the Kubernetes example (deploy/kubernetes/tls/, README.md "TLS
# between nodes"), in a temporary directory:
#   1. deploy/kubernetes/make-node-certs.sh makes a CA, the centers' and the leaves' certificates
#      and their Secrets;
#   2. the example with tls/ applied over it and those Secrets passes scripts/validate-kubernetes.sh
#      (the Kubernetes schemas, and every *_file of the configuration is a key of the Secret
#      mounted where it points);
#   3. tls/10-configmap.yaml is ../10-configmap.yaml plus nats.leaf_tls (centers and leaves) and
#      nats.route_tls (centers), nothing else;
#   4. the certificates fit the configuration: the centers' is a server and client certificate
#      for every host the leaves (nats.hub_urls) and the routes (nats.cluster.routes) dial, the
#      leaves' a client certificate, both from the CA; and a real handshake (openssl s_server
#      and s_client) with a client certificate required works for a leaf and for a route.
# Needs openssl (installed with apt-get when missing) and the venv of scripts/validate-kubernetes.sh
# (which it runs first).
#   scripts/validate-kubernetes-tls.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=deploy/kubernetes
OVERLAY=$BASE/tls
PY=.tools/python-venv/bin/python

fail() { echo "validate-kubernetes-tls: FAILED: $*" >&2; exit 1; }
if ! command -v openssl >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "openssl is needed"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "Installing openssl (apt-get)..."
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openssl >/dev/null \
    || fail "cannot install openssl with apt-get"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/validate-kubernetes-tls.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. the certificates ---------------------------------------------------------------------
"$BASE/make-node-certs.sh" "$WORK/certs" presence 3 2>/dev/null || fail "$BASE/make-node-certs.sh failed"
CERTS=$WORK/certs

# --- 2. the example with the overlay ---------------------------------------------------------
mkdir "$WORK/kubernetes"
cp "$BASE"/*.yaml "$WORK/kubernetes/"
cp "$OVERLAY"/*.yaml "$WORK/kubernetes/"
cp "$CERTS/node-tls-secrets.yaml" "$WORK/kubernetes/05-node-tls-secrets.yaml"
scripts/validate-kubernetes.sh "$WORK/kubernetes" || fail "the example with $OVERLAY and the Secrets of make-node-certs.sh does not validate"

# --- 3. the overlay's ConfigMap against the example's; the hosts to check --------------------
HOSTS=$("$PY" - "$BASE/10-configmap.yaml" "$OVERLAY/10-configmap.yaml" <<'PY'
import sys
from urllib.parse import urlparse

import yaml

base, overlay = (yaml.safe_load(open(path, encoding="utf-8")) for path in sys.argv[1:3])
expected = {"center.yaml": {"leaf_tls", "route_tls"}, "leaf.yaml": {"leaf_tls"}}
problems, hosts = [], {"leaf": set(), "route": set()}
for name, base_text in (base.get("data") or {}).items():
    with_tls = yaml.safe_load((overlay.get("data") or {}).get(name, "")) or {}
    without = yaml.safe_load(base_text)
    nats = dict(with_tls.get("nats") or {})
    added = {key for key in expected.get(name, set()) if key in nats}
    if added != expected.get(name, set()):
        problems.append(f"{name}: the overlay must set nats.{' and nats.'.join(sorted(expected.get(name, set())))}")
    for key in added:
        if set(nats.pop(key) or {}) != {"cert_file", "key_file", "ca_file"}:
            problems.append(f"{name}: nats.{key} must have cert_file, key_file and ca_file")
    if {**with_tls, "nats": nats} != without:
        problems.append(f"{name}: differs from the example's by more than its TLS keys")
    hosts["leaf"].update(urlparse(u).hostname for u in nats.get("hub_urls") or [])
    hosts["route"].update(urlparse(u).hostname for u in (nats.get("cluster") or {}).get("routes") or [])
if set(overlay.get("data") or {}) != set(base.get("data") or {}):
    problems.append("the overlay's ConfigMap has other files than the example's")
if problems:
    sys.exit("validate-kubernetes-tls: " + "; ".join(problems))
for kind, names in hosts.items():
    for host in sorted(names):
        print(kind, host)
PY
) || fail "$OVERLAY/10-configmap.yaml is not the example's ConfigMap with TLS (see above)"
[ -n "$HOSTS" ] || fail "no hosts in the ConfigMap's hub_urls and routes"

# --- 4. the certificates against the configuration, and real handshakes ----------------------
PROBLEMS=0
check() { if ! "$@" >"$WORK/out" 2>&1; then echo "  failed: ${*##*/}" >&2; sed 's/^/    /' "$WORK/out" >&2; PROBLEMS=1; fi; }
check openssl verify -CAfile "$CERTS/ca.crt" -purpose sslclient "$CERTS/presence-leaf.crt"
check openssl verify -CAfile "$CERTS/ca.crt" -purpose sslclient "$CERTS/presence-center.crt"
while read -r kind host; do
  check openssl verify -CAfile "$CERTS/ca.crt" -purpose sslserver -verify_hostname "$host" "$CERTS/presence-center.crt"
done <<<"$HOSTS"

# handshake CLIENT HOST: the centers' certificate serving, a client certificate required.
handshake() {
  local client=$1 host=$2 port ok=0
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  openssl s_server -accept "127.0.0.1:$port" -quiet -cert "$CERTS/presence-center.crt" -key "$CERTS/presence-center.key" \
    -CAfile "$CERTS/ca.crt" -Verify 1 -verify_return_error </dev/null >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do   # until the server listens
    if echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$host" -verify_hostname "$host" \
        -CAfile "$CERTS/ca.crt" -cert "$CERTS/$client.crt" -key "$CERTS/$client.key" -verify_return_error -brief \
        >"$WORK/client.log" 2>&1; then
      ok=1
      break
    fi
    grep -qiE "connect:errno|connection refused" "$WORK/client.log" || break
    sleep 0.1
  done
  sleep 0.2
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  if [ "$ok" -ne 1 ]; then
    echo "  failed: a TLS handshake of $client with $host" >&2; sed 's/^/    /' "$WORK/client.log" >&2; PROBLEMS=1
  elif grep -qi "error" "$WORK/server.log"; then
    echo "  failed: the server side of $client's handshake with $host" >&2; sed 's/^/    /' "$WORK/server.log" >&2; PROBLEMS=1
  fi
}
handshake presence-leaf "$(awk '$1 == "leaf" { print $2; exit }' <<<"$HOSTS")"
handshake presence-center "$(awk '$1 == "route" { print $2; exit }' <<<"$HOSTS")"
[ "$PROBLEMS" -eq 0 ] || fail "the certificates of make-node-certs.sh do not fit the configuration of $OVERLAY"
echo "validate-kubernetes-tls: $OVERLAY with make-node-certs.sh's Secrets validates; the certificates cover the $(wc -l <<<"$HOSTS") hosts the leaves and routes dial, and a leaf's and a route's handshake work"
