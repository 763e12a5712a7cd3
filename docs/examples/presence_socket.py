#!/usr/bin/env python3
"""A Python client for swift-presence's connected sessions (SPEC §3b, GET /api/v2/connect).

    pip install websockets
    presence_socket.py --url ws://127.0.0.1:8080/api/v2/connect --token "$(presence token --sub bob)" \
        --status busy --message "in a call" --watch alice,carol

The user is present while this runs: the websockets library answers the server's pings by
itself. Each subscribed user's presence is printed as one JSON line. When the connection
drops it reconnects with exponential backoff and jitter, for the same session (a reconnect
within presence.reconnect_grace shows no offline). Ctrl-C closes the socket: the session ends
at once on every node. `--seconds N` stops after N seconds (for scripts and tests).
"""

import argparse
import asyncio
import json
import random
import sys

import websockets


async def run(args):
    session, attempt = args.session, 0
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + args.seconds if args.seconds else None
    while True:
        try:
            # The token goes in the hello (or an Authorization header), never in the URL.
            async with websockets.connect(args.url, open_timeout=10) as ws:
                hello = {"type": "hello", "token": args.token, "status": args.status, "message": args.message}
                if session:
                    hello["session"] = session
                await ws.send(json.dumps(hello))
                welcome = json.loads(await ws.recv())
                if welcome.get("type") != "welcome":
                    print(json.dumps(welcome), file=sys.stderr)
                    return 1
                session, attempt = welcome["session"], 0
                print(json.dumps(welcome), flush=True)
                if args.watch:
                    await ws.send(json.dumps({"id": 1, "type": "subscribe", "users": args.watch.split(",")}))
                while True:
                    timeout = None if stop_at is None else max(0.0, stop_at - loop.time())
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                    except asyncio.TimeoutError:
                        await ws.close(1000, "bye")  # the session ends at once
                        return 0
                    print(json.dumps(message), flush=True)
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            if code in (1000, 4409):  # closed for good, or another connection took the session
                print(f"closed: {code}", file=sys.stderr)
                return 0
        except (OSError, asyncio.TimeoutError) as error:
            print(f"cannot connect: {error}", file=sys.stderr)
        if stop_at is not None and loop.time() >= stop_at:
            return 1
        delay = min(30.0, 0.5 * 2 ** attempt)
        attempt += 1
        await asyncio.sleep(delay / 2 + random.random() * delay / 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="ws://host:port/api/v2/connect (wss:// with TLS)")
    parser.add_argument("--token", required=True, help="a JWT whose sub is the user")
    parser.add_argument("--session", help="the session id (default: the server makes one up)")
    parser.add_argument("--status", default="online", choices=["online", "away", "busy", "offline", "invisible"])
    parser.add_argument("--message", default="")
    parser.add_argument("--watch", default="", help="users to subscribe to, comma-separated")
    parser.add_argument("--seconds", type=float, help="close after this many seconds")
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
