#!/usr/bin/env python3
"""Turns bench/run's raw outputs into bench/results/<time>.md and .json (and latest.*).

    bench/report.py RAW_DIR USERS          bench/run's report (RAW_DIR/heartbeats: results.heartbeats)
    bench/report.py --heartbeats RAW_DIR   bench/heartbeats alone: heartbeats-<time>.md/.json (and -latest)
    bench/report.py --websocket RAW_DIR    bench/websocket: websocket-<time>.md/.json (and -latest), and
                                           results.websocket merged into latest.json
BENCH_RESULTS_DIR writes elsewhere than bench/results (a smoke run's figures are not results).
"""
import json, os, re, sys, time, platform, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import heartbeats_report
import websocket_report

results_dir = os.environ.get("BENCH_RESULTS_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
os.makedirs(results_dir, exist_ok=True)

def machine_description(generator):
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; load generator ({generator}) on the same cores"

def table(rows):
    lines = ["| scenario | result | baseline (same run) | ratio | target | holds |", "|---|---|---|---|---|---|"]
    for scenario, value, baseline, r, target, holds in rows:
        cells = (scenario, value, baseline, "" if r is None else f"{r}×", target, "" if holds is None else ("✅" if holds else "❌"))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines

if sys.argv[1] == "--heartbeats":
    summary, runs, failures = heartbeats_report.summarize(sys.argv[2])
    machine = machine_description("presence-bench rate, open loop")
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    md = [f"# Heartbeats: the open-loop figures ({stamp})", "", f"Machine: {machine}.", ""]
    md += table(heartbeats_report.rows(summary, runs))
    md += ["", "Reproduce: `bench/heartbeats` (or `make bench`, whose report has these rows too)."]
    if failures:
        md += ["", "Failed: " + "; ".join(failures)]
    text = "\n".join(md) + "\n"
    for name in (f"heartbeats-{stamp}", "heartbeats-latest"):
        open(os.path.join(results_dir, name + ".md"), "w").write(text)
        json.dump({"machine": machine, "results": {"heartbeats": summary, "heartbeats_runs": runs}, "failed": failures},
                  open(os.path.join(results_dir, name + ".json"), "w"), indent=2)
    print(text)
    print(json.dumps({"heartbeats": summary}))
    sys.exit(1 if failures else 0)

if sys.argv[1] == "--websocket":
    summary, runs, failures = websocket_report.summarize(sys.argv[2])
    machine = machine_description("presence-bench sockets")
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    summary["stamp"] = stamp
    md = [f"# Connected sockets: the figures of issue 26 ({stamp})", "", f"Machine: {machine}.", ""]
    md += table(websocket_report.rows(summary, runs))
    md += ["", "Reproduce: `bench/websocket` (as root: 100,000 sockets need the descriptor limit raised).", "",
           "Commands:", ""] + [f"    {line}" for line in summary.get("commands", [])]
    if failures:
        md += ["", "Failed: " + "; ".join(failures)]
    text = "\n".join(md) + "\n"
    for name in (f"websocket-{stamp}", "websocket-latest"):
        open(os.path.join(results_dir, name + ".md"), "w").write(text)
        json.dump({"machine": machine, "results": {"websocket": summary, "websocket_runs": runs}, "failed": failures},
                  open(os.path.join(results_dir, name + ".json"), "w"), indent=2)
    # results.websocket in latest.json, beside what bench/run put there.
    latest_path = os.path.join(results_dir, "latest.json")
    latest = json.load(open(latest_path)) if os.path.exists(latest_path) else {"machine": machine, "results": {}, "failed": []}
    latest.setdefault("results", {})["websocket"] = summary
    latest["failed"] = [f for f in latest.get("failed", []) if not str(f).startswith("websocket ")] + failures
    json.dump(latest, open(latest_path, "w"), indent=2)
    print(text)
    print(json.dumps({"websocket": {k: summary[k] for k in websocket_report.KEYS}}))
    sys.exit(1 if failures else 0)

raw, users = sys.argv[1], int(sys.argv[2])
failures = []

def read(name):
    path = os.path.join(raw, name)
    if not os.path.exists(path):
        failures.append(name)
        return None
    return open(path).read()

def wrk(name):
    text = read(name)
    if text is None:
        return None
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out = {"requests_per_second": float(rps.group(1)) if rps else None}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            value = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
            out[f"p{pct}_ms"] = round(value, 3)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    out["non_2xx"] = int(errors.group(1)) if errors else 0
    if socket_errors:
        out["socket_errors"] = socket_errors.group(1)
    if out["requests_per_second"] is None:
        failures.append(name)
    # A scenario counts only if every answer was 2xx and no request was lost.
    if out["non_2xx"]:
        failures.append(f"{name}: {out['non_2xx']} answers were not 2xx")
    if socket_errors and any(int(n) for n in re.findall(r"\d+", socket_errors.group(1))):
        failures.append(f"{name}: socket errors ({socket_errors.group(1)})")
    return out

def js(name):
    text = read(name)
    if text is None:
        return None
    try:
        return json.loads(text.strip().splitlines()[-1])
    except Exception:
        failures.append(name)
        return None

def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

# GET and the bare route run in alternating rounds (hummingbird_rN.txt, get_rN.txt): each
# rate is the median of its rounds, the ratio the median of the rounds' ratios.
rounds = []
n = 1
while os.path.exists(os.path.join(raw, f"get_r{n}.txt")):
    rounds.append({"hummingbird": wrk(f"hummingbird_r{n}.txt"), "get": wrk(f"get_r{n}.txt")})
    n += 1
if not rounds:
    failures.append("get_r1.txt")
def median_rate(name):
    return {"requests_per_second": median([(r[name] or {}).get("requests_per_second") for r in rounds]),
            "p99_ms": median([(r[name] or {}).get("p99_ms") for r in rounds])}
round_ratios = [round(r["get"]["requests_per_second"] / r["hummingbird"]["requests_per_second"], 3)
                for r in rounds if (r["get"] or {}).get("requests_per_second") and (r["hummingbird"] or {}).get("requests_per_second")]

data = {
    "nginx": wrk("nginx.txt"), "hummingbird": median_rate("hummingbird"), "hummingbird_c8": wrk("hummingbird_c8.txt"),
    "get_rounds": rounds, "get_round_ratios": round_ratios,
    "ceiling": js("ceiling.json"), "get": median_rate("get"), "get_c8": wrk("get_c8.txt"), "batch": wrk("batch.txt"),
    "put": wrk("put.txt"), "get_t1": wrk("get_t1.txt"), "mixed_get": wrk("mixed_get.txt"),
    "mixed_heartbeat": wrk("mixed_heartbeat.txt"), "session": wrk("session.txt"),
    "ceiling_sessions": js("ceiling_sessions.json"), "offline": js("offline.json"),
    "propagation": js("propagation.json"), "fanout": js("fanout.json"), "recovery": js("recovery.json"),
    "memory_100k": js("memory_100k.json"), "ready_100k": js("ready_100k.json"), "seed": js("seed.json"),
}
if os.path.exists(os.path.join(raw, "ready_1m.failed")):
    failures.append("ready_1m (a new leaf was not ready within 300 s)")
for optional in ("memory_1m", "ready_1m", "seed_1m", "cluster", "rolling_restart"):
    if os.path.exists(os.path.join(raw, optional + ".json")):
        data[optional] = js(optional + ".json")

def ratio(a, b):
    return round(a / b, 2) if a and b else None

def per_user(memory):
    if not memory:
        return None
    return round((memory["full_kib"] - memory["empty_kib"]) * 1024 / memory["users"])

rows = []
def row(scenario, value, baseline="", r=None, target="", holds=None):
    rows.append((scenario, value, baseline, "" if r is None else f"{r}×", target,
                 "" if holds is None else ("✅" if holds else "❌")))

g = lambda d, k: (d or {}).get(k)
row("HTTP ceiling: nginx, static 200-byte JSON (c64)", f"{g(data['nginx'],'requests_per_second'):,.0f} req/s" if g(data['nginx'],'requests_per_second') else "n/a")
row("Framework ceiling: bare Hummingbird route (c64)", f"{g(data['hummingbird'],'requests_per_second'):,.0f} req/s" if g(data['hummingbird'],'requests_per_second') else "n/a")
get_rps, hb_rps = g(data["get"], "requests_per_second"), g(data["hummingbird"], "requests_per_second")
r = round(median(round_ratios), 2) if round_ratios else None
row(f"GET one random user on a leaf (c64, median of {len(rounds)} rounds)", f"{get_rps:,.0f} req/s" if get_rps else "n/a",
    "bare Hummingbird, alternating rounds: " + ", ".join(f"{x:.2f}×" for x in round_ratios), r, "≥ 0.9×", r is not None and r >= 0.9)
p99 = g(data["get_c8"], "p99_ms")
row("GET at 8 connections: p50 / p99", f"{g(data['get_c8'],'p50_ms')} / {p99} ms", f"bare Hummingbird p99 {g(data['hummingbird_c8'],'p99_ms')} ms", None, "p99 ≤ 2 ms", p99 is not None and p99 <= 2)
b = g(data["batch"], "requests_per_second")
row("Batch GET of 100 users (c64)", f"{b:,.0f} req/s = {b*100:,.0f} users/s" if b else "n/a", "", ratio(b * 100 if b else None, hb_rps))
put, ceiling = g(data["put"], "requests_per_second"), g(data["ceiling"], "per_second")
r = ratio(put, ceiling)
row("PUT with JWT through a leaf (c64)", f"{put:,.0f} req/s, p99 {g(data['put'],'p99_ms')} ms" if put else "n/a",
    f"raw JetStream async publishes via the same leaf {ceiling:,}/s" if ceiling else "", r, "≥ 0.6×", r is not None and r >= 0.6)
sess, sceiling = g(data["session"], "requests_per_second"), g(data["ceiling_sessions"], "per_second")
r = ratio(sess, sceiling)
row("Session updates: PUT one of a user's 3 sessions (c64)", f"{sess:,.0f} req/s, p99 {g(data['session'],'p99_ms')} ms" if sess else "n/a",
    f"raw publishes via the same leaf {sceiling:,}/s" if sceiling else "", r)
mg, mh, alone = g(data["mixed_get"], "requests_per_second"), g(data["mixed_heartbeat"], "requests_per_second"), g(data["get_t1"], "requests_per_second")
paced = users / 30
row(f"Mixed: {users:,} users heartbeating every 30 s + reads at saturation",
    f"heartbeats {mh:,.0f}/s of {paced:,.0f}/s paced; reads {mg:,.0f} req/s (p99 {g(data['mixed_get'],'p99_ms')} ms)" if mg and mh else "n/a",
    f"reads alone (same wrk -t1 -c64) {alone:,.0f} req/s" if alone else "", ratio(mg, alone))
c = data.get("cluster") or {}
if c:
    r1, r3 = c["r1"], c["r3"]
    row("PUT on a standalone center (R1, c64)", f"{r1['put_per_second']:,.0f} req/s, p99 {r1['put_p99_ms']} ms",
        f"raw R1 publishes {r1['raw_per_second']:,}/s", ratio(r1["put_per_second"], r1["raw_per_second"]))
    r = ratio(r3["put_per_second"], r3["raw_per_second"])
    row("PUT on three clustered centers (R3, via a follower, c64)", f"{r3['put_per_second']:,.0f} req/s, p99 {r3['put_p99_ms']} ms",
        f"raw R3 publishes {r3['raw_per_second']:,}/s", r, "≥ 0.5×", r is not None and r >= 0.5)
    fo = c.get("failover") or {}
    if fo:
        row("Clustered failover: the bucket's leader killed (SIGKILL), writes through another center",
            f"longest time without an acknowledged write {fo['longest_gap_ms']/1000:.2f} s; answers meanwhile {fo['answers']}, {fo['no_answer']} unanswered")
rr = data.get("rolling_restart") or {}
if rr:
    clean = rr["non_2xx"] == 0 and rr.get("errors", 0) == 0 and rr["lost"] == 0
    row(f"Rolling restart of the three centers (each SIGTERM, started, ready, in turn) under {rr['offered_per_second']:,.0f} writes/s through a leaf (open loop)",
        f"{rr['writes']:,} writes: {rr['non_2xx']} non-2xx, {rr.get('errors', 0)} unanswered, {rr['lost']} lost; "
        f"p99 {rr['p99_ms']} ms, max {rr['max_latency_ms']} ms", "", None, "0 non-2xx, 0 lost", clean)
    if not clean:
        failures.append(f"rolling_restart: {rr['non_2xx']} non-2xx {rr['statuses']}, {rr.get('errors', 0)} unanswered, {rr['lost']} lost")
p = data.get("propagation") or {}
row("Propagation leaf → leaf (write start → SSE event): p50 / p99", f"{p.get('p50_us',0)/1000:.2f} / {p.get('p99_us',0)/1000:.2f} ms" if p else "n/a", "", None, "p99 ≤ 5 ms", bool(p) and p["p99_us"] <= 5000)
seeded = f"{users // 1000}k" if users < 1_000_000 else f"{users / 1e6:g}M"
for label, key in ((seeded, "memory_100k"), ("1M", "memory_1m")):
    if key in data:
        pu = per_user(data[key])
        row(f"Resident memory per user on a leaf at {label} users", f"{pu} B" if pu is not None else "n/a", "", None, "≤ 500 B at 1M" if label == "1M" else "", (pu is not None and pu <= 500) if label == "1M" else None)
for label, key, target in ((seeded, "ready_100k", 3000), ("1M", "ready_1m", 10000)):
    if key in data and data[key]:
        ms = data[key]["ready_ms"]
        load = data[key].get("replica_load") or {}
        where = (f" (replica load {load['seconds']:.1f} s: waiting for entries {load['waiting_for_entries_seconds']:.1f} s, "
                 f"decoding {load['decoding_seconds']:.1f} s, storing {load['storing_seconds']:.1f} s)") if "seconds" in load else ""
        row(f"New leaf ready with {label} users", f"{ms/1000:.2f} s{where}", "", None, f"≤ {target // 1000} s", ms <= target)
o = data.get("offline") or {}
if o:
    exact = o["reads_offline_before_deadline"] == 0 and o["reads_online_after_deadline"] == 0
    row(f"Time-to-offline, {o['users']} users, TTL {o['ttl_s']} s: last heartbeat on leaf-1 → `offline` event on a stream on leaf-2, after the deadline: p50 / p99 / max",
        f"{o['stream_p50_ms']:.0f} / {o['stream_p99_ms']:.0f} / {o['stream_max_ms']:.0f} ms ({o['stream_events']}/{o['users']} events)", "", None, "every event", o["stream_events"] == o["users"])
    row("Time-to-offline on reads of leaf-2: first offline read after the deadline, p50 / p99",
        f"{o['read_p50_ms']:.1f} / {o['read_p99_ms']:.1f} ms; {o['reads_offline_before_deadline']} reads offline early, {o['reads_online_after_deadline']} online late",
        "", None, "exact", exact)
f = data.get("fanout") or {}
if f:
    row(f"Fan-out: {f['streams']:,} streams, 1 update/user/s spread over each second: delay p50 / p99", f"{f['delay_p50_ms']:.1f} / {f['delay_p99_ms']:.1f} ms, {f['received_events']:,}/{f['expected_events']:,} events, leaf RSS {f['node_rss_kib']/1024:.0f} MiB")
rc = data.get("recovery") or {}
if rc:
    row("Hub restart: center start → leaf ready again", f"{rc['recovery_ms']/1000:.2f} s")
if os.path.isdir(os.path.join(raw, "heartbeats")):
    data["heartbeats"], data["heartbeats_runs"], heartbeat_failures = heartbeats_report.summarize(os.path.join(raw, "heartbeats"))
    failures += heartbeat_failures
    for scenario, value, baseline, r, target, holds in heartbeats_report.rows(data["heartbeats"], data["heartbeats_runs"]):
        row(scenario, value, baseline, r, target, holds)

# Figures of the benches that write latest.json themselves (bench/websocket: results.websocket,
# bench/audit: results.audit) are not bench/run's: kept from the latest.json before.
previous = os.path.join(results_dir, "latest.json")
for key in ("websocket", "audit"):
    if not os.path.exists(previous):
        break
    try:
        kept = json.load(open(previous)).get("results", {}).get(key)
    except Exception:
        kept = None
    if kept is not None:
        data[key] = kept

machine = machine_description("wrk -t2")
stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
md = [f"# swift-presence benchmark ({stamp})", "", f"Machine: {machine}. Users seeded: {users:,}.", "",
      "| scenario | result | baseline (same run) | ratio | target | holds |", "|---|---|---|---|---|---|"]
md += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
md += ["", "Reproduce: `make bench` (or `bench/run`); raw wrk and helper outputs are summarised in the JSON file."]
if failures:
    md += ["", "Scenarios that failed to run: " + ", ".join(failures)]
text = "\n".join(md) + "\n"
for name in (stamp, "latest"):
    open(os.path.join(results_dir, name + ".md"), "w").write(text)
    json.dump({"machine": machine, "users": users, "results": data, "failed": failures}, open(os.path.join(results_dir, name + ".json"), "w"), indent=2)
print(text)
sys.exit(1 if failures else 0)
