"""Content-Encoding: gzip, deflate and br bodies decoded with a bound on the decoded size.

The client never decodes on its own (a status-only step drops the body unread); the flow layer
calls `decode_body` for the responses a check or an extraction reads. Decoding is bounded by
`limit` bytes of output whatever the input is, so a gzip bomb (a few kB that inflate to GBs)
costs at most `limit` bytes of memory and is an error of its own class, `BODY_TOO_LARGE`.
`br` is advertised and decoded only when `brotli>=1.2` is installed (the `br` extra): older
releases cannot bound their output. Without it, a `br` body is a coding we cannot decode, which is
`MALFORMED` like any other.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

from contval.http.clock import now
from contval.http.errors import ErrorClass, HttpError


def _brotli_decompressor() -> Any:
    """`brotli.Decompressor` when brotli>=1.2 (bounded `process`) is importable, else None."""
    try:
        import brotli
    except ImportError:
        return None
    decompressor = getattr(brotli, "Decompressor", None)
    # 1.2 added `output_buffer_limit` and `can_accept_more_data`; before it, one call may
    # return the whole bomb.
    if decompressor is None or not hasattr(decompressor, "can_accept_more_data"):
        return None
    return decompressor


_BROTLI: Final = _brotli_decompressor()
BROTLI: Final = _BROTLI is not None
"""Whether `br` bodies can be decoded here (brotli>=1.2 importable)."""

ACCEPT_ENCODING: Final = "gzip, deflate, br" if BROTLI else "gzip, deflate"
"""What the flow layer sends by default: the codings `decode_body` can undo."""

_GZIP: Final = 16 + zlib.MAX_WBITS
_ZLIB: Final = zlib.MAX_WBITS
_RAW: Final = -zlib.MAX_WBITS
_MAX_LAYERS: Final = 4
"""`Content-Encoding: gzip, gzip` is legal; more layers than this is a server gone wrong."""


def decode_body(body: bytes, coding: str | None, limit: int) -> bytes:
    """`body` with every coding in `coding` (a Content-Encoding value) undone, in reverse order.

    Raises `HttpError`: `BODY_TOO_LARGE` when the result would exceed `limit` bytes, `MALFORMED`
    when the bytes are not valid for their coding or the coding is unknown.
    """
    if not coding:
        return body
    codings = [c.strip().lower() for c in coding.split(",") if c.strip()]
    if len(codings) > _MAX_LAYERS:
        raise HttpError(ErrorClass.MALFORMED, f"{len(codings)} content codings", now())
    for name in reversed(codings):
        if name == "identity":
            continue
        if name in ("gzip", "x-gzip"):
            body = _inflate(body, _GZIP, limit, name)
        elif name == "deflate":
            # RFC 9110 deflate is zlib-wrapped; some servers send raw deflate: accept both.
            wbits = _ZLIB if body[:1] and (body[0] & 0x0F) == 8 else _RAW
            body = _inflate(body, wbits, limit, name)
        elif name == "br" and _BROTLI is not None:
            body = _unbrotli(body, limit)
        else:
            reason = f"unsupported Content-Encoding {name!r} (not requested)"
            raise HttpError(ErrorClass.MALFORMED, reason, now())
    return body


def _inflate(data: bytes, wbits: int, limit: int, name: str) -> bytes:
    """Inflate every member (gzip may concatenate several) without ever holding > limit + 1."""
    out: list[bytes] = []
    size = 0
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            chunk = inflater.decompress(data, limit + 1 - size)
        except zlib.error as exc:
            raise HttpError(ErrorClass.MALFORMED, f"invalid {name} body: {exc}", now()) from None
        size += len(chunk)
        if size > limit or inflater.unconsumed_tail:
            raise HttpError(
                ErrorClass.BODY_TOO_LARGE, f"{name} body decodes to more than {limit} bytes", now()
            )
        out.append(chunk)
        if not inflater.eof:
            raise HttpError(ErrorClass.MALFORMED, f"truncated {name} body", now())
        data = inflater.unused_data
        if not data or wbits != _GZIP:
            break
    return out[0] if len(out) == 1 else b"".join(out)


_BR_STEP: Final = 32 * 1024
"""Output asked of brotli per call: its first buffer block, so one call never returns more."""


def _unbrotli(data: bytes, limit: int) -> bytes:
    """Decode a br body one 32 KiB block at a time, never holding more than limit + 32 KiB.

    brotli keeps the input it has not consumed; a call that yields nothing while it holds none
    and is not finished means the stream ended early."""
    decoder = _BROTLI()
    out: list[bytes] = []
    size = 0
    chunk = data
    try:
        while True:
            piece = decoder.process(chunk, output_buffer_limit=_BR_STEP)
            chunk = b""
            size += len(piece)
            if size > limit:
                raise HttpError(
                    ErrorClass.BODY_TOO_LARGE, f"br body decodes to more than {limit} bytes", now()
                )
            if decoder.is_finished():
                break
            if not piece and decoder.can_accept_more_data():
                raise HttpError(ErrorClass.MALFORMED, "truncated br body", now())
            out.append(piece)
    except HttpError:
        raise
    except Exception as exc:  # brotli.error, whatever the bytes make it say
        raise HttpError(ErrorClass.MALFORMED, f"invalid br body: {exc}", now()) from None
    out.append(piece)
    return b"".join(out)
