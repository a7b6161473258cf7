"""A small real server serving Prometheus text that a test can change, break and stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Exposition:
    """The body the server answers with; `body = None` answers 500 (not an exposition)."""

    def __init__(self) -> None:
        self.body: str | None = ""
        self.server: ThreadingHTTPServer | None = None
        self.url = ""

    def stop(self) -> None:
        """Stop answering: later scrapes get connection refused."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def exposition() -> Iterator[Exposition]:
    state = Exposition()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.body
            if body is None:
                self.send_response(500)
                self.end_headers()
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.server = server
    state.url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.stop()
    thread.join(5)
