"""The heartbeat figures (bench/heartbeats' raw outputs) for bench/report.py.

summarize(raw_dir) gives results.heartbeats, the figures of issue 25:
  offered_per_second, answered_per_second, p99_ms, non_2xx   the open-loop load on leaf-1
  bucket_writes_per_second    messages added to the bucket's stream (KV_presence) per second
                              on the center during that load
  max_held_per_second         the highest offered rate leaf-1 held (heartbeat plane)
  durable_max_held_per_second the same with PRESENCE_PRESENCE_DURABLE_HEARTBEATS=true
  offline_p99_ms              last heartbeat (on leaf-1) -> offline on leaf-2, p99, the worse of
                              the stream event and the first offline read, during the load
  false_offline               offline events and offline reads of users who kept heartbeating
and the raw runs beside it. A figure that rests on a run with a non-2xx answer, an error or a
missing event is None (null): failed, not a number; the reason is in the failures.
"""
import json
import os


def _load(raw_dir, name, failures, part):
    path = os.path.join(raw_dir, name)
    if not os.path.exists(path):
        return None
    try:
        return json.loads(open(path).read().strip().splitlines()[-1])
    except Exception:
        failures.append(f"heartbeats {part}: {name} is not JSON")
        return None


# The heartbeat plane's metrics, by node (HTTP port), as bench/heartbeats reads them.
_NODES = {"18080": "center", "18081": "leaf-1", "18082": "leaf-2"}


def metric_deltas(pair):
    """What each node's presence_heartbeat* metrics grew by between {"before", "after"}."""
    if not pair:
        return None
    deltas = {}
    for port, after in (pair.get("after") or {}).items():
        before = (pair.get("before") or {}).get(port) or {}
        deltas[_NODES.get(port, port)] = None if after is None else {
            name: round(value - before.get(name, 0), 6) for name, value in after.items()}
    return deltas


def _clean(run):
    """Whether an open-loop run got a 2xx for every request."""
    return run is not None and run.get("non_2xx") == 0 and run.get("errors") == 0


def summarize(raw_dir):
    failures = []
    load = _load(raw_dir, "load.json", failures, "load")
    bucket = _load(raw_dir, "bucket.json", failures, "load")
    offline = _load(raw_dir, "offline.json", failures, "load")
    steps = _load(raw_dir, "steps.json", failures, "steps")
    durable = _load(raw_dir, "durable_steps.json", failures, "durable")
    beats = _load(raw_dir, "fo_heartbeats.json", failures, "no-false-offline")
    watch = _load(raw_dir, "fo_watch.json", failures, "no-false-offline")
    events = _load(raw_dir, "fo_events.json", failures, "no-false-offline")
    plane = metric_deltas(_load(raw_dir, "plane_metrics.json", failures, "load"))
    for run in (steps, durable):
        if run and "plane_metrics" in run:
            run["plane_metrics"] = metric_deltas(run["plane_metrics"])

    summary = dict.fromkeys(("offered_per_second", "answered_per_second", "p99_ms", "non_2xx", "bucket_writes_per_second",
                             "max_held_per_second", "durable_max_held_per_second", "offline_p99_ms", "false_offline"))
    if load is not None:
        summary["offered_per_second"] = load["offered_per_second"]
        summary["non_2xx"] = load["non_2xx"]
        if _clean(load):
            summary["answered_per_second"] = load["answered_per_second"]
            summary["p99_ms"] = load["p99_ms"]
            if bucket:
                summary["bucket_writes_per_second"] = round((bucket["after"] - bucket["before"]) * 1000 / bucket["ms"], 1)
        else:
            failures.append(f"heartbeats load: {load['non_2xx']} answers not 2xx, {load['errors']} errors "
                            f"(statuses {load.get('statuses')})")
    elif os.path.exists(os.path.join(raw_dir, "bucket.json")):
        failures.append("heartbeats load: no output")
    if bucket and offline is not None and not bucket.get("offline_ended_within_load", True):
        failures.append("heartbeats time-to-offline: it ended after the load (BENCH_HB_SECONDS too short for it)")
    if offline is not None:
        if offline["stream_events"] == offline["users"] and offline["reads_offline"] == offline["users"]:
            worst = max(offline["stream_p99_ms"], offline["read_p99_ms"])
            summary["offline_p99_ms"] = round(offline["ttl_s"] * 1000 + worst, 1)
        else:
            failures.append(f"heartbeats time-to-offline: {offline['stream_events']}/{offline['users']} stream events, "
                            f"{offline['reads_offline']}/{offline['users']} offline reads")
        if offline["reads_offline_before_deadline"]:
            failures.append(f"heartbeats time-to-offline: {offline['reads_offline_before_deadline']} reads offline "
                            "before the deadline")
    for name, run in (("max_held_per_second", steps), ("durable_max_held_per_second", durable)):
        if run is not None:
            summary[name] = run["max_held_per_second"]
    if watch is not None:
        if not _clean(beats):
            failures.append("heartbeats no-false-offline: the users' heartbeats did not all get a 2xx "
                            f"({(beats or {}).get('statuses')}, {(beats or {}).get('errors')} errors)")
        elif any(node["stream_connects"] == 0 or node["reads"] == 0 for node in watch["nodes"]):
            failures.append("heartbeats no-false-offline: a node was never watched (no stream or no read)")
        else:
            summary["false_offline"] = watch["false_offline"]
        if watch["false_offline"]:
            failures.append(f"heartbeats no-false-offline: {watch['false_offline']} false offline "
                            f"({watch['stream_offline_events']} stream events, {watch['read_offline']} reads)")

    runs = {"load": load, "bucket": bucket, "plane_metrics": plane, "offline": offline, "steps": steps, "durable_steps": durable,
            "no_false_offline": {"heartbeats": beats, "watch": watch, "events": events} if watch or beats else None}
    return summary, runs, failures


def rows(summary, runs):
    """(scenario, result, baseline, ratio, target, holds) rows for the report's table."""
    out = []
    load, bucket, offline = runs.get("load"), runs.get("bucket"), runs.get("offline")
    if load:
        p99 = summary["p99_ms"]
        result = (f"answered {load['answered_per_second']:,.0f}/s; p50 / p99 / max {load['p50_ms']} / {load['p99_ms']} / "
                  f"{load['max_ms']} ms; non-2xx {load['non_2xx']}, errors {load['errors']}, late sends {load['late_sends']}")
        out.append((f"Heartbeats, open loop: {load['offered_per_second']:,.0f}/s offered to leaf-1 for {load['seconds']:.0f} s",
                    result if p99 is not None else "failed: " + result, "", None, f"p99 ≤ {load['p99_limit_ms']:g} ms, 0 non-2xx",
                    p99 is not None and load["held"]))
    writes = summary["bucket_writes_per_second"]
    if bucket:
        offered = summary["offered_per_second"] or 0
        out.append(("Center: messages added to the bucket's stream during that load",
                    f"{writes:,.1f}/s" if writes is not None else "failed (the load was not all 2xx)",
                    f"heartbeats offered {offered:,.0f}/s", round(writes / offered, 3) if writes is not None and offered else None,
                    "the status-change rate, not the heartbeat rate (≤ 5 % of it)",
                    writes is not None and offered and writes <= 0.05 * offered))
    metrics = runs.get("plane_metrics")
    if metrics is not None:
        def total(node, name):
            return sum(v for k, v in ((metrics.get(node) or {}).items()) if k.split("{")[0] == name)
        if not any(metrics.values()):
            seen = "no presence_heartbeat* metrics on any node (no heartbeat plane)"
        else:
            parts = [f"leaf-1 accepted {total('leaf-1', 'presence_heartbeats_accepted_total'):,.0f}, "
                     f"sent {total('leaf-1', 'presence_heartbeat_batches_sent_total'):,.0f} batches"]
            for node in ("center", "leaf-2"):
                count = total(node, "presence_heartbeat_lag_seconds_count")
                lag = total(node, "presence_heartbeat_lag_seconds_sum") / count if count else None
                parts.append(f"{node} received {total(node, 'presence_heartbeat_batches_received_total'):,.0f} batches, "
                             f"applied {total(node, 'presence_heartbeats_applied_total'):,.0f}"
                             + (f", mean lag {lag * 1000:.1f} ms" if lag is not None else ""))
            seen = "; ".join(parts)
        out.append(("The heartbeat plane during that load (the nodes' metrics)", seen, "", None, "", None))
    plane, durable = summary["max_held_per_second"], summary["durable_max_held_per_second"]
    if runs.get("steps") or runs.get("durable_steps"):
        def rate(value, steps):
            held = f"{value:,}/s" if value is not None else "none held"
            last = (steps or {}).get("steps") or [{}]
            missed = last[-1]
            if steps is None:
                return "not run"
            if missed.get("held") is False:
                held += (f" (missed {missed['offered_per_second']:,.0f}/s: p99 {missed['p99_ms']} ms, "
                         f"non-2xx {missed['non_2xx']}, errors {missed['errors']})")
            else:
                held += " (the highest rate tried: the node may hold more)"
            return held + f"; bucket writes meanwhile {steps['bucket_writes_per_second']:,.0f}/s"
        limit = (runs.get("steps") or runs.get("durable_steps"))["p99_limit_ms"]
        out.append((f"Highest open-loop heartbeat rate leaf-1 holds (p99 ≤ {limit:g} ms, every answer 2xx)",
                    rate(plane, runs.get("steps")),
                    f"durable heartbeats (KV compare-and-set each), same run: {rate(durable, runs.get('durable_steps'))}",
                    round(plane / durable, 2) if plane and durable else None, "", None))
    if offline:
        ttl_ms = offline["ttl_s"] * 1000
        value = summary["offline_p99_ms"]
        out.append((f"Time-to-offline on leaf-2 during that load, TTL {offline['ttl_s']} s: last heartbeat → offline, p99 "
                    "(the worse of stream and reads)",
                    (f"{value:,.0f} ms (stream p99 +{offline['stream_p99_ms']:.0f} ms, reads p99 +{offline['read_p99_ms']:.0f} ms "
                     f"after the TTL)") if value is not None else "failed (events or reads missing)",
                    "", None, f"≤ ttl + 1.5 s = {ttl_ms + 1500:,.0f} ms", value is not None and value <= ttl_ms + 1500))
    fo = runs.get("no_false_offline")
    if fo and fo.get("watch"):
        watch, events = fo["watch"], fo.get("events") or {}
        value = summary["false_offline"]
        what = (f"{value} ({watch['stream_offline_events']} stream events, {watch['read_offline']} reads)"
                if value is not None else f"failed ({watch['false_offline']} counted, but not every heartbeat got a 2xx "
                                          "or a node was never watched)")
        if events:
            what += (f"; leaf-2 ready {events['leaf_restart_ready_ms'] / 1000:.1f} s after its restart, lease "
                     f"{events['lease_from']} → {events['lease_to']} in {events['lease_moved_ms'] / 1000:.1f} s")
        ttl = f" (ttl {events['ttl_s']} s)" if events else ""
        out.append((f"No false offline: {watch['users']:,} users heartbeating every ttl/3{ttl} on leaf-1 for "
                    f"{watch['seconds']:.0f} s while leaf-2 restarts and the sweeper lease moves (3 clustered centers)",
                    what, "", None, "0", value == 0))
    return out
