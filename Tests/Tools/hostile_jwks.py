#!/usr/bin/env python3
"""JWK Set providers that misbehave, for the tests of swift-presence.

  hostile_jwks.py MODE [FILE]   listens on 127.0.0.1 on a port the OS assigns, prints
                                "port N", then "connection N" for each connection it accepts.

MODE:
  silent      accepts the connection and never says anything
  trickle     sends the headers, then a body of one byte a second, without end
  huge        after 3 s, sends 100 MB of body (no Content-Length: read until close)
  redirect    answers 302 to the same path on a second port it also listens on (another
              origin), which serves FILE
  slow FILE   serves FILE after one second
  same FILE   answers 302 to another path on the same origin, which serves FILE
  status      answers 500
  notjwks     answers 200 with a JSON array
  html        answers 200 with an HTML page (a login page where the set should be)
  untrusted PREFIX
              speaks TLS with the certificate PREFIX.pem and key PREFIX.key (which no
              client trusts) and serves an empty set
"""
import socket
import ssl
import sys
import threading
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
FILE = sys.argv[2] if len(sys.argv) > 2 else None
lock = threading.Lock()
count = 0


def say(text):
    with lock:
        print(text, flush=True)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


def document():
    with open(FILE, "rb") as handle:
        return handle.read()


def ok(conn, body):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n" % len(body) + body)


def serve(conn, other_port):
    try:
        if MODE == "untrusted":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(FILE + ".pem", FILE + ".key")
            conn = context.wrap_socket(conn, server_side=True)
            if read_head(conn) is not None:
                ok(conn, b'{"keys": []}')
            return
        if MODE == "silent":
            while conn.recv(4096):
                pass
            return
        head = read_head(conn)
        if head is None:
            return
        if MODE == "trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            conn.sendall(b'{"keys": [')
            while True:
                time.sleep(1)
                conn.sendall(b" ")
        elif MODE == "huge":
            time.sleep(3)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            conn.sendall(b'{"keys": [], "padding": "')
            block = b"x" * 65536
            sent = 0
            while sent < 100 * 1024 * 1024:
                conn.sendall(block)
                sent += len(block)
            conn.sendall(b'"}')
            say("sent all %d bytes" % sent)
        elif MODE == "redirect":
            conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/jwks.json\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n" % other_port)
        elif MODE == "slow":
            time.sleep(1)
            ok(conn, document())
        elif MODE == "same":
            if b"GET /moved.json " in head:
                ok(conn, document())
            else:
                conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /moved.json\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
        elif MODE == "status":
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        elif MODE == "notjwks":
            ok(conn, b"[]")
        elif MODE == "html":
            body = b"<!doctype html><html><head><title>Sign in</title></head><body>Sign in</body></html>"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    finally:
        conn.close()


def target(conn):
    try:
        if read_head(conn) is not None:
            say("target request")
            ok(conn, document())
    except OSError:
        pass
    finally:
        conn.close()


def listen():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    return server


def accept_loop(server, handler):
    global count
    while True:
        conn, _ = server.accept()
        with lock:
            count += 1
            print("connection %d" % count, flush=True)
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def main():
    main_server = listen()
    other_port = 0
    if MODE == "redirect":
        other = listen()
        other_port = other.getsockname()[1]
        threading.Thread(target=lambda: accept_loop_plain(other), daemon=True).start()
    say("port %d" % main_server.getsockname()[1])
    accept_loop(main_server, lambda conn: serve(conn, other_port))


def accept_loop_plain(server):
    while True:
        conn, _ = server.accept()
        threading.Thread(target=target, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
