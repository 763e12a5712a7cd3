#!/usr/bin/env bash
# Validates the Kubernetes example, so that it cannot silently rot:
#   1. every manifest in deploy/kubernetes/ against the Kubernetes API schemas, strictly (an
#      unknown or misspelled field is an error, and so is a kind or apiVersion the schemas do
#      not know), with the PyPI package kubernetes-validate, for the oldest Kubernetes the
#      example supports and the newest the package knows;
#   2. the example's own rules: every pod template has enableServiceLinks: false and probes on
#      /health/live (liveness) and /health/ready (readiness) at HTTP port 8080; every key in
#      the ConfigMap's YAML files and every PRESENCE_* variable a container sets is a key of
#      the configuration key table in docs/configuration.md; every ConfigMap, Secret key and
#      --config file a pod uses is defined in the directory; every Service selects pods here and
#      targets ports they declare, and some Service with publishNotReadyAddresses serves the
#      leaves' reads while their centers are away; the NetworkPolicies select pods here and
#      allow exactly HTTP from anywhere, the leafnode port from leaves, the route port from
#      centers (no pod declares the loopback-only NATS client port 4222); every *_file a
#      configuration file names is on a volume of the container (a Secret's key, when the
#      Secret is here; a Secret volume not here must be optional).
# kubernetes-validate goes into the shared venv .tools/python-venv (created with
# `python3 -m venv`, python3-venv from apt if missing) only when it is not there yet, so a
# second run is fast and offline. Exits non-zero naming every problem.
#   3. without a DIRECTORY argument, then scripts/validate-monitoring.sh (alert rules, dashboard,
#      ServiceMonitor, PrometheusRule) and scripts/validate-kubernetes-tls.sh (the tls/ overlay).
#   scripts/validate-kubernetes.sh [DIRECTORY]     (default: deploy/kubernetes)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${1:-deploy/kubernetes}
WHOLE_KIT=$(( $# == 0 ))
VENV=$ROOT/.tools/python-venv
VALIDATOR_VERSION=1.37.0
# The oldest Kubernetes the example is meant for, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS=(1.29.0 1.37.0)

fail() { echo "validate-kubernetes: FAILED: $*" >&2; exit 1; }

[ -d "$DIR" ] || fail "no directory $DIR"
mapfile -t FILES < <(find "$DIR" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
[ "${#FILES[@]}" -gt 0 ] || fail "no manifests (*.yaml) in $DIR"

# --- the validator, installed once ---------------------------------------------------------
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ! -x "$VENV/bin/python" ]; then
  PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3 || true)
  [ -n "$PY" ] || fail "python3 is needed (apt-get install python3)"
  echo "Creating $VENV..."
  mkdir -p "$ROOT/.tools"
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    echo "Installing python3-venv (apt-get)..."
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null \
      || fail "cannot install python3-venv with apt-get"
    "$PY" -m venv "$VENV" || fail "cannot create the venv $VENV"
  fi
fi
installed() {
  "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("kubernetes-validate") != sys.argv[1])' \
    "$VALIDATOR_VERSION" >/dev/null 2>&1
}
if ! installed; then
  echo "Installing kubernetes-validate $VALIDATOR_VERSION (PyPI) into $VENV..."
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "kubernetes-validate==$VALIDATOR_VERSION" \
    || fail "cannot install kubernetes-validate $VALIDATOR_VERSION with pip"
  installed || fail "kubernetes-validate $VALIDATOR_VERSION is still missing from $VENV after installing it"
fi

# --- 1. the Kubernetes schemas, strict -----------------------------------------------------
VERSION_ARGS=()
for version in "${KUBERNETES_VERSIONS[@]}"; do VERSION_ARGS+=(-k "$version"); done
# --quiet prints only problems. A kind or apiVersion without a schema is only a WARN with exit
# code 0 there (a misspelled kind would pass): any line printed at all is a failure here.
set +e
OUTPUT=$("$VENV/bin/kubernetes-validate" --strict --quiet "${VERSION_ARGS[@]}" "${FILES[@]}" 2>&1)
STATUS=$?
set -e
SCHEMAS_OK=1
if [ "$STATUS" -ne 0 ] || [ -n "$OUTPUT" ]; then
  printf '%s\n' "$OUTPUT" >&2
  echo "validate-kubernetes: the manifests in $DIR do not validate against the Kubernetes ${KUBERNETES_VERSIONS[*]} schemas (strict; kubernetes-validate exit code $STATUS, and any line it prints is a failure)" >&2
  SCHEMAS_OK=0
else
  echo "validate-kubernetes: ${#FILES[@]} files of $DIR are valid against the Kubernetes ${KUBERNETES_VERSIONS[*]} schemas (strict)"
fi

# --- 2. the example's own rules ------------------------------------------------------------
# (Also when step 1 failed, so that one run names every problem.)
set +e
"$VENV/bin/python" - "$DIR" "$ROOT/docs/configuration.md" "${FILES[@]}" <<'PY'
import os
import re
import sys

import yaml

directory, key_document, files = sys.argv[1], sys.argv[2], sys.argv[3:]
problems = []

# The configuration key table of docs/configuration.md, between its two markers: rows "| `service.http.port` | ...".
keys = set()
with open(key_document, encoding="utf-8") as f:
    text = f.read()
table = re.search(r"<!-- configuration keys:.*?-->(.*?)<!-- end of configuration keys -->", text, re.S)
if table:
    keys = set(re.findall(r"^\| `([a-z0-9_]+(?:\.[a-z0-9_]+)*)` \|", table.group(1), re.M))
if len(keys) < 10:
    sys.exit(f"validate-kubernetes: FAILED: cannot find the configuration key table in {key_document} "
             f"(rows \"| `key` | ...\" between <!-- configuration keys ... --> and <!-- end of configuration keys -->)")
environment_keys = {"PRESENCE_" + key.upper().replace(".", "_"): key for key in keys}

resources = []  # (file, resource)
for path in files:
    try:
        with open(path, encoding="utf-8") as f:
            documents = list(yaml.safe_load_all(f))
    except (OSError, yaml.YAMLError) as error:
        sys.exit(f"validate-kubernetes: {path}: cannot read it as YAML: {error}")
    for resource in documents:
        if not resource:
            continue
        if not isinstance(resource, dict) or not isinstance(resource.get("metadata"), dict):
            sys.exit(f"validate-kubernetes: {path}: every document must be a Kubernetes resource (a mapping with metadata)")
        resources.append((os.path.basename(path), resource))

def name_of(resource):
    return f"{resource.get('kind')}/{(resource.get('metadata') or {}).get('name')}"

config_maps = {r["metadata"].get("name"): r for _, r in resources if r.get("kind") == "ConfigMap"}
secrets = {r["metadata"].get("name"): r for _, r in resources if r.get("kind") == "Secret"}

def pod_spec(resource):
    kind, spec = resource.get("kind"), resource.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"):
        return (spec.get("template") or {}).get("spec") or {}
    if kind == "CronJob":
        return ((((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")) or {}
    return None

def port_number(container, port):
    if isinstance(port, int):
        return port
    for declared in container.get("ports") or []:
        if declared.get("name") == port:
            return declared.get("containerPort")
    return None

def check_probe(where, container, field, path):
    get = ((container.get(field) or {}).get("httpGet")) or {}
    if get.get("path") != path:
        problems.append(f"{where}: {field} must be an httpGet of {path} (it is {get.get('path') or 'missing'})")
    elif port_number(container, get.get("port")) != 8080:
        problems.append(f"{where}: {field} must probe HTTP port 8080 (port {get.get('port')!r})")

pod_templates = 0
config_users = {}  # (ConfigMap, file) -> [(where, container, volumes)] of the containers started with it
for file, resource in resources:
    spec = pod_spec(resource)
    if spec is None:
        continue
    pod_templates += 1
    where = f"{file}: {name_of(resource)}"
    if spec.get("enableServiceLinks") is not False:
        problems.append(
            f"{where}: the pod template must set enableServiceLinks: false (Kubernetes would inject "
            f"variables such as PRESENCE_PORT=tcp://10.0.0.1:8080 that look like PRESENCE_* configuration)")
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    for volume in volumes.values():
        config_map = (volume.get("configMap") or {}).get("name")
        if config_map is not None and config_map not in config_maps:
            problems.append(f"{where}: volume {volume.get('name')} uses ConfigMap {config_map}, which is not in {directory}")
    containers = spec.get("containers") or []
    if not containers:
        problems.append(f"{where}: no containers")
    for container in containers:
        cwhere = f"{where}, container {container.get('name')}"
        check_probe(cwhere, container, "livenessProbe", "/health/live")
        check_probe(cwhere, container, "readinessProbe", "/health/ready")
        for variable in container.get("env") or []:
            name = variable.get("name", "")
            if name.startswith("PRESENCE_") and name not in environment_keys:
                problems.append(f"{cwhere}: {name} names no configuration key of docs/configuration.md's table")
            secret_ref = (variable.get("valueFrom") or {}).get("secretKeyRef")
            if secret_ref:
                secret = secrets.get(secret_ref.get("name"))
                if secret is None:
                    problems.append(f"{cwhere}: {name} uses Secret {secret_ref.get('name')}, which is not in {directory}")
                elif secret_ref.get("key") not in {**(secret.get("data") or {}), **(secret.get("stringData") or {})}:
                    problems.append(f"{cwhere}: {name} uses key {secret_ref.get('key')} of Secret {secret_ref.get('name')}, which has none")
        # --config FILE: a file of a ConfigMap mounted at its folder.
        arguments = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        for index, argument in enumerate(arguments):
            if argument == "--config" and index + 1 < len(arguments):
                config = arguments[index + 1]
            elif argument.startswith("--config="):
                config = argument.split("=", 1)[1]
            else:
                continue
            folder, base = os.path.dirname(config), os.path.basename(config)
            mounts = [m for m in container.get("volumeMounts") or [] if m.get("mountPath", "").rstrip("/") == folder]
            config_map = None
            for mount in mounts:
                config_map = ((volumes.get(mount.get("name")) or {}).get("configMap") or {}).get("name")
            if config_map is None:
                problems.append(f"{cwhere}: --config {config}: no ConfigMap is mounted at {folder}")
            elif config_map in config_maps and base not in (config_maps[config_map].get("data") or {}):
                problems.append(f"{cwhere}: --config {config}: ConfigMap {config_map} has no {base}")
            else:
                config_users.setdefault((config_map, base), []).append((cwhere, container, volumes))
if pod_templates == 0:
    problems.append(f"no pod template (Deployment, StatefulSet, ...) in {directory}")

# --- Services and NetworkPolicies against the pods' labels and named ports -----------------
templates = []  # (where, labels, {port name: number}) of each pod template
for file, resource in resources:
    spec = pod_spec(resource)
    if spec is None:
        continue
    template = (resource.get("spec") or {}).get("template") or resource
    labels = ((template.get("metadata") or {}).get("labels")) or {}
    ports = {p.get("name"): p.get("containerPort") for c in spec.get("containers") or [] for p in c.get("ports") or []}
    templates.append((f"{file}: {name_of(resource)}", labels, ports))
    for number in ports.values():
        if number == 4222:
            problems.append(f"{file}: {name_of(resource)} declares port 4222: the NATS client port is on the pod's loopback only")

def selects(selector, labels):
    """A label selector (matchLabels/matchExpressions, or a Service's plain map) against labels."""
    if selector is None:
        return False
    match = selector.get("matchLabels", {} if "matchExpressions" in selector else selector) or {}
    if not all(labels.get(k) == v for k, v in match.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
            "Exists": key in labels, "DoesNotExist": key not in labels}.get(operator) is not True:
            return False
    return True

def port_of(template_ports, port):
    """The container port number that a port reference (a name or a number) means on a pod, or None."""
    return port if isinstance(port, int) and port in template_ports.values() else template_ports.get(port)

services = [(file, r) for file, r in resources if r.get("kind") == "Service"]
for file, service in services:
    where = f"{file}: {name_of(service)}"
    selector = (service.get("spec") or {}).get("selector")
    chosen = [t for t in templates if selects(selector, t[1])]
    if not chosen:
        problems.append(f"{where}: its selector {selector} matches no pod template here")
    for port in (service.get("spec") or {}).get("ports") or []:
        target = port.get("targetPort", port.get("port"))
        for template_where, _, template_ports in chosen:
            if port_of(template_ports, target) is None:
                problems.append(f"{where}: port {port.get('name')} targets {target!r}, which {template_where} does not declare")
            elif port.get("name") == "http" and port_of(template_ports, target) != 8080:
                problems.append(f"{where}: port http must reach the pods' 8080")
leaf_templates = [t for t in templates if t[1].get("app.kubernetes.io/component") == "leaf"]
if leaf_templates and not any(
        (s.get("spec") or {}).get("publishNotReadyAddresses") is True
        and all(selects((s.get("spec") or {}).get("selector"), t[1]) for t in leaf_templates)
        for _, s in services):
    problems.append("no Service with publishNotReadyAddresses: true serves the leaves' reads while their centers are away")

# Who may reach which named port: the policies must allow exactly this (sources: the pods of a
# component, or "outside" for anything else). A port a pod declares must be listed here.
EXPECTED_SOURCES = {"http": {"center", "leaf", "outside"}, "leafnode": {"leaf"}, "cluster": {"center"}}
policies = [(file, r) for file, r in resources if r.get("kind") == "NetworkPolicy"]
if templates and not policies:
    problems.append(f"no NetworkPolicy in {directory}")
for file, policy in policies:
    spec = policy.get("spec") or {}
    where = f"{file}: {name_of(policy)}"
    if not any(selects(spec.get("podSelector"), t[1]) for t in templates):
        problems.append(f"{where}: its podSelector matches no pod template here")
    for rule in spec.get("ingress") or []:
        for peer in rule.get("from") or []:
            if "podSelector" in peer and not any(selects(peer["podSelector"], t[1]) for t in templates):
                problems.append(f"{where}: a from.podSelector {peer['podSelector']} matches no pod template here")
        for port in rule.get("ports") or []:
            if not any(port_of(t[2], port.get("port")) is not None for t in templates if selects(spec.get("podSelector"), t[1])):
                problems.append(f"{where}: port {port.get('port')!r} is declared by none of the pods it applies to")

def allowed(destination, port_number, source_labels):
    """Whether the policies let a source (labels, or None for outside) reach a pod's port."""
    applying = [p.get("spec") or {} for _, p in policies if selects((p.get("spec") or {}).get("podSelector"), destination[1])]
    if not any("Ingress" in (spec.get("policyTypes") or ["Ingress"]) for spec in applying):
        return True
    for spec in applying:
        for rule in spec.get("ingress") or []:
            peers = rule.get("from")
            peer_ok = not peers or any(
                (source_labels is not None and "podSelector" in peer and "namespaceSelector" not in peer
                 and selects(peer["podSelector"], source_labels))
                or ("ipBlock" in peer) or ("namespaceSelector" in peer and "podSelector" not in peer)
                for peer in peers)
            ports = rule.get("ports")
            port_ok = not ports or any(port_of(destination[2], p.get("port")) == port_number for p in ports)
            if peer_ok and port_ok:
                return True
    return False

sources = {"outside": None}
for template in templates:
    sources.setdefault(template[1].get("app.kubernetes.io/component"), template[1])
if policies:
    for destination in templates:
        for port_name, port_number in destination[2].items():
            if port_name not in EXPECTED_SOURCES:
                problems.append(f"{destination[0]}: port {port_name} has no expected sources in validate-kubernetes.sh")
                continue
            for source, source_labels in sources.items():
                expected = (source if source in ("center", "leaf") else "outside") in EXPECTED_SOURCES[port_name]
                if allowed(destination, port_number, source_labels) != expected:
                    verb = "lets" if not expected else "does not let"
                    problems.append(f"NetworkPolicies: {verb} {source} reach {destination[0]} port {port_name} ({port_number})")

# --- files named by the configuration (TLS certificates) are on a volume of the pod ----------
def file_keys(node, prefix=""):
    for name, value in (node or {}).items():
        if isinstance(value, dict):
            yield from file_keys(value, f"{prefix}{name}.")
        elif name.endswith("_file") and isinstance(value, str) and value:
            yield f"{prefix}{name}", value

for (config_map_name, base), users in config_users.items():
    try:
        document = yaml.safe_load((config_maps[config_map_name].get("data") or {}).get(base) or "") or {}
    except yaml.YAMLError:
        continue  # reported below
    for key, path in file_keys(document if isinstance(document, dict) else {}):
        for cwhere, container, volumes in users:
            mounts = [m for m in container.get("volumeMounts") or []
                      if path.startswith(m.get("mountPath", "").rstrip("/") + "/")]
            if not mounts:
                problems.append(f"{cwhere}: {base} sets {key}: {path}, which is on no volume of the container")
                continue
            volume = volumes.get(mounts[-1].get("name")) or {}
            name_in_volume = path[len(mounts[-1]["mountPath"].rstrip("/")) + 1:]
            if "secret" in volume:
                secret = secrets.get(volume["secret"].get("secretName"))
                if secret is None:
                    continue  # an optional Secret made elsewhere (make-node-certs.sh); checked where it is
                held = {**(secret.get("data") or {}), **(secret.get("stringData") or {})}
                if name_in_volume not in held:
                    problems.append(f"{cwhere}: {base} sets {key}: {path}, but Secret {secret['metadata'].get('name')} has no key {name_in_volume}")

for file, resource in resources:
    spec = pod_spec(resource)
    for volume in (spec or {}).get("volumes") or []:
        secret = volume.get("secret")
        if secret and secret.get("secretName") not in secrets and secret.get("optional") is not True:
            problems.append(f"{file}: {name_of(resource)}: volume {volume.get('name')} needs Secret {secret.get('secretName')}, which is not in {directory} (or make it optional)")

def paths(node, prefix=""):
    for name, value in node.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from paths(value, path + ".")
        else:
            yield path

config_files = used_keys = 0
for name, config_map in config_maps.items():
    for file_name, content in (config_map.get("data") or {}).items():
        if not file_name.endswith((".yaml", ".yml")):
            continue
        config_files += 1
        where = f"ConfigMap {name}, {file_name}"
        try:
            document = yaml.safe_load(content)
        except yaml.YAMLError as error:
            problems.append(f"{where}: not valid YAML: {error}")
            continue
        if not isinstance(document, dict):
            problems.append(f"{where}: must be a mapping of configuration keys")
            continue
        for path in paths(document):
            used_keys += 1
            if path not in keys:
                problems.append(f"{where}: '{path}' is not a key of docs/configuration.md's configuration table")
        port = ((document.get("service") or {}).get("http") or {}).get("port", 8080)
        if port != 8080:
            problems.append(f"{where}: service.http.port is {port}, but the probes and Services use 8080")

if problems:
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(f"validate-kubernetes: {len(problems)} problem(s) with the example's rules in {directory}")
print(f"validate-kubernetes: {len(resources)} resources; {pod_templates} pod templates have enableServiceLinks: false "
      f"and probes on /health/live and /health/ready; the {used_keys} keys of {config_files} configuration files "
      f"are all in docs/configuration.md's table")
PY
RULES_STATUS=$?
set -e
[ "$SCHEMAS_OK" -eq 1 ] && [ "$RULES_STATUS" -eq 0 ] || fail "see the problems above"

# --- 3. the rest of the operations kit ------------------------------------------------------
if [ "$WHOLE_KIT" -eq 1 ]; then
  scripts/validate-monitoring.sh
  scripts/validate-kubernetes-tls.sh
fi
