#!/usr/bin/env python3
"""The Prometheus metrics the code exports, read from Sources/ (no build needed).

scripts/validate-monitoring.sh checks every PromQL expression of deploy/monitoring against
this list, so a metric renamed in the code fails there. It understands the ways the code
names metrics today, and fails rather than guess when a file that makes metrics yields none:
  - MetricNameDescriptor(namespace: "presence", subsystem: "ws", metricName: "x", unitName: "total", ...)
    and `.init(...)` with the same labels (swift-prometheus joins the non-empty parts with "_");
  - a file's helper `func descriptor(_ name, _ unit, ...)` (namespace "presence"), called as
    descriptor("x", "unit", ...), and `func counter(_ name, ...)` (unit "total"), called as counter("x", ...);
  - Prometheus text written by hand: "# TYPE name type" (process_*, presence_build_info).
The type comes from the registry call that takes the descriptor (makeCounter, makeGauge,
makeDurationHistogram, makeValueHistogram); a histogram exports name_bucket, name_sum, name_count.

    scripts/metric-names.py [--json] [SOURCES]     (default: Sources)
Prints "name type" per line, or {"metrics": {name: type}, "series": [...], "labels": [...]} with --json.
"""
import json
import os
import re
import sys

MAKE = re.compile(r"\bmake(Counter|Gauge|DurationHistogram|ValueHistogram|Summary)\s*\(")
BINDING = re.compile(r"\b(?:let|var)\s+(\w+)\b")
LITERAL = re.compile(
    r'namespace:\s*"(\w*)",\s*(?:subsystem:\s*"(\w*)",\s*)?metricName:\s*"(\w+)",\s*unitName:\s*"(\w*)"')
HELPER_DESCRIPTOR_CALL = re.compile(r'\bdescriptor\(\s*"(\w+)",\s*"(\w*)"')
HELPER_COUNTER_CALL = re.compile(r'\bcounter\(\s*"(\w+)"')
TEXT_TYPE = re.compile(r"#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(counter|gauge|histogram|summary)")
LABEL_LIST = re.compile(r'\[\s*(\(\s*"\w+",[^\]]*)\]')
LABEL_NAME = re.compile(r'\(\s*"(\w+)",')
TEXT_LABEL = re.compile(r'\b[a-z_]+\{(\w+)="')
TYPES = {"Counter": "counter", "Gauge": "gauge", "DurationHistogram": "histogram",
         "ValueHistogram": "histogram", "Summary": "summary"}


def join(*parts):
    return "_".join(p for p in parts if p)


def function_body(text, name):
    """The text of `func name(` up to the end of its body (brace matched), or None."""
    start = re.search(r"\bfunc\s+" + name + r"\s*\(", text)
    if not start:
        return None
    open_brace = text.find("{", start.end())
    depth, i = 0, open_brace
    while i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start.start():i + 1]
        i += 1
    return None


def kind_at(text, position, path):
    """The type of the metric whose descriptor starts at `position`: the nearest registry
    call before it, or, when a `let`/`var` is nearer, the call that takes that binding."""
    window = text[max(0, position - 200):position]
    makes = list(MAKE.finditer(window))
    bindings = list(BINDING.finditer(window))
    make = makes[-1] if makes else None
    binding = bindings[-1] if bindings else None
    if binding and (not make or binding.start() > make.start()):
        user = re.search(r"\bmake(\w+)\s*\(\s*descriptor:\s*" + binding.group(1) + r"\b", text)
        if user and user.group(1) in TYPES:
            return TYPES[user.group(1)]
        raise SystemExit(f"metric-names: {path}: cannot tell which registry call uses the descriptor '{binding.group(1)}'")
    if make:
        return TYPES[make.group(1)]
    raise SystemExit(f"metric-names: {path}: a metric descriptor at offset {position} without a registry call before it")


def scan(sources):
    metrics, labels = {}, set()
    for folder, _, names in os.walk(sources):
        for file_name in sorted(names):
            if not file_name.endswith(".swift"):
                continue
            path = os.path.join(folder, file_name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            makes_metrics = bool(MAKE.search(text) or "MetricNameDescriptor" in text or TEXT_TYPE.search(text))
            if not makes_metrics:
                continue
            found = {}
            for match in LITERAL.finditer(text):
                found[join(*match.groups())] = kind_at(text, match.start(), path)
            descriptor_helper = function_body(text, "descriptor")
            if descriptor_helper and 'namespace: "presence"' in descriptor_helper:
                for match in HELPER_DESCRIPTOR_CALL.finditer(text):
                    found[join("presence", match.group(1), match.group(2))] = kind_at(text, match.start(), path)
            counter_helper = function_body(text, "counter")
            if counter_helper and "makeCounter" in counter_helper and '"total"' in counter_helper:
                for match in HELPER_COUNTER_CALL.finditer(text):
                    found[join("presence", match.group(1), "total")] = "counter"
            for match in TEXT_TYPE.finditer(text):
                found[match.group(1)] = match.group(2)
            if not found:
                raise SystemExit(f"metric-names: {path} makes metrics, but none could be read from it "
                                 f"(a new way of naming them? teach scripts/metric-names.py)")
            metrics.update(found)
            for match in LABEL_LIST.finditer(text):
                labels.update(LABEL_NAME.findall(match.group(1)))
            labels.update(TEXT_LABEL.findall(text))
    return metrics, labels


def series_names(metrics):
    """The names that appear in /metrics: a histogram's _bucket, _sum and _count."""
    names = set()
    for name, kind in metrics.items():
        if kind in ("histogram", "summary"):
            names.update({name + "_bucket", name + "_sum", name + "_count"} if kind == "histogram"
                         else {name, name + "_sum", name + "_count"})
        else:
            names.add(name)
    return names


def main(argv):
    as_json = "--json" in argv
    rest = [a for a in argv if a != "--json"]
    sources = rest[0] if rest else "Sources"
    metrics, labels = scan(sources)
    if len(metrics) < 10:
        raise SystemExit(f"metric-names: only {len(metrics)} metrics in {sources}: the patterns no longer match the code")
    if as_json:
        print(json.dumps({"metrics": metrics, "series": sorted(series_names(metrics)), "labels": sorted(labels)}, indent=1))
    else:
        for name in sorted(metrics):
            print(name, metrics[name])


if __name__ == "__main__":
    main(sys.argv[1:])
