"""Checks 2 to 5 of scripts/validate-monitoring.sh (which says what they are); run by it.

    validate-monitoring.py METRICS_JSON RULES TESTS DASHBOARD PROMETHEUS_RULE SERVICE_MONITOR KUBERNETES_DIR
"""
import glob
import json
import os
import re
import sys

import yaml

metrics_json, rules_path, tests_path, dashboard_path, rule_crd_path, monitor_path, kubernetes_dir = sys.argv[1:8]
exported = json.loads(metrics_json)
SERIES = set(exported["series"])
CODE_LABELS = set(exported["labels"])
# Metrics the rules use that the code does not export, and where they come from.
OUTSIDE_METRICS = {
    "up": "Prometheus itself: whether the target's last scrape worked",
    "kubelet_volume_stats_available_bytes": "the kubelet (kube-prometheus scrapes it): free bytes of a PersistentVolumeClaim",
    "kubelet_volume_stats_capacity_bytes": "the kubelet: size of a PersistentVolumeClaim",
}
OUTSIDE_LABELS = {"persistentvolumeclaim"}
# Labels every target gets from the ServiceMonitor (role: servicemonitor.yaml's relabeling).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "endpoint", "container", "role"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "offset", "inf", "nan", "atan2", "VAR"}
problems = []


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return list(yaml.safe_load_all(f))


def promql(expr, where):
    """Checks the metric and label names of one PromQL expression."""
    text = re.sub(r"\"(?:[^\"\\]|\\.)*\"", "\"\"", expr)  # strings emptied first: a value may hold braces
    text = re.sub(r"\$__\w+", "5m", text)
    text = re.sub(r"\$\{\w+(?::\w+)?\}|\$\w+", "VAR", text)
    names = []
    for match in re.finditer(r"([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}", text):
        matcher_labels = re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*\"", match.group(2))
        metric = match.group(1)
        if metric in OUTSIDE_METRICS:
            continue
        allowed = CODE_LABELS | TARGET_LABELS | ({"le"} if (metric or "").endswith("_bucket") else set())
        for label in matcher_labels:
            if label != "__name__" and label not in allowed:
                problems.append(f"{where}: label '{label}' of {metric or 'a selector'} is not one the code or the scrape sets")
    text = re.sub(r"\{[^}]*\}", " ", text)
    for match in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", text):
        for label in re.findall(r"[a-zA-Z_]\w*", match.group(1)):
            if label not in CODE_LABELS | TARGET_LABELS | OUTSIDE_LABELS | {"le"}:
                problems.append(f"{where}: grouping label '{label}' is not one the code or the scrape sets")
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\"(?:[^\"\\]|\\.)*\"", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\boffset\s+\S+", " ", text)
    for match in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()", text):
        name = match.group(1)
        if name in KEYWORDS:
            if name == "VAR":
                problems.append(f"{where}: a $variable outside a string or range: {expr}")
            continue
        names.append(name)
        if name not in SERIES and name not in OUTSIDE_METRICS:
            problems.append(f"{where}: metric '{name}' is not exported by the code (scripts/metric-names.py) "
                            f"nor one of the outside metrics in scripts/validate-monitoring.py")
    if not names:
        problems.append(f"{where}: no metric in the expression: {expr}")


# --- 2. the alert rules and their tests ------------------------------------------------------
rules = load_yaml(rules_path)[0]
alerts = {}
for group in rules.get("groups") or []:
    for rule in group.get("rules") or []:
        name = rule.get("alert") or rule.get("record")
        promql(rule.get("expr", ""), f"{rules_path}: {name}")
        if "alert" in rule:
            alerts[name] = rule
            for field in ("summary", "description"):
                if not (rule.get("annotations") or {}).get(field):
                    problems.append(f"{rules_path}: {name} has no {field} annotation")
            if (rule.get("labels") or {}).get("severity") not in ("warning", "critical"):
                problems.append(f"{rules_path}: {name} needs a severity label, warning or critical")
tests = load_yaml(tests_path)[0]
fired, silent = set(), set()
for test in tests.get("tests") or []:
    for series in test.get("input_series") or []:
        promql(series.get("series", ""), f"{tests_path}: {test.get('name')}: input series")
    for case in test.get("alert_rule_test") or []:
        (fired if case.get("exp_alerts") else silent).add(case.get("alertname"))
for name in sorted(set(alerts) - fired):
    problems.append(f"{tests_path}: no test in which {name} fires")
for name in sorted((fired | silent) - set(alerts)):
    problems.append(f"{tests_path}: tests {name}, which {rules_path} does not define")
if not silent:
    problems.append(f"{tests_path}: no test expects an alert to stay silent")

# --- 3. the dashboard -------------------------------------------------------------------------
try:
    with open(dashboard_path, encoding="utf-8") as f:
        dashboard = json.load(f)
except (OSError, json.JSONDecodeError) as error:
    sys.exit(f"validate-monitoring: {dashboard_path} is not valid JSON: {error}")
for field in ("title", "uid", "panels", "templating", "schemaVersion"):
    if field not in dashboard:
        problems.append(f"{dashboard_path}: no {field}")
variables = {v.get("name"): v for v in (dashboard.get("templating") or {}).get("list") or []}
builtin = {"__rate_interval", "__interval", "__range", "__name"}
for name, variable in variables.items():
    if variable.get("type") != "query":
        continue
    query = variable.get("query")
    query = query.get("query") if isinstance(query, dict) else query
    match = re.fullmatch(r"\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*", query or "")
    if not match:
        problems.append(f"{dashboard_path}: variable {name}: only label_values(...) queries are checked: {query}")
        continue
    if match.group(1):
        promql(match.group(1), f"{dashboard_path}: variable {name}")
    if match.group(2) not in CODE_LABELS | TARGET_LABELS:
        problems.append(f"{dashboard_path}: variable {name}: label {match.group(2)} is not one the code or the scrape sets")
ids, queries = set(), 0
for panel in dashboard.get("panels") or []:
    where = f"{dashboard_path}: panel {panel.get('id')} \"{panel.get('title')}\""
    if panel.get("id") in ids:
        problems.append(f"{where}: its id is not unique")
    ids.add(panel.get("id"))
    if "gridPos" not in panel:
        problems.append(f"{where}: no gridPos")
    if panel.get("type") == "row":
        continue
    targets = panel.get("targets") or []
    if not targets:
        problems.append(f"{where}: no queries")
    if len({t.get("refId") for t in targets}) != len(targets):
        problems.append(f"{where}: refIds are not unique")
    for target in targets:
        queries += 1
        expr = target.get("expr", "")
        promql(expr, f"{where} {target.get('refId')}")
        for used in re.findall(r"\$\{?(\w+)", expr + json.dumps(panel.get("datasource"))):
            if used not in variables and used not in builtin:
                problems.append(f"{where}: ${used} is not a variable of the dashboard")
if queries < 20:
    problems.append(f"{dashboard_path}: only {queries} queries")

# --- 4. the PrometheusRule (its text is compared by the shell script) ------------------------
rule_crd = load_yaml(rule_crd_path)[0]
if (rule_crd.get("apiVersion"), rule_crd.get("kind")) != ("monitoring.coreos.com/v1", "PrometheusRule"):
    problems.append(f"{rule_crd_path}: must be a monitoring.coreos.com/v1 PrometheusRule")
elif (rule_crd.get("spec") or {}).get("groups") != rules.get("groups"):
    problems.append(f"{rule_crd_path}: its groups are not those of {rules_path}")

# --- 5. the ServiceMonitor against the Services and pods of deploy/kubernetes ---------------
resources = []
for path in sorted(glob.glob(os.path.join(kubernetes_dir, "*.yaml"))):
    resources += [(os.path.basename(path), r) for r in load_yaml(path) if r]
services = [r for _, r in resources if r.get("kind") == "Service"]
pods = []  # (name, labels, {port name: number})
for _, r in resources:
    if r.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        template = r["spec"]["template"]
        ports = {p.get("name"): p.get("containerPort")
                 for c in template["spec"].get("containers") or [] for p in c.get("ports") or []}
        pods.append((f"{r['kind']}/{r['metadata']['name']}", template["metadata"].get("labels") or {}, ports))


def selects(selector, labels):
    match = selector.get("matchLabels", {} if "matchExpressions" in selector else selector) or {}
    if not all(labels.get(k) == v for k, v in match.items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, values = e.get("key"), e.get("values") or []
        if {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
            "Exists": key in labels, "DoesNotExist": key not in labels}.get(e.get("operator")) is not True:
            return False
    return True


MONITOR_SPEC_FIELDS = {"selector", "endpoints", "jobLabel", "namespaceSelector", "targetLabels", "podTargetLabels"}
ENDPOINT_FIELDS = {"port", "path", "interval", "scrapeTimeout", "scheme", "relabelings", "metricRelabelings", "honorLabels"}
monitor = load_yaml(monitor_path)[0]
spec = monitor.get("spec") or {}
where = f"{monitor_path}"
if (monitor.get("apiVersion"), monitor.get("kind")) != ("monitoring.coreos.com/v1", "ServiceMonitor"):
    problems.append(f"{where}: must be a monitoring.coreos.com/v1 ServiceMonitor")
for field in sorted(set(spec) - MONITOR_SPEC_FIELDS):
    problems.append(f"{where}: unknown field spec.{field}")
chosen = [s for s in services if selects(spec.get("selector") or {"matchLabels": {"-": "-"}}, s["metadata"].get("labels") or {})]
if not chosen:
    problems.append(f"{where}: its selector matches no Service in {kubernetes_dir}")
job_label = spec.get("jobLabel")
for service in chosen:
    if job_label and job_label not in (service["metadata"].get("labels") or {}):
        problems.append(f"{where}: jobLabel {job_label} is not a label of Service {service['metadata']['name']}")
scraped = {pod[0]: [] for pod in pods}
for endpoint in spec.get("endpoints") or []:
    for field in sorted(set(endpoint) - ENDPOINT_FIELDS):
        problems.append(f"{where}: unknown field endpoints[].{field}")
    if endpoint.get("path", "/metrics") != "/metrics":
        problems.append(f"{where}: the nodes serve their metrics at /metrics, not {endpoint.get('path')}")
    port_name = endpoint.get("port")
    with_port = [s for s in chosen if any(p.get("name") == port_name for p in s["spec"].get("ports") or [])]
    if not with_port:
        problems.append(f"{where}: no Service it selects has a port named {port_name!r}")
    for service in with_port:
        port = next(p for p in service["spec"]["ports"] if p.get("name") == port_name)
        target = port.get("targetPort", port.get("port"))
        for pod_name, labels, ports in pods:
            if not selects(service["spec"].get("selector") or {"-": "-"}, labels):
                continue
            scraped[pod_name].append(f"Service {service['metadata']['name']} port {port_name}")
            number = target if isinstance(target, int) else ports.get(target)
            if number != 8080:
                problems.append(f"{where}: Service {service['metadata']['name']} port {port_name} reaches {pod_name} at {number}, not the HTTP port 8080")
    for relabeling in endpoint.get("relabelings") or []:
        for source in relabeling.get("sourceLabels") or []:
            label = re.fullmatch(r"__meta_kubernetes_pod_label_(\w+)", source)
            if not label:
                continue
            for pod_name, labels, _ in pods:
                values = [v for k, v in labels.items() if re.sub(r"[^a-zA-Z0-9_]", "_", k) == label.group(1)]
                if not values:
                    problems.append(f"{where}: relabeling reads {source}, but {pod_name} has no such label")
                elif relabeling.get("targetLabel") == "role" and values[0] not in ("center", "leaf"):
                    problems.append(f"{where}: {pod_name} would get role={values[0]}; the rules expect center or leaf")
    if not any(r.get("targetLabel") == "role" for r in endpoint.get("relabelings") or []):
        problems.append(f"{where}: endpoint {port_name} sets no role label, which the rules and the dashboard use")
for pod_name, through in scraped.items():
    if len(through) != 1:
        problems.append(f"{where}: {pod_name} would be scraped {len(through)} times ({', '.join(through) or 'never'}), not once")

problems = list(dict.fromkeys(problems))  # once each, in order
if problems:
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(f"validate-monitoring: {len(problems)} problem(s)")
print(f"validate-monitoring: {len(alerts)} alerts, each firing in a test; {queries} dashboard queries; every metric of "
      f"them one of the {len(exported['metrics'])} the code exports (or {', '.join(sorted(OUTSIDE_METRICS))}); "
      f"the ServiceMonitor scrapes {len(scraped)} pod templates once each")
