#!/usr/bin/env python3
"""bench/otlp_sink.py PORT_FILE: an OTLP/HTTP sink for bench/tracing. Answers every POST (e.g.
/v1/traces) 200 with an empty body and counts requests and bytes; writes its port (one the OS
assigns) to PORT_FILE, and on SIGTERM prints {"requests": N, "bytes": N} to stdout."""
import http.server, json, signal, sys, threading

counts = {"requests": 0, "bytes": 0}

class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        counts["requests"] += 1
        counts["bytes"] += length
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
def stop(*_):
    print(json.dumps(counts), flush=True)
    threading.Thread(target=server.shutdown).start()
signal.signal(signal.SIGTERM, stop)
server.serve_forever()
