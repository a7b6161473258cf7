"""Per-origin TLS (trust roots, verify off, mutual TLS, server name), HTTPS_PROXY tunnels and the
timing breakdown a response carries, against real TLS servers and a real CONNECT proxy on
loopback, with a throwaway PKI."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from contval.http import Client, ClientOptions, ErrorClass, HttpError
from contval.http.proxy import Proxy
from contval.http.tls import TlsConfig
from tests.http.connect_proxy import ConnectProxy
from tests.http.pki import Pki
from tests.http.servers import OK, RawServer, free_port
from tests.http.strict_tls import StrictTlsServer

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("pki"))


def trust(pki: Pki, **extra: object) -> TlsConfig:
    return TlsConfig(ca_pem=pki.ca.read_text(), **extra)  # type: ignore[arg-type]


def mutual(pki: Pki, who: str = "client") -> TlsConfig:
    return trust(
        pki,
        cert_pem=pki.path(f"{who}.pem").read_bytes(),
        key_pem=pki.path(f"{who}.key").read_bytes(),
    )


@pytest.fixture
async def tls_server(pki: Pki) -> AsyncIterator[RawServer]:
    async with RawServer(tls=pki.server_context()) as srv:
        yield srv


async def get(client: Client, url: str, path: str = "/ok") -> tuple[int, bytes]:
    pool = client.pool(url)
    response = await pool.request(pool.template("GET", path))
    return response.status, response.body


async def failure(client: Client, url: str) -> HttpError:
    with pytest.raises(HttpError) as caught:
        await get(client, url)
    return caught.value


async def test_a_target_trusts_its_own_ca_and_nothing_else(tls_server: RawServer, pki: Pki) -> None:
    async with Client() as client:
        client.route(tls_server.url, tls=trust(pki))
        assert await get(client, tls_server.url) == (200, b"ok")
    async with Client() as client:  # the system store does not know our CA
        error = await failure(client, tls_server.url)
    assert error.kind is ErrorClass.TLS and "certificate verify failed" in str(error)


async def test_a_wrong_ca_is_a_tls_error(tls_server: RawServer, pki: Pki) -> None:
    async with Client() as client:
        client.route(tls_server.url, tls=TlsConfig(ca_pem=pki.wrong_ca.read_text()))
        error = await failure(client, tls_server.url)
    assert error.kind is ErrorClass.TLS
    assert "certificate verify failed" in str(error)


async def test_verify_off_accepts_any_certificate(tls_server: RawServer) -> None:
    async with Client() as client:
        client.route(tls_server.url, tls=TlsConfig(verify=False))
        assert await get(client, tls_server.url) == (200, b"ok")


async def test_mutual_tls_needs_a_client_certificate_the_server_trusts(pki: Pki) -> None:
    with StrictTlsServer(pki.server_context(require_client_cert=True)) as server:
        async with Client() as client:
            client.route(server.url, tls=mutual(pki))
            assert await get(client, server.url) == (200, b"ok")
        errors = []
        for tls in (trust(pki), mutual(pki, "stranger")):
            async with Client() as client:
                client.route(server.url, tls=tls)
                errors.append(await failure(client, server.url))
    assert [error.kind for error in errors] == [ErrorClass.TLS, ErrorClass.TLS]
    assert "certificate required" in str(errors[0]) and "unknown ca" in str(errors[1])
    assert server.requests == 1  # the refused clients' requests never got through
    assert len(server.rejected) == 2


async def test_server_name_is_sent_and_checked_instead_of_the_address(pki: Pki) -> None:
    names: list[str | None] = []
    async with RawServer(tls=pki.server_context(leaf="named", names=names)) as server:
        async with Client() as client:
            client.route(server.url, tls=trust(pki))  # certificate says shop.test, URL an IP
            error = await failure(client, server.url)
        async with Client() as client:
            client.route(server.url, tls=trust(pki, server_name="shop.test"))
            assert await get(client, server.url) == (200, b"ok")
        host = f"Host: 127.0.0.1:{server.port}".encode()
    assert error.kind is ErrorClass.TLS and "shop.test" not in names[:1]
    assert names[-1] == "shop.test"
    assert server.stats.heads[-1].split(b"\r\n")[1] == host


async def test_a_bad_client_key_fails_when_routed_not_per_request(pki: Pki) -> None:
    wrong_key = TlsConfig(
        cert_pem=pki.client_cert.read_bytes(), key_pem=pki.path("server.key").read_bytes()
    )
    async with Client() as client:
        with pytest.raises(Exception, match=r"(?i)key values mismatch"):
            client.route("https://127.0.0.1:1", tls=wrong_key)


async def test_https_goes_through_the_connect_tunnel_and_keeps_it_alive(
    tls_server: RawServer, pki: Pki
) -> None:
    url = f"https://shop.test:{tls_server.port}"  # only the proxy can resolve shop.test
    async with ConnectProxy(hosts={"shop.test": "127.0.0.1"}) as proxy, Client() as client:
        client.route(url, tls=trust(pki), proxy=Proxy.parse(proxy.url))
        results = [await get(client, url) for _ in range(3)]
    assert results == [(200, b"ok")] * 3
    assert proxy.tunnels == [f"shop.test:{tls_server.port}"]
    assert tls_server.stats.connections == 1
    host = f"Host: shop.test:{tls_server.port}".encode()
    assert tls_server.stats.heads[0].split(b"\r\n")[1] == host


async def test_proxy_credentials_come_from_its_url(tls_server: RawServer, pki: Pki) -> None:
    token = "Basic " + base64.b64encode(b"load:s3cr:et").decode()
    async with ConnectProxy(authorization=token) as proxy:
        without = Proxy.parse(proxy.url)
        with_auth = Proxy.parse(proxy.url.replace("//", "//load:s3cr%3Aet@"))
        async with Client() as client:
            client.route(tls_server.url, tls=trust(pki), proxy=without)
            error = await failure(client, tls_server.url)
        async with Client() as client:
            client.route(tls_server.url, tls=trust(pki), proxy=with_auth)
            assert await get(client, tls_server.url) == (200, b"ok")
    assert error.kind is ErrorClass.REFUSED
    assert "407" in str(error) and "s3cr" not in str(error)
    assert with_auth.shown == proxy.url and "s3cr" not in repr(with_auth.shown)


async def test_a_proxy_that_is_down_refuses(tls_server: RawServer, pki: Pki) -> None:
    async with Client(ClientOptions(connect_timeout=2)) as client:
        client.route(tls_server.url, tls=trust(pki), proxy=Proxy("127.0.0.1", free_port()))
        error = await failure(client, tls_server.url)
    assert error.kind is ErrorClass.REFUSED and "cannot connect to proxy" in str(error)


async def test_plain_http_never_uses_the_proxy(server: RawServer) -> None:
    async with ConnectProxy() as proxy, Client() as client:
        client.route(server.url, proxy=Proxy.parse(proxy.url))
        assert await get(client, server.url) == (200, b"ok")
    assert proxy.tunnels == []


async def test_a_response_carries_its_timing_breakdown(tls_server: RawServer, pki: Pki) -> None:
    async with Client() as client:
        client.route(tls_server.url, tls=trust(pki))
        pool = client.pool(tls_server.url)
        template = pool.template("GET", "/ok")
        first = await pool.request(template)
        second = await pool.request(template)
    assert first.setup is not None and second.setup is None  # new, then reused
    connect, handshake = first.setup
    assert 0 < connect < 2 and 0 < handshake < 2
    for response in (first, second):
        assert response.sent_at <= response.first_byte_at <= response.completed_at
        assert response.bytes_sent == len(template.wire)
        assert response.bytes_received == len(OK)


async def test_plain_http_has_no_handshake_time(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/chunked"))
    assert response.setup is not None and response.setup[1] == 0.0 and response.setup[0] > 0
    assert response.bytes_received > len(b"hello world")
