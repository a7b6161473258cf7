"""Content decoding with a bound, and the parser's Set-Cookie note on responses."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap
import zlib

import brotli
import pytest

from contval.http import Client, ErrorClass, HttpError
from contval.http.encoding import ACCEPT_ENCODING, decode_body
from tests.http.servers import RawServer

DATA = b'{"items": [1, 2, 3]}' * 50


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("body", "coding"),
    [
        (DATA, None),
        (DATA, "identity"),
        (gzip.compress(DATA), "gzip"),
        (gzip.compress(DATA), "X-GZIP"),
        (gzip.compress(DATA[:500]) + gzip.compress(DATA[500:]), "gzip"),  # two members
        (zlib.compress(DATA), "deflate"),
        (_raw_deflate(DATA), "deflate"),  # what some servers send for deflate
        (
            gzip.compress(zlib.compress(DATA)),
            "deflate, gzip",
        ),  # applied in order, undone in reverse
        (brotli.compress(DATA), "br"),
        (brotli.compress(DATA), "BR"),
        (gzip.compress(brotli.compress(DATA)), "br, gzip"),
    ],
    ids=[
        "none",
        "identity",
        "gzip",
        "x-gzip",
        "members",
        "zlib",
        "raw-deflate",
        "layers",
        "br",
        "BR",
        "br-layers",
    ],
)
def test_bodies_decode_to_what_was_encoded(body: bytes, coding: str | None) -> None:
    assert decode_body(body, coding, len(DATA)) == DATA


@pytest.mark.parametrize(
    ("body", "coding", "kind", "reason"),
    [
        (gzip.compress(DATA), "gzip", ErrorClass.BODY_TOO_LARGE, "decodes to more than 999"),
        (
            gzip.compress(gzip.compress(bytes(50_000_000))),
            "gzip, gzip",
            ErrorClass.BODY_TOO_LARGE,
            "more than 999",
        ),
        (gzip.compress(DATA)[:-12], "gzip", ErrorClass.MALFORMED, "truncated gzip body"),
        (b"not gzip at all", "gzip", ErrorClass.MALFORMED, "invalid gzip body"),
        (DATA, "zstd", ErrorClass.MALFORMED, "unsupported Content-Encoding 'zstd'"),
        (DATA, "gzip, gzip, gzip, gzip, gzip", ErrorClass.MALFORMED, "5 content codings"),
        (
            brotli.compress(DATA),
            "br",
            ErrorClass.BODY_TOO_LARGE,
            "br body decodes to more than 999",
        ),
        (brotli.compress(bytes(64 << 20)), "br", ErrorClass.BODY_TOO_LARGE, "more than 999"),
        (brotli.compress(DATA)[:-3], "br", ErrorClass.MALFORMED, "truncated br body"),
        (b"", "br", ErrorClass.MALFORMED, "truncated br body"),
        (b"\xffnot brotli", "br", ErrorClass.MALFORMED, "invalid br body"),
        (brotli.compress(DATA) + b"junk", "br", ErrorClass.MALFORMED, "invalid br body"),
    ],
    ids=[
        "over-bound",
        "nested-bomb",
        "truncated",
        "garbage",
        "unknown",
        "layers",
        "br-over-bound",
        "br-bomb",
        "br-truncated",
        "br-empty",
        "br-garbage",
        "br-trailing",
    ],
)
def test_bad_or_oversized_bodies_are_errors_of_their_class(
    body: bytes, coding: str, kind: ErrorClass, reason: str
) -> None:
    with pytest.raises(HttpError) as raised:
        decode_body(body, coding, 999)
    assert raised.value.kind is kind
    assert reason in str(raised.value)


def test_the_bound_is_inclusive() -> None:
    assert decode_body(gzip.compress(DATA), "gzip", len(DATA)) == DATA
    with pytest.raises(HttpError):
        decode_body(gzip.compress(DATA), "gzip", len(DATA) - 1)
    big = bytes(range(256)) * 1000  # several of brotli's 32 KiB output blocks
    assert decode_body(brotli.compress(big), "br", len(big)) == big
    with pytest.raises(HttpError):
        decode_body(brotli.compress(big), "br", len(big) - 1)


def test_br_is_advertised_because_brotli_is_installed() -> None:
    assert ACCEPT_ENCODING == "gzip, deflate, br"


def test_without_brotli_br_is_neither_advertised_nor_decoded() -> None:
    """A fresh interpreter where `import brotli` fails: the behaviour of a plain install."""
    code = textwrap.dedent("""
        import sys
        sys.modules["brotli"] = None  # `import brotli` now raises ImportError
        from contval.http import HttpError
        from contval.http.encoding import ACCEPT_ENCODING, BROTLI, decode_body
        print(ACCEPT_ENCODING, BROTLI, sep="|")
        try:
            decode_body(bytes.fromhex(sys.argv[1]), "br", 10_000)
        except HttpError as exc:
            print(exc.kind.name, exc, sep="|")
    """)
    done = subprocess.run(
        [sys.executable, "-c", code, brotli.compress(DATA).hex()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "gzip, deflate|False"
    assert lines[1].startswith("MALFORMED|")
    assert "unsupported Content-Encoding 'br'" in lines[1]


@pytest.mark.anyio
async def test_the_parser_notes_which_responses_set_cookies(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        with_cookies = await pool.request(pool.template("GET", "/cookies"))
        without = await pool.request(pool.template("GET", "/ok"))
    assert with_cookies.set_cookie is True
    assert len(with_cookies.header_values("set-cookie")) == 2
    assert without.set_cookie is False


@pytest.mark.anyio
async def test_the_parser_notes_a_content_encoding(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        plain = await pool.request(pool.template("GET", "/ok"))
        coded = await pool.request(pool.template("GET", "/coded"))
    assert (plain.coded, coded.coded) == (False, True)
