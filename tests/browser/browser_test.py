#!/usr/bin/env python3
"""A real browser (Debian's chromium, headless, driven by Playwright) against a real node.

A page served from another origin than the API (same host, another port, so CORS applies):
  (a) writes alice's presence with `fetch` PUT and a Bearer JWT;
  (b) reads it with `fetch` GET, including the `ETag` header (it must be exposed by CORS),
      and sends it back in `If-None-Match` (304);
  (c) follows alice with `EventSource` (snapshot event), while the node is stopped with
      SIGTERM (exit 0) and started again on the same port and data directory; the page
      then writes `busy`, and the same EventSource, reconnecting by itself (`retry: 2000`,
      `Last-Event-ID`), delivers it;
  (d) a page on an origin that is not allowed cannot read (fetch rejects), cannot write
      (the preflight is refused, nothing is written) and cannot open the stream;
  (e) a connected client (SPEC §3b) with docs/examples/presence-socket.js: the page opens a
      WebSocket to the node, says hello as carol, sets busy, subscribes to bob, sees bob's
      change made by docs/examples/presence_socket.py on a leaf of the node (and bob going
      offline when that client stops), and carol reads busy on the leaf; when the page is
      closed, carol reads offline on the leaf; a page on another origin cannot open a socket.

The node is started as in production:
  presence serve --data-dir <tmp> --http-port <port> --node-id browser-node
with JWT_SECRET, PRESENCE_NATS_CLIENT_PORT=0, PRESENCE_NATS_LEAFNODE_PORT=0,
PRESENCE_SERVICE_HTTP_CORS_ALLOWED_ORIGINS=<the page's origin> and .tools/nats-server/bin
first on PATH. Every port comes from the OS.

Usage: browser_test.py [path/to/presence]   (or PRESENCE_BINARY; default .build/debug/presence)
BROWSER_TEST_ALLOWED_ORIGINS, when set, replaces the allowed origins the node is given
(to watch the test fail: e.g. BROWSER_TEST_ALLOWED_ORIGINS=http://example.com), and
BROWSER_TEST_CHROMIUM the browser's path (to watch the skip: a path that does not exist).

Exit 0 when every step passed, 1 when one failed; 0 with "SKIPPED: chromium could not be
installed: <reason>" only when /usr/bin/chromium is missing (scripts/install-browser.sh
records why apt-get could not install it).
"""

import base64
import functools
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium")  # another path: to see the skip
INSTALL_FAILURE = os.path.join(REPO, ".tools", "browser-install-failure.txt")
NATS_BIN = os.path.join(REPO, ".tools", "nats-server", "bin")
SECRET = "browser-test-secret-0123456789abcdefghij"  # 40 characters
assert len(SECRET) == 40
USER = "alice"

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>swift-presence browser test</title>
<link rel="icon" href="data:,">
<p>swift-presence browser test page</p>
<script src="presence-socket.js"></script>
<script>
// fetch with the answer's status, body and the headers the page can read (CORS-exposed).
async function call(method, url, options) {
  const o = options || {};
  const headers = Object.assign({}, o.headers || {});
  if (o.token) headers["Authorization"] = "Bearer " + o.token;
  if (o.body !== undefined) headers["Content-Type"] = "application/json";
  const started = performance.now();
  try {
    const r = await fetch(url, {method, headers, cache: o.cache || "no-store",
                                body: o.body === undefined ? undefined : JSON.stringify(o.body)});
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) {}
    return {ok: true, status: r.status, json, text, ms: performance.now() - started,
            etag: r.headers.get("ETag"), requestId: r.headers.get("X-Request-ID"),
            wwwAuthenticate: r.headers.get("WWW-Authenticate"),
            contentType: r.headers.get("Content-Type")};
  } catch (e) {
    return {ok: false, error: String(e), ms: performance.now() - started};
  }
}

// One EventSource; everything it reports goes to window.streamLog.
window.streamLog = [];
function openStream(url) {
  const t0 = performance.now();
  const es = new EventSource(url);
  window.stream = es;
  const at = () => Math.round(performance.now() - t0);
  es.addEventListener("open", () => streamLog.push({type: "open", t: at()}));
  es.addEventListener("error", () => streamLog.push({type: "error", readyState: es.readyState, t: at()}));
  es.addEventListener("presence", e => {
    let data = null;
    try { data = JSON.parse(e.data); } catch (err) { data = {unparsed: e.data}; }
    streamLog.push({type: "presence", id: e.lastEventId, data, t: at()});
  });
  es.onmessage = e => streamLog.push({type: "message", data: e.data, t: at()});
}
</script>
"""


class StepFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_token(secret, sub, lifetime=600):
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = b64url(json.dumps({"sub": sub, "iat": now, "exp": now + lifetime}, separators=(",", ":")).encode())
    signing_input = f"{header}.{claims}".encode()
    signature = b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{claims}.{signature}"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class PageServer:
    """A static page on http://127.0.0.1:<OS-assigned port>."""

    def __init__(self, directory):
        handler = functools.partial(QuietHandler, directory=directory)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Node:
    """`presence serve`, started and stopped as in production; its log goes to a file."""

    def __init__(self, binary, work_dir, data_dir, port, allowed_origins, node_id="browser-node", extra_args=()):
        self.binary, self.work_dir, self.data_dir, self.port = binary, work_dir, data_dir, port
        self.node_id, self.extra_args = node_id, list(extra_args)
        self.api = f"http://127.0.0.1:{port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PRESENCE_") and k != "JWT_SECRET"}
        self.env.update({
            "JWT_SECRET": SECRET,
            "PRESENCE_NATS_CLIENT_PORT": "0",
            "PRESENCE_NATS_LEAFNODE_PORT": "0",
            "PRESENCE_SERVICE_HTTP_CORS_ALLOWED_ORIGINS": allowed_origins,
            "PATH": NATS_BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
        })
        self.proc = None
        self.lines = []
        self.starts = 0

    def start(self, timeout=60):
        self.starts += 1
        log = open(os.path.join(self.work_dir, f"{self.node_id}-{self.starts}.log"), "w")
        listening = threading.Event()
        # Its own process group, so that cleanup can also reach the nats-server it started;
        # the working directory is the temporary one (a coverage build writes default.profraw).
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--http-port", str(self.port),
             "--node-id", self.node_id] + self.extra_args,
            env=self.env, cwd=self.work_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, text=True, errors="replace")

        def pump(proc=self.proc):
            for line in proc.stdout:
                log.write(line)
                log.flush()
                self.lines.append(line.rstrip("\n"))
                if "HTTP server listening" in line:
                    listening.set()
            log.close()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not listening.wait(0.05):
            if self.proc.poll() is not None:
                raise StepFailed(f"the node exited with {self.proc.returncode} before listening")
            if time.monotonic() > deadline:
                raise StepFailed(f"no 'HTTP server listening' within {timeout} s")
        last = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.api + "/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return
                    last = r.status
            except urllib.error.HTTPError as e:
                last = f"{e.code} {e.read()[:200]!r}"
            except OSError as e:
                last = repr(e)
            if self.proc.poll() is not None:
                raise StepFailed(f"the node exited with {self.proc.returncode} before ready")
            time.sleep(0.1)
        raise StepFailed(f"/health/ready not 200 within {timeout} s (last: {last})")

    def terminate(self, timeout=30):
        """SIGTERM, as an orchestrator stops it; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise StepFailed(f"the node did not exit within {timeout} s of SIGTERM")

    def kill(self):
        """Cleanup: whatever of this node's process group is still there."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


def wait_for(page, predicate_js, timeout):
    """Polls a JS expression over window.streamLog until it is truthy; returns it or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(predicate_js)
        if value:
            return value
        time.sleep(0.1)
    return None


def stream_summary(log):
    parts = []
    for e in log:
        if e["type"] == "presence":
            parts.append(f"presence(id={e['id']},{e['data'].get('status')})@{e['t']}")
        elif e["type"] == "error":
            parts.append(f"error(readyState={e['readyState']})@{e['t']}")
        else:
            parts.append(f"{e['type']}@{e['t']}")
    return " ".join(parts)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "PRESENCE_BINARY", os.path.join(REPO, ".build", "debug", "presence"))
    binary = os.path.abspath(binary)

    if not os.access(CHROMIUM, os.X_OK):
        # Skipped only when scripts/install-browser.sh tried and apt-get could not install it.
        if os.path.exists(INSTALL_FAILURE):
            with open(INSTALL_FAILURE) as f:
                reason = f.read().strip() or "apt-get failed"
            print(f"SKIPPED: chromium could not be installed: {reason}")
            return 0
        print(f"FAIL: {CHROMIUM} is not installed; run scripts/install-browser.sh (make test-browser does)",
              file=sys.stderr)
        return 1
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        print(f"FAIL: the Playwright driver is missing ({e}); run scripts/install-browser.sh and use "
              f".tools/python-venv/bin/python", file=sys.stderr)
        return 1
    if not os.access(binary, os.X_OK):
        print(f"FAIL: no presence binary at {binary}", file=sys.stderr)
        return 1

    started = time.monotonic()
    results = []  # (step, passed, line)
    work_dir = tempfile.mkdtemp(prefix="presence-browser-")
    page_dir = os.path.join(work_dir, "page")
    os.makedirs(page_dir)
    with open(os.path.join(page_dir, "index.html"), "w") as f:
        f.write(PAGE)
    shutil.copy(os.path.join(REPO, "docs", "examples", "presence-socket.js"), page_dir)

    allowed_page = PageServer(page_dir)
    other_page = PageServer(page_dir)  # same page, an origin the node does not list
    node = Node(binary, work_dir, os.path.join(work_dir, "data"), free_port(),
                os.environ.get("BROWSER_TEST_ALLOWED_ORIGINS", allowed_page.origin))
    api = node.api
    token = mint_token(SECRET, USER)
    browser = None
    playwright = None
    console = []
    leaf = None

    def step(name, fn):
        t0 = time.monotonic()
        try:
            detail = fn()
            line = f"PASS ({name}) {detail} [{(time.monotonic() - t0) * 1000:.0f} ms]"
            results.append((name, True, line))
        except StepFailed as e:
            line = f"FAIL ({name}) {e} [{(time.monotonic() - t0) * 1000:.0f} ms]"
            results.append((name, False, line))
        except Exception as e:  # a driver error is a failure of the step, not a crash
            line = f"FAIL ({name}) {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            results.append((name, False, line))
        print(line, flush=True)
        return results[-1][1]

    try:
        print(f"browser test: API {api} (node {binary}), page {allowed_page.origin}, "
              f"other origin {other_page.origin}, allowed origins {node.env['PRESENCE_SERVICE_HTTP_CORS_ALLOWED_ORIGINS']}",
              flush=True)
        node.start()
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context()
        page = context.new_page()
        page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
        page.goto(allowed_page.origin + "/index.html")
        print(f"chromium {browser.version}, page loaded from {page.evaluate('location.origin')}", flush=True)

        def put(status, message):
            return page.evaluate(
                "([url, token, body]) => call('PUT', url, {token, body})",
                [f"{api}/api/v2/presence/{USER}", token, {"status": status, "message": message}])

        # (a) write with a token
        def step_a():
            r = put("online", "hi")
            check(r["ok"], f"fetch PUT rejected by the browser: {r.get('error')}")
            check(r["status"] == 200, f"PUT answered {r['status']}: {r['text'][:300]}")
            check(r["json"] and r["json"].get("status") == "online", f"PUT body: {r['text'][:300]}")
            check(r["etag"], "the PUT's ETag header is not readable from the page")
            # An error answer is readable too (Access-Control-Allow-Origin on errors), with
            # WWW-Authenticate exposed.
            bad = page.evaluate(
                "([url, token, body]) => call('PUT', url, {token, body})",
                [f"{api}/api/v2/presence/{USER}", mint_token("not-the-secret-" + "x" * 25, USER), {"status": "away"}])
            check(bad["ok"], f"fetch PUT with a bad token rejected by the browser (no CORS on errors?): {bad.get('error')}")
            check(bad["status"] == 401 and (bad["json"] or {}).get("error", {}).get("code") == "unauthorized",
                  f"PUT with a bad token answered {bad['status']}: {bad['text'][:300]}")
            check(bad["wwwAuthenticate"], "WWW-Authenticate is not readable from the page on a 401")
            return (f"fetch PUT {api}/api/v2/presence/{USER} from {allowed_page.origin} with a Bearer JWT -> 200 "
                    f"status=online, ETag {r['etag']}; with a badly signed JWT -> 401 unauthorized readable, "
                    f"WWW-Authenticate: {bad['wwwAuthenticate']}")

        # (b) read, with the ETag exposed
        state = {}

        def step_b():
            r = page.evaluate("(url) => call('GET', url)", f"{api}/api/v2/presence/{USER}")
            check(r["ok"], f"fetch GET rejected by the browser: {r.get('error')}")
            check(r["status"] == 200, f"GET answered {r['status']}: {r['text'][:300]}")
            body = r["json"] or {}
            check(body.get("status") == "online" and body.get("message") == "hi", f"GET body: {r['text'][:300]}")
            check(r["etag"], "the ETag header is not readable from the page (not exposed by CORS)")
            check(r["requestId"], "the X-Request-ID header is not readable from the page")
            if "revision" in body:
                check(r["etag"] == f'"{body["revision"]}"', f"ETag {r['etag']} is not the revision {body['revision']}")
            state["etag"] = r["etag"]
            again = page.evaluate("([url, etag]) => call('GET', url, {headers: {'If-None-Match': etag}})",
                                  [f"{api}/api/v2/presence/{USER}", r["etag"]])
            check(again["ok"], f"fetch GET with If-None-Match rejected by the browser: {again.get('error')}")
            check(again["status"] == 304, f"GET with If-None-Match {r['etag']} answered {again['status']}")
            # As an app reads it (the browser's HTTP cache on, so it may revalidate by itself).
            for _ in range(2):
                cached = page.evaluate("(url) => call('GET', url, {cache: 'default'})", f"{api}/api/v2/presence/{USER}")
                check(cached["ok"] and cached["status"] == 200 and (cached["json"] or {}).get("status") == "online",
                      f"fetch GET with the HTTP cache: {cached}")
            return f"fetch GET -> 200 status=online, ETag {r['etag']} readable; If-None-Match -> 304; cached GET -> 200"

        # (c) EventSource across a restart
        def step_c():
            url = f"{api}/api/v2/presence/stream?users={USER}"
            page.evaluate("(url) => openStream(url)", url)
            first = wait_for(page, "streamLog.find(e => e.type === 'presence' && e.data.user_id === 'alice')"
                                   " || (stream.readyState === EventSource.CLOSED && 'closed')", 10)
            log = page.evaluate("streamLog")
            check(first != "closed", f"the browser closed the EventSource for good; stream: {stream_summary(log)}")
            check(first, f"no snapshot event for alice within 10 s; stream: {stream_summary(log)}")
            check(first["data"].get("status") == "online", f"snapshot event: {first}")
            snapshot_id = first["id"]
            print(f"     (c) snapshot event id={snapshot_id} status=online; SIGTERM to the node", flush=True)

            t_term = time.monotonic()
            code = node.terminate()
            check(code == 0, f"the node exited with {code} after SIGTERM")
            stopped_ms = (time.monotonic() - t_term) * 1000
            seen_error = wait_for(page, "streamLog.some(e => e.type === 'error')", 5)
            check(seen_error, "the EventSource did not notice the node going away")
            log_before = len(page.evaluate("streamLog"))

            node.start()
            ready_ms = (time.monotonic() - t_term) * 1000
            print(f"     (c) node exited 0 in {stopped_ms:.0f} ms, ready again {ready_ms:.0f} ms after SIGTERM", flush=True)
            # Wait until the EventSource is open again before writing: a write that lands
            # before the reconnection is delivered anyway (Last-Event-ID), but this way the
            # test also shows that the reconnect itself happened.
            reopened = wait_for(page, f"streamLog.slice({log_before}).some(e => e.type === 'open')", 15)
            log = page.evaluate("streamLog")
            check(reopened, f"the EventSource did not reconnect within 15 s of the node being ready; "
                            f"readyState={page.evaluate('stream.readyState')}; stream: {stream_summary(log)}")
            after_reopen = [e for e in log[log_before:] if e["type"] == "presence"]
            check(not after_reopen, f"after reconnecting with Last-Event-ID {snapshot_id} the stream re-sent "
                                    f"{[(e['id'], e['data'].get('status')) for e in after_reopen]}")

            r = put("busy", "restarted")
            check(r["ok"], f"fetch PUT after the restart rejected by the browser: {r.get('error')}")
            check(r["status"] == 200, f"PUT after the restart answered {r['status']}: {r['text'][:300]}")
            busy = wait_for(page, "streamLog.find(e => e.type === 'presence' && e.data.status === 'busy')", 10)
            log = page.evaluate("streamLog")
            check(busy, f"no busy event within 10 s; stream: {stream_summary(log)}")
            check(busy["data"].get("message") == "restarted", f"busy event: {busy}")
            check(int(busy["id"]) > int(snapshot_id), f"busy event id {busy['id']} not above {snapshot_id}")
            check(page.evaluate("stream.readyState") == 1, "the EventSource is not open")
            errors = sum(1 for e in log if e["type"] == "error")
            opens = sum(1 for e in log if e["type"] == "open")
            return (f"EventSource snapshot alice online (id {snapshot_id}); node SIGTERM -> exit 0, restarted on "
                    f"port {node.port}; same EventSource reconnected by itself ({opens} opens, {errors} errors) and "
                    f"delivered alice busy (id {busy['id']}); stream: {stream_summary(log)}")

        # (d) an origin that is not allowed
        def step_d():
            other = context.new_page()
            other.on("console", lambda m: console.append(f"[other {m.type}] {m.text}"))
            other.goto(other_page.origin + "/index.html")
            r = other.evaluate("(url) => call('GET', url)", f"{api}/api/v2/presence/{USER}")
            check(not r["ok"], f"fetch GET from {other_page.origin} was not blocked: {r.get('status')} {r.get('text', '')[:200]}")
            w = other.evaluate("([url, token, body]) => call('PUT', url, {token, body})",
                               [f"{api}/api/v2/presence/{USER}", token, {"status": "away", "message": "intruder"}])
            check(not w["ok"], f"fetch PUT from {other_page.origin} was not blocked: {w.get('status')} {w.get('text', '')[:200]}")
            # The preflight was refused, so the PUT itself was never sent: alice is still busy.
            try:
                with urllib.request.urlopen(f"{api}/api/v2/presence/{USER}", timeout=5) as resp:
                    now = json.loads(resp.read())
            except urllib.error.HTTPError as e:
                raise StepFailed(f"reading {USER} back (outside the browser) answered {e.code}")
            check(now.get("status") == "busy", f"the blocked PUT was applied anyway: {now}")
            other.evaluate("(url) => openStream(url)", f"{api}/api/v2/presence/stream?users={USER}")
            closed = wait_for(other, "streamLog.some(e => e.type === 'error' && e.readyState === 2)", 10)
            log = other.evaluate("streamLog")
            check(closed, f"EventSource from {other_page.origin} was not refused: {stream_summary(log)}")
            check(not any(e["type"] == "presence" for e in log), f"EventSource from {other_page.origin} got events")
            other.close()
            return (f"from {other_page.origin}: fetch GET rejected ({r['error']}), fetch PUT rejected and not "
                    f"applied, EventSource closed without events")

        # (e) a connected client: docs/examples/presence-socket.js in the page, the Python
        # example for another user on a leaf of the node
        def step_e():
            nonlocal leaf
            ports = [l.split("leafnode_port=")[1].split()[0] for l in node.lines if "leafnode_port=" in l]
            check(ports, "the node did not log its leafnode port")
            hub = f"nats-leaf://127.0.0.1:{ports[-1].split(':')[-1]}"
            leaf = Node(binary, work_dir, os.path.join(work_dir, "leaf-data"), free_port(),
                        node.env["PRESENCE_SERVICE_HTTP_CORS_ALLOWED_ORIGINS"], node_id="browser-leaf",
                        extra_args=["--role", "leaf", "--hub", hub])
            leaf.start()
            ws_url = api.replace("http://", "ws://") + "/api/v2/connect"
            page.evaluate("""([url, token]) => {
                window.socketLog = []; window.socketStates = [];
                window.sock = new PresenceSocket({url, token, session: "tab-1", device: "chromium",
                    onPresence: p => socketLog.push(p), onState: (s, d) => socketStates.push(s)});
            }""", [ws_url, mint_token(SECRET, "carol")])
            live = wait_for(page, "socketStates.includes('live')", 10)
            check(live, f"the socket did not become live: states {page.evaluate('socketStates')}")
            own = page.evaluate("sock.set('busy', 'in the browser').then(p => p, e => ({error: e.code || String(e)}))")
            check(own.get("status") == "busy", f"set answered {own}")
            page.evaluate("sock.subscribe(['bob'])")

            def leaf_read(user):
                try:
                    with urllib.request.urlopen(f"{leaf.api}/api/v2/presence/{user}", timeout=5) as resp:
                        return json.loads(resp.read())
                except urllib.error.HTTPError as e:
                    return {"http": e.code}

            deadline = time.monotonic() + 5
            while leaf_read("carol").get("status") != "busy" and time.monotonic() < deadline:
                time.sleep(0.05)
            check(leaf_read("carol").get("status") == "busy", f"carol on the leaf: {leaf_read('carol')}")
            example = subprocess.run(
                [sys.executable, os.path.join(REPO, "docs", "examples", "presence_socket.py"),
                 "--url", leaf.api.replace("http://", "ws://") + "/api/v2/connect", "--token", mint_token(SECRET, "bob"),
                 "--status", "away", "--message", "from python", "--seconds", "1.5"],
                capture_output=True, text=True, timeout=30)
            check(example.returncode == 0 and '"welcome"' in example.stdout,
                  f"the Python example exited {example.returncode}: {example.stdout[-300:]} {example.stderr[-300:]}")
            seen = wait_for(page, "socketLog.some(p => p.user_id === 'bob' && p.status === 'away' && p.message === 'from python')"
                                  " && socketLog.some(p => p.user_id === 'bob' && p.status === 'offline')", 10)
            check(seen, f"the page did not see bob away then offline: {page.evaluate('socketLog')}")
            page.close()
            closed_at = time.monotonic()
            while leaf_read("carol").get("status") != "offline" and time.monotonic() < closed_at + 10:
                time.sleep(0.02)
            offline_ms = (time.monotonic() - closed_at) * 1000
            check(leaf_read("carol").get("status") == "offline", f"carol after the page closed: {leaf_read('carol')}")
            other = context.new_page()
            other.goto(other_page.origin + "/index.html")
            refused = other.evaluate("""(url) => new Promise(resolve => {
                const ws = new WebSocket(url);
                ws.onopen = () => resolve('opened');
                ws.onclose = e => resolve('closed ' + e.code);
            })""", ws_url)
            check(refused.startswith("closed"), f"a page on {other_page.origin} opened a socket: {refused}")
            other.close()
            return (f"page socket (presence-socket.js) live as carol, set busy, saw bob away 'from python' (the Python "
                    f"example on the leaf) then offline; carol offline on the leaf {offline_ms:.0f} ms after the page "
                    f"closed; from {other_page.origin}: {refused}")

        for name, fn in (("a", step_a), ("b", step_b), ("c", step_c), ("d", step_d), ("e", step_e)):
            step(name, fn)
    except Exception as e:
        results.append(("setup", False, f"FAIL (setup) {type(e).__name__}: {e}"))
        print(results[-1][2], flush=True)
    finally:
        try:
            if browser is not None:
                browser.close()
            if playwright is not None:
                playwright.stop()
        except Exception as e:
            print(f"(closing the browser: {e})", file=sys.stderr)
        node.kill()
        if leaf is not None:
            leaf.kill()
        allowed_page.close()
        other_page.close()

    failed = [r for r in results if not r[1]]
    elapsed = time.monotonic() - started
    if failed:
        print("--- browser console ---")
        for line in console[-20:]:
            print("  " + line)
        print(f"--- last node log lines, without nats-server's ({work_dir}) ---")
        for line in [l for l in node.lines if "component=nats-server" not in l][-25:]:
            print("  " + line[:300])
        print(f"browser test: FAILED {len(failed)} of {len(results)} steps "
              f"({', '.join(r[0] for r in failed)}) in {elapsed:.1f} s; logs kept in {work_dir}")
        return 1
    shutil.rmtree(work_dir, ignore_errors=True)
    print(f"browser test: all {len(results)} steps passed in {elapsed:.1f} s")
    return 0


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # so that the cleanup in main() runs


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_sigterm)
    sys.exit(main())
