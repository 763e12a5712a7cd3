"""The connected-socket figures (bench/websocket's raw outputs) for bench/report.py.

summarize(raw_dir) gives results.websocket, the figures of issue 26:
  connections                  sockets welcomed and still open on leaf-1 when its memory was read
  rss_per_connection_kib       leaf-1's VmRSS growth from no socket to all of them connected,
                               subscribed and idle, per open socket (KiB)
  connects_per_second          sockets welcomed / seconds from the first connect to the last welcome
                               (each hello is a durable session start on the center)
  offline_after_silence_p99_ms the client process stopped (SIGSTOP) -> each user's offline event
                               on leaf-2, p99
  offline_after_close_p99_ms   a socket's close frame -> its user's offline event on leaf-2, p99
  fanout_p99_ms                a change's scheduled send -> its delivery to a subscribed socket, p99
  events_lost                  deliveries owed (changes answered 2xx x their user's subscribers)
                               that never came
plus detail keys (failures, the center's write ceiling, the commands). A figure that rests on a
run with a missing event is None (null): failed, not a number; the reason is in the failures.
Every socket not welcomed is counted in not_welcomed (by reason in connect_failures).
"""
import json
import os


# The keys of results.websocket the issue names (the others are detail).
KEYS = ("connections", "rss_per_connection_kib", "connects_per_second", "offline_after_silence_p99_ms",
        "offline_after_close_p99_ms", "fanout_p99_ms", "events_lost")


def _load(raw_dir, name, failures, part):
    path = os.path.join(raw_dir, name)
    if not os.path.exists(path):
        return None
    text = open(path).read().strip()
    try:
        return json.loads(text)
    except Exception:
        pass
    try:
        return json.loads(text.splitlines()[-1])
    except Exception:
        failures.append(f"websocket {part}: {name} is not JSON")
        return None


def _bucket_rate(raw_dir, start_ms, end_ms):
    """Messages added to the bucket's stream per second between two wall-clock moments, from
    the samples bench/websocket took every half second (None without two samples in between)."""
    path = os.path.join(raw_dir, "bucket_samples.txt")
    if not os.path.exists(path) or start_ms is None or end_ms is None:
        return None
    samples = []
    for line in open(path):
        parts = line.split()
        if len(parts) == 2 and parts[1] != "null":
            samples.append((int(parts[0]), int(parts[1])))
    inside = [s for s in samples if start_ms <= s[0] <= end_ms]
    if len(inside) < 2 or inside[-1][0] == inside[0][0]:
        return None
    return round((inside[-1][1] - inside[0][1]) * 1000 / (inside[-1][0] - inside[0][0]), 1)


def _offline(run, name, failures):
    if run is None:
        return None
    if run["missing"] or run["offline_before"] or run["seen_online"] < run["users"]:
        failures.append(f"websocket {name}: {run['offline_events']}/{run['users']} offline events "
                        f"({run['seen_online']} seen online first, {run['offline_before']} offline too early)")
        return None
    return run["p99_ms"]


def summarize(raw_dir):
    failures = []
    sockets = _load(raw_dir, "sockets.json", failures, "connect")
    ceiling = _load(raw_dir, "ceiling.json", failures, "ceiling")
    silence = _load(raw_dir, "silence.json", failures, "silence")
    victims = _load(raw_dir, "silence_victims.json", failures, "silence")
    close = _load(raw_dir, "close.json", failures, "close")
    settings = _load(raw_dir, "settings.json", failures, "settings") or {}
    fanout = (sockets or {}).get("fanout")

    summary = dict.fromkeys(KEYS)
    if sockets is not None:
        summary["connections"] = sockets.get("open")
        summary["rss_per_connection_kib"] = sockets.get("rss_per_connection_kib")
        summary["connects_per_second"] = sockets.get("connects_per_second")
        summary["connections_attempted"] = sockets["connections"]
        summary["not_welcomed"] = sockets["failed"]
        summary["connect_failures"] = sockets["failures"]
        summary["lost_after_welcome"] = sockets.get("lost_after_welcome")
        summary["subscribed"] = sockets.get("subscribed")
        summary["subscribe_failures"] = sockets.get("subscribe_failures")
        summary["peak_connects_per_second"] = sockets.get("peak_connects_per_second")
        summary["welcome_p99_ms"] = sockets.get("welcome_p99_ms")
        start = sockets.get("connect_started_at_ms")
        end = start + sockets["last_welcome_seconds"] * 1000 if start is not None else None
        summary["bucket_writes_per_second_during_connect"] = _bucket_rate(raw_dir, start, end)
        if sockets["failed"]:
            failures.append(f"websocket connect: {sockets['failed']} of {sockets['connections']} sockets not welcomed "
                            f"({sockets['failures']})")
        if sockets.get("lost_after_welcome"):
            failures.append(f"websocket connect: welcomed sockets closed by the server {sockets['lost_after_welcome']}")
        if sum((sockets.get("subscribe_failures") or {}).values()):
            failures.append(f"websocket connect: subscriptions refused or unanswered {sockets['subscribe_failures']}")
    elif os.path.exists(os.path.join(raw_dir, "commands.txt")) and "connect" in settings.get("parts", ""):
        failures.append("websocket connect: no output")
    if ceiling is not None:
        summary["center_write_ceiling_per_second"] = ceiling["per_second"]
    if fanout is not None:
        summary["fanout_p99_ms"] = fanout["p99_ms"]
        summary["events_lost"] = fanout["events_lost"]
        summary["fanout_expected_events"] = fanout["expected_events"]
        summary["fanout_changes_acknowledged"] = fanout["acknowledged"]
        summary["fanout_changes_offered_per_second"] = fanout["driver"].get("offered_per_second")
        summary["fanout_since_updated_at_p99_ms"] = fanout["since_updated_at_p99_ms"]
        if fanout["events_lost"]:
            failures.append(f"websocket fanout: {fanout['events_lost']} of {fanout['expected_events']} events lost")
        if fanout["acknowledged"] < fanout["changes"]:
            driver = fanout["driver"]
            failures.append(f"websocket fanout: {fanout['changes'] - fanout['acknowledged']} of {fanout['changes']} "
                            f"changes not answered 2xx (statuses {driver.get('statuses')}, timeouts {driver.get('timeouts')}, "
                            f"unsent {driver.get('unsent')})")
    summary["offline_after_silence_p99_ms"] = _offline(silence, "silence", failures)
    summary["offline_after_close_p99_ms"] = _offline(close, "close", failures)
    if silence is not None:
        summary["offline_after_silence_bound_ms"] = silence["bound_ms"]
    commands = os.path.join(raw_dir, "commands.txt")
    if os.path.exists(commands):
        summary["commands"] = [line.strip() for line in open(commands) if line.strip()]
    runs = {"settings": settings, "ceiling": ceiling, "sockets": sockets, "silence_victims": victims,
            "silence": silence, "close": close}
    return summary, runs, failures


def rows(summary, runs):
    """(scenario, result, baseline, ratio, target, holds) rows for the report's table."""
    out = []
    sockets, ceiling = runs.get("sockets"), runs.get("ceiling")
    if sockets:
        rate = sockets["connects_per_second"]
        base = f"center's raw durable writes {ceiling['per_second']:,}/s" if ceiling else ""
        writes = summary.get("bucket_writes_per_second_during_connect")
        result = (f"{sockets['welcomed']:,} of {sockets['connections']:,} welcomed, {rate:,.0f}/s "
                  f"(peak second {sockets['peak_connects_per_second']:,}); connect → welcome p50 / p99 "
                  f"{sockets['welcome_p50_ms']} / {sockets['welcome_p99_ms']} ms; not welcomed {sockets['failed']}"
                  + (f" {sockets['failures']}" if sockets["failed"] else "")
                  + (f"; bucket writes meanwhile {writes:,.0f}/s" if writes is not None else ""))
        out.append((f"Sockets on leaf-1: hello → welcome (a durable session start each), {sockets['connections']:,} sockets",
                    result, base, round(rate / ceiling["per_second"], 2) if ceiling and rate else None,
                    "≥ 5,000/s", rate >= 5000 and not sockets["failed"]))
        rss = sockets.get("rss_per_connection_kib")
        if rss is not None:
            out.append((f"Leaf-1 resident memory per idle socket ({sockets['open']:,} open, "
                        f"{sockets['subscriptions_per_socket']} subscriptions each)",
                        f"{rss} KiB (VmRSS {sockets['rss_before_kib'] / 1024:,.0f} → {sockets['rss_after_subscribe_kib'] / 1024:,.0f} MiB; "
                        f"{sockets['rss_per_connection_before_subscribe_kib']} KiB before subscribing)",
                        "Centrifugo ≈ 35 KiB", None, "≤ 10 KiB", rss <= 10))
        fanout = sockets.get("fanout")
        if fanout:
            driver = fanout["driver"]
            lost = fanout["events_lost"]
            out.append((f"Fan-out: {fanout['rate']:,.0f} changes/s (PUT on leaf-2, open loop) for {fanout['seconds']:g} s to "
                        f"{fanout['subscribed_sockets']:,} subscribed sockets on leaf-1: scheduled send → delivery",
                        f"p50 / p99 / max {fanout['p50_ms']} / {fanout['p99_ms']} / {fanout['max_ms']} ms "
                        f"(since the record's updated_at p99 {fanout['since_updated_at_p99_ms']} ms); "
                        f"{fanout['received_events']:,} of {fanout['expected_events']:,} events, lost {lost}; "
                        f"changes answered 2xx {fanout['acknowledged']:,} of {fanout['changes']:,} "
                        f"(PUT p99 {driver.get('p99_ms')} ms)",
                        "", None, "p99 ≤ 50 ms, 0 lost",
                        fanout["p99_ms"] is not None and fanout["p99_ms"] <= 50 and lost == 0))
    for key, name, target in (("silence", "a stopped client (SIGSTOP)", None), ("close", "a close frame", 100)):
        run = runs.get(key)
        if not run:
            continue
        value = summary[f"offline_after_{key}_p99_ms"]
        bound = run.get("bound_ms") if target is None else target
        what = (f"p50 / p99 / max {run['p50_ms']} / {run['p99_ms']} / {run['max_ms']} ms; "
                f"{run['offline_events']}/{run['users']} offline events")
        if key == "close" and run.get("over_1s"):
            what += f", {run['over_1s']} of them over 1 s"
        setting = f"ping interval {run['ping_interval_s']:g} s, pong timeout {run['pong_timeout_s']:g} s"
        out.append((f"Time-to-offline on leaf-2 after {name} on leaf-1, {run['users']} users ({setting})",
                    what if value is not None else "failed: " + what, "", None,
                    f"p99 ≤ {bound:,.0f} ms" + (" (ping + pong + 1 s)" if target is None else ""),
                    value is not None and value <= bound))
    return out
