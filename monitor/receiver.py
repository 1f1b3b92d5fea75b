"""`nis2-monitor receiver`: a local webhook receiver (Apprise json://) for the live demo.

It prints each alert once; a repeat of a delivery id it has seen is named as such."""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from monitor.deliver import DELIVERY_HEADER


class _Handler(BaseHTTPRequestHandler):
    seen: set[str]
    lock: threading.Lock

    def log_message(self, fmt: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        delivery = self.headers.get(DELIVERY_HEADER, "?")
        self.send_response(200)
        self.end_headers()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = {"title": "(not JSON)", "message": raw.decode(errors="replace")}
        with self.lock:
            repeat = delivery in self.seen
            self.seen.add(delivery)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        if repeat:
            print(f"{now} repeat of delivery {delivery} (already shown)", flush=True)
            return
        print(f"\n=== {now} alert received (delivery {delivery}) ===", flush=True)
        print(payload.get("title", ""), flush=True)
        print(payload.get("message", ""), flush=True)


def serve(port: int) -> int:
    handler = type("Receiver", (_Handler,), {"seen": set(), "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    print(
        f"listening on http://127.0.0.1:{port}/ (alerts to json://127.0.0.1:{port}/alerts); "
        "Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
