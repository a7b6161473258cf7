"""`--debug-http N`: the first N request/response pairs a worker exchanges, printed to stderr.

Each pair shows the request as sent (request line, headers, body) and the response (status,
headers, body, or the network error), bodies cut to `BODY_CHARS`. Secrets are redacted (`***`)
in every part, `Authorization` values always are (a Basic credential is the password in
base64), and control characters are escaped, so what a server sends cannot drive the terminal.

It wraps the client a flow runner is bound to: every pool it hands out prints until the budget
is spent, then costs one integer comparison per request.
"""

from __future__ import annotations

import sys
from typing import Any, Final, TextIO, cast

from contval.flows.failures import safe_text
from contval.http import Client, HttpError, Pool, Response, now
from contval.http.request import RequestTemplate
from contval.spec.secrets import Redactor

BODY_CHARS: Final = 1000
_CREDENTIAL_HEADERS: Final = (b"authorization", b"proxy-authorization")


class DebugLog:
    """How many pairs are left to print, where to, and what to redact."""

    def __init__(
        self, budget: int, redactor: Redactor, worker: int = 0, out: TextIO | None = None
    ) -> None:
        self.left = budget
        self.budget = budget
        self.redactor = redactor
        self.worker = worker
        self.out = out

    def show(self, wire: bytes, outcome: Response | HttpError, elapsed: float) -> None:
        """Print one pair (the caller checked that `left` is positive)."""
        self.left -= 1
        number = self.budget - self.left
        lines = [f"--- contval debug-http {number}/{self.budget} (worker {self.worker}) ---"]
        lines += [f"> {line}" for line in self._request(wire)]
        if isinstance(outcome, HttpError):
            kind = outcome.kind.name.lower()
            lines.append(f"< error {kind}: {self._text(str(outcome))} ({elapsed * 1000:.1f} ms)")
        else:
            lines.append(f"< HTTP {outcome.status} ({elapsed * 1000:.1f} ms)")
            for name, value in outcome.raw_headers:
                lines.append(f"< {self._header(name, value)}")
            if outcome.body:
                lines.append(f"< {self._body(outcome.body)}")
        out = self.out or sys.stderr
        out.write("\n".join(lines) + "\n")
        out.flush()

    def _request(self, wire: bytes) -> list[str]:
        head, _, body = wire.partition(b"\r\n\r\n")
        first, *fields = head.split(b"\r\n")
        lines = [self._text(first.decode("latin-1"))]
        for field in fields:
            name, _, value = field.partition(b":")
            lines.append(self._header(name, value.strip()))
        if body:
            lines.append(self._body(body))
        return lines

    def _header(self, name: bytes, value: bytes) -> str:
        shown = value.decode("latin-1")
        if name.strip().lower() in _CREDENTIAL_HEADERS:
            scheme, _, _ = shown.partition(" ")
            shown = f"{scheme} ***" if scheme and " " in shown else "***"
        return f"{self._text(name.decode('latin-1'))}: {self._text(shown)}"

    def _body(self, body: bytes) -> str:
        text = body[: BODY_CHARS * 4].decode("utf-8", errors="replace")
        return self._text(text, BODY_CHARS)

    def _text(self, text: str, limit: int = BODY_CHARS) -> str:
        return safe_text(text, self.redactor, limit)


class DebugPool:
    """A pool that prints its requests and responses while the log has budget left."""

    def __init__(self, pool: Pool, log: DebugLog) -> None:
        self._pool = pool
        self._log = log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    async def request(
        self, template: RequestTemplate, wire: bytes | None = None, timeout: float | None = None
    ) -> Response:
        log = self._log
        if log.left <= 0:
            return await self._pool.request(template, wire, timeout)
        started = now()
        sent = template.wire if wire is None else wire
        try:
            response = await self._pool.request(template, wire, timeout)
        except HttpError as exc:
            if log.left > 0:
                log.show(sent, exc, now() - started)
            raise
        if log.left > 0:
            log.show(sent, response, now() - started)
        return response


class DebugClient:
    """A client whose pools are `DebugPool`s sharing one log."""

    def __init__(self, client: Client, log: DebugLog) -> None:
        self._client = client
        self._log = log
        self._pools: dict[int, DebugPool] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def pool(self, url: str) -> Pool:
        inner = self._client.pool(url)
        found = self._pools.get(id(inner))
        if found is None:
            found = self._pools[id(inner)] = DebugPool(inner, self._log)
        return cast(Pool, found)  # it quacks like the pool it wraps


def debugging(client: Client, budget: int, redactor: Redactor, worker: int = 0) -> Client:
    """`client`, or one printing its first `budget` exchanges (0: `client` itself)."""
    if budget <= 0:
        return client
    return cast(Client, DebugClient(client, DebugLog(budget, redactor, worker)))
