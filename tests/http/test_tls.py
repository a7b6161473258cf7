"""TLS against a local server with a self-signed certificate made by the openssl CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contval.http import Client, ClientOptions, ErrorClass, HttpError
from tests.http.servers import RawServer, SelfSigned

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    return SelfSigned.create(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_server(cert: SelfSigned) -> AsyncIterator[RawServer]:
    async with RawServer(tls=cert.server_context()) as srv:
        yield srv


async def test_trusted_certificate_works_with_keep_alive(
    tls_server: RawServer, cert: SelfSigned
) -> None:
    async with Client(ClientOptions(ca_file=str(cert.cert))) as client:
        pool = client.pool(tls_server.url)
        bodies = [(await pool.request(pool.template("GET", "/chunked"))).body for _ in range(5)]
    assert bodies == [b"hello world"] * 5
    assert tls_server.stats.connections == 1


async def test_untrusted_certificate_is_a_tls_error_when_verifying(tls_server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(tls_server.url)
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/ok"))
    assert caught.value.kind is ErrorClass.TLS
    assert "certificate verify failed" in str(caught.value)


async def test_verify_false_accepts_a_self_signed_certificate(tls_server: RawServer) -> None:
    async with Client(ClientOptions(verify=False)) as client:
        pool = client.pool(tls_server.url)
        response = await pool.request(pool.template("GET", "/ok"))
    assert (response.status, response.body) == (200, b"ok")


async def test_tls_errors_are_classified(tls_server: RawServer, cert: SelfSigned) -> None:
    async with Client(ClientOptions(ca_file=str(cert.cert), timeout=0.2)) as client:
        pool = client.pool(tls_server.url)
        kinds = []
        for path in ("/garbage", "/reset", "/hang"):
            with pytest.raises(HttpError) as caught:
                await pool.request(pool.template("GET", path))
            kinds.append(caught.value.kind)
    assert kinds == [ErrorClass.MALFORMED, ErrorClass.RESET, ErrorClass.TIMEOUT]


def test_certificate_files_exist(cert: SelfSigned) -> None:
    assert Path(cert.cert).read_text().startswith("-----BEGIN CERTIFICATE-----")
