"""HTTPS_PROXY / NO_PROXY parsing: examples for each rule, properties for any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contval.http.proxy import Proxy, bypassed, is_loopback, proxy_for

HOST_LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
HOSTNAME = st.lists(HOST_LABEL, min_size=1, max_size=4).map(".".join)


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "expected"),
    [
        ("", "api.example.com", 443, False),
        ("*", "anything.test", 1, True),
        ("example.com", "example.com", 443, True),
        ("example.com", "api.example.com", 443, True),
        (".example.com", "api.example.com", 443, True),
        (".example.com", "example.com", 443, True),
        ("example.com", "badexample.com", 443, False),
        ("EXAMPLE.com.", "Api.Example.COM", 443, True),
        ("example.com:8443", "api.example.com", 8443, True),
        ("example.com:8443", "api.example.com", 443, False),
        ("10.0.0.0/8", "10.20.30.40", 443, True),
        ("10.0.0.0/8", "11.0.0.1", 443, False),
        ("127.0.0.1", "127.0.0.1", 8443, True),
        ("127.0.0.1", "127.0.0.2", 8443, False),
        ("::1", "::1", 443, True),
        ("[::1]:8443", "::1", 8443, True),
        ("[::1]:8443", "::1", 9443, False),
        ("localhost, shop.test", "shop.test", 443, True),
        ("localhost shop.test", "shop.test", 443, True),
        ("10.0.0.0/8", "ten.example", 443, False),
    ],
)
def test_no_proxy_rules(no_proxy: str, host: str, port: int, expected: bool) -> None:
    assert bypassed(no_proxy, host, port) is expected


@given(HOSTNAME, HOSTNAME, st.integers(1, 65535))
def test_a_name_exempts_itself_and_its_subdomains_only(name: str, sub: str, port: int) -> None:
    assert bypassed(name, name, port)
    assert bypassed(name, f"{sub}.{name}", port)
    assert bypassed(f".{name}", f"{sub}.{name}", port)
    assert not bypassed(name, f"{sub}{name}", port)  # `badexample.com` is not `example.com`


@given(st.text(max_size=60), st.text(max_size=30), st.integers(0, 70000))
def test_any_no_proxy_text_is_judged_without_raising(no_proxy: str, host: str, port: int) -> None:
    assert bypassed(no_proxy, host, port) in (True, False)
    assert bypassed(f"{no_proxy},*", host, port)


@given(st.text(max_size=60))
def test_any_proxy_url_parses_or_says_why(url: str) -> None:
    try:
        proxy = Proxy.parse(url)
    except ValueError as exc:
        assert str(exc)
    else:
        assert proxy.host and 0 <= proxy.port <= 65535
        assert "@" not in proxy.shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:3128", Proxy("127.0.0.1", 3128)),
        ("127.0.0.1:3128", Proxy("127.0.0.1", 3128)),
        ("http://proxy.corp", Proxy("proxy.corp", 80)),
        ("http://[::1]:8080/", Proxy("::1", 8080)),
        ("http://a%40b:p%3Aw@127.0.0.1:1", Proxy("127.0.0.1", 1, "Basic YUBiOnA6dw==")),
    ],
)
def test_proxy_urls(url: str, expected: Proxy) -> None:
    assert Proxy.parse(url) == expected


@pytest.mark.parametrize("url", ["https://127.0.0.1:3128", "socks5://127.0.0.1:1080", "http://"])
def test_unusable_proxy_urls_say_why(url: str) -> None:
    with pytest.raises(ValueError, match=r"scheme|no host"):
        Proxy.parse(url)


def test_only_https_origins_use_the_proxy_and_lower_case_wins() -> None:
    environ = {"HTTPS_PROXY": "http://10.1.1.1:3128", "https_proxy": "http://127.0.0.1:3128"}
    chosen = proxy_for("https", "shop.test", 443, environ)
    assert chosen == ("http://127.0.0.1:3128", Proxy("127.0.0.1", 3128))
    assert proxy_for("http", "shop.test", 80, environ) is None
    assert proxy_for("https", "shop.test", 443, {**environ, "NO_PROXY": ".test"}) is None
    assert proxy_for("https", "shop.test", 443, {}) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("localhost", True),
     ("LOCALHOST.", True), ("10.0.0.1", False), ("proxy.corp", False), ("::2", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
