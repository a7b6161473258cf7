"""A TLS server on a thread with blocking sockets, for the handshake failures asyncio's server
cannot show: when asyncio (as a server) rejects a client certificate it drops the socket without
flushing its alert, and closing with the client's request unread sends RST before the alert. Real
servers (nginx, OpenSSL's s_server) send the alert; so does this one, then drains and closes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class StrictTlsServer:
    """Answers every request with 200 `ok` (keep-alive); counts handshakes that failed."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self.rejected: list[str] = []
        """Why each refused handshake failed, as the server saw it."""
        self.requests = 0

    def __enter__(self) -> StrictTlsServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept(): the thread ends
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        tls = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            self.rejected.append(str(exc))
            _drain(tls)
            return
        with contextlib.closing(tls):
            data = b""
            with contextlib.suppress(ssl.SSLError, OSError):
                while chunk := tls.recv(4096):  # the client cert is judged on this first read
                    data += chunk
                    while b"\r\n\r\n" in data:
                        _, data = data.split(b"\r\n\r\n", 1)
                        self.requests += 1
                        tls.sendall(OK)
                return
            self.rejected.append("after the handshake")
            _drain(tls)


def _drain(tls: ssl.SSLSocket) -> None:
    """FIN after the alert, then read what the client sent, so the close is not an RST."""
    raw = socket.socket(fileno=os.dup(tls.fileno()))
    tls.close()
    with contextlib.suppress(OSError), contextlib.closing(raw):
        raw.settimeout(5)
        raw.shutdown(socket.SHUT_WR)
        while raw.recv(4096):
            pass
