#!/usr/bin/env bash
# Makes the certificates for TLS between the nodes of the Kubernetes example (tls/, README.md
# "TLS between nodes") with openssl, and the two Secrets that carry them:
#   presence-center-tls  tls.crt, tls.key, ca.crt: the centers' certificate, for their leafnode
#                        port (name presence-leafnode) and their routes (presence-center-N.presence-center),
#                        both as server and as client
#   presence-leaf-tls    tls.crt, tls.key, ca.crt: the leaves' client certificate
# (the keys cert-manager gives a Certificate's Secret, so cert-manager can take this script's place).
# All signed by one CA made here (ca.key: keep it offline; it is never put into a Secret).
# A second run with the same OUT_DIR keeps that CA and makes new node certificates (renewal):
# apply the Secrets again, then restart the pods (nats-server reads the files at start).
#   deploy/kubernetes/make-node-certs.sh OUT_DIR [NAMESPACE [CENTERS]]
#     NAMESPACE (default presence) and CENTERS (default 3) go into the certificates' names.
#   kubectl -n presence apply -f OUT_DIR/node-tls-secrets.yaml
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
OUT=$1
NAMESPACE=${2:-presence}
CENTERS=${3:-3}
DAYS=825            # the node certificates'; the CA's is ten years
command -v openssl >/dev/null 2>&1 || { echo "make-node-certs: openssl is needed" >&2; exit 1; }
umask 077
mkdir -p "$OUT"

if [ -f "$OUT/ca.key" ] && [ -f "$OUT/ca.crt" ]; then
  echo "make-node-certs: keeping the CA in $OUT/ca.crt" >&2
else
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
    -subj "/O=swift-presence/CN=presence nodes CA ($NAMESPACE)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$OUT/ca.key" -out "$OUT/ca.crt" 2>/dev/null
fi

# node NAME USAGES SAN...: NAME.key and NAME.crt, signed by the CA.
node() {
  local name=$1 usages=$2; shift 2
  local sans; sans=$(printf 'DNS:%s,' "$@"); sans=${sans%,}
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -subj "/O=swift-presence/CN=$name" -keyout "$OUT/$name.key" -out "$OUT/$name.csr" 2>/dev/null
  openssl x509 -req -in "$OUT/$name.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
    -days "$DAYS" -out "$OUT/$name.crt" -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=$usages" "subjectAltName=$sans") 2>/dev/null
  rm -f "$OUT/$name.csr"
}
center_names=()
for suffix in "" ".$NAMESPACE.svc" ".$NAMESPACE.svc.cluster.local"; do
  center_names+=("presence-leafnode$suffix")
  for ((i = 0; i < CENTERS; i++)); do center_names+=("presence-center-$i.presence-center$suffix"); done
done
node presence-center serverAuth,clientAuth "${center_names[@]}"
node presence-leaf clientAuth presence-leaf

# The Secrets, without kubectl (base64 of each file).
secret() {
  local name=$1 files=$2 component=$3 file
  for file in "$OUT/$files.crt" "$OUT/$files.key" "$OUT/ca.crt"; do
    [ -s "$file" ] || { echo "make-node-certs: $file is missing" >&2; exit 1; }
  done
  cat <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: $name
  labels:
    app.kubernetes.io/name: presence
    app.kubernetes.io/component: $component
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 <"$OUT/$files.crt")
  tls.key: $(base64 -w0 <"$OUT/$files.key")
  ca.crt: $(base64 -w0 <"$OUT/ca.crt")
EOF
}
{
  echo "# Made by deploy/kubernetes/make-node-certs.sh for namespace $NAMESPACE: private keys, do not commit."
  secret presence-center-tls presence-center center
  echo "---"
  secret presence-leaf-tls presence-leaf leaf
} >"$OUT/node-tls-secrets.yaml"
echo "make-node-certs: wrote $OUT/node-tls-secrets.yaml (apply it with kubectl -n $NAMESPACE apply -f)" >&2
