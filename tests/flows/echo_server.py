"""A small HTTP/1.1 server on loopback (port 0, own thread) that counts what it answered.

`/status/N` answers status N; `/text` a body with control bytes and an `X-Trace` header;
`/json` a JSON document; `/echo/...` echoes the path, query, request headers and body back in
the body, in an `X-Echo` header and in a `Location` URL (what a server that reflects a secret
does). Every answer is counted by path and status, so tests compare recorded counts with what
the server really sent.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.server.lock:
            self.server.answered[(self.path.split("?")[0], status)] += 1

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length))

    def _answer(self, body: bytes) -> None:
        path = self.path
        if path.startswith("/status/"):
            self._send(int(path.split("/")[2].split("?")[0]), b"no")
        elif path == "/text":
            text = b"hello \x1b[31mred\x07 world\r\nbye"
            self._send(200, text, {"X-Trace": "abd", "Content-Type": "text/plain"})
        elif path == "/json":
            self._send(200, json.dumps({"status": "pending", "n": 3}).encode())
        elif path.startswith("/echo"):
            echoed = {
                "path": path,
                "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace"),
            }
            self._send(
                200,
                json.dumps(echoed).encode(),
                {"X-Echo": unquote(path), "Location": f"http://127.0.0.1{path}"},
            )
        else:
            self._send(404, b"not found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.answered: Counter[tuple[str, int]] = Counter()


@contextmanager
def echo_server() -> Iterator[tuple[str, Counter[tuple[str, int]]]]:
    """(base URL, counts of answers by (path, status)) while the server runs."""
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.answered
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
