#!/usr/bin/env bash
# Validates the monitoring kit, so that it cannot silently drift from the code:
#   1. deploy/monitoring/presence-alerts.yaml with `promtool check rules`, and its unit tests
#      presence-alerts.test.yaml with `promtool test rules`; every alert must have a test in
#      which it fires;
#   2. every metric name in every PromQL expression (the alert rules, the Grafana dashboard
#      deploy/monitoring/presence-dashboard.json and its variables) is one the code exports,
#      as scripts/metric-names.py reads them from Sources/ (or one of the few outside metrics
#      listed below), and every label name is one the code or the scrape sets;
#   3. the dashboard is valid JSON, each panel has queries, and every $variable is defined;
#   4. deploy/kubernetes/monitoring/prometheusrule.yaml is presence-alerts.yaml wrapped in a
#      PrometheusRule, exactly (rewrite it with `scripts/validate-monitoring.sh --write-prometheusrule`);
#   5. deploy/kubernetes/monitoring/servicemonitor.yaml (a CRD, which the Kubernetes schemas do
#      not know): its fields, and that it scrapes each pod template of deploy/kubernetes exactly
#      once, through a Service it selects by label, at a port name that Service has and that
#      reaches the pods' HTTP port 8080, with the `role` label the rules use.
# promtool comes from Debian's prometheus package (as in scripts/install-test-tools.sh), PyYAML
# from the venv scripts/validate-kubernetes.sh makes (else python3-yaml); each installed only
# when missing. Exits non-zero naming every problem.
#   scripts/validate-monitoring.sh [--write-prometheusrule]
set -euo pipefail
cd "$(dirname "$0")/.."
MONITORING=deploy/monitoring
RULES=$MONITORING/presence-alerts.yaml
TESTS=$MONITORING/presence-alerts.test.yaml
DASHBOARD=$MONITORING/presence-dashboard.json
PROMETHEUS_RULE=deploy/kubernetes/monitoring/prometheusrule.yaml
SERVICE_MONITOR=deploy/kubernetes/monitoring/servicemonitor.yaml

fail() { echo "validate-monitoring: FAILED: $*" >&2; exit 1; }

# The PrometheusRule: presence-alerts.yaml's groups under spec, comments and all.
prometheus_rule() {
  cat <<'EOF'
# GENERATED from deploy/monitoring/presence-alerts.yaml by
# `scripts/validate-monitoring.sh --write-prometheusrule` (which also checks that they are equal):
# edit that file, then run this. The alert rules for the Prometheus Operator; your Prometheus
# must select it (kube-prometheus-stack: ruleSelector, often a `release: <name>` label).
#   kubectl -n presence apply -f deploy/kubernetes/monitoring/
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: presence
  labels:
    app.kubernetes.io/name: presence
spec:
EOF
  sed -n '/^groups:/,$p' "$RULES" | sed 's/^\(.\)/  \1/'
}
if [ "${1:-}" = "--write-prometheusrule" ]; then
  prometheus_rule >"$PROMETHEUS_RULE"
  echo "validate-monitoring: wrote $PROMETHEUS_RULE"
  exit 0
fi

# --- tools, installed once -----------------------------------------------------------------
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_install() {
  command -v apt-get >/dev/null 2>&1 || fail "$1 is missing and there is no apt-get to install it"
  echo "Installing $* (apt-get)..."
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || fail "cannot install $* with apt-get"
}
command -v promtool >/dev/null 2>&1 || apt_install prometheus
PY=.tools/python-venv/bin/python
"$PY" -c 'import yaml' >/dev/null 2>&1 || PY=python3
"$PY" -c 'import yaml' >/dev/null 2>&1 || { apt_install python3-yaml; PY=/usr/bin/python3; }

PROBLEMS=0
# --- 1. promtool ---------------------------------------------------------------------------
promtool check rules "$RULES" || { echo "validate-monitoring: promtool check rules $RULES failed" >&2; PROBLEMS=1; }
promtool test rules "$TESTS" || { echo "validate-monitoring: promtool test rules $TESTS failed" >&2; PROBLEMS=1; }
if ! diff -u "$PROMETHEUS_RULE" <(prometheus_rule) >&2; then
  echo "validate-monitoring: $PROMETHEUS_RULE is not $RULES wrapped in a PrometheusRule (the diff above);" \
    "run scripts/validate-monitoring.sh --write-prometheusrule" >&2
  PROBLEMS=1
fi

# --- 2. to 5. --------------------------------------------------------------------------------
METRICS_JSON=$(scripts/metric-names.py --json Sources) || fail "cannot read the exported metrics from Sources"
"$PY" scripts/validate-monitoring.py "$METRICS_JSON" "$RULES" "$TESTS" "$DASHBOARD" "$PROMETHEUS_RULE" "$SERVICE_MONITOR" deploy/kubernetes \
  || PROBLEMS=1
[ "$PROBLEMS" -eq 0 ] || fail "see the problems above"
echo "validate-monitoring: alert rules, their tests, the dashboard, the PrometheusRule and the ServiceMonitor are consistent with the code and deploy/kubernetes"
