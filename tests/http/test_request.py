"""Pure tests of origins, request templates and responses: no sockets."""

from __future__ import annotations

import pytest

from contval.http import ClientOptions, ErrorClass, HttpError, Origin, RequestTemplate, Response


@pytest.mark.parametrize(
    ("url", "origin", "host_header"),
    [
        ("http://127.0.0.1:8000/x?y", Origin("http", "127.0.0.1", 8000), "127.0.0.1:8000"),
        ("https://localhost", Origin("https", "localhost", 443), "localhost"),
        ("HTTP://[::1]:80/", Origin("http", "::1", 80), "[::1]"),
        ("http://[::1]:9000", Origin("http", "::1", 9000), "[::1]:9000"),
    ],
)
def test_origin_parse(url: str, origin: Origin, host_header: str) -> None:
    parsed = Origin.parse(url)
    assert parsed == origin
    assert parsed.host_header == host_header


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "http:///path", "127.0.0.1:80"])
def test_origin_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        Origin.parse(url)


def test_static_get_is_encoded_once() -> None:
    template = RequestTemplate("get", "/a?b=1", host="h:1", headers={"Accept": "*/*"})
    assert template.wire == b"GET /a?b=1 HTTP/1.1\r\nHost: h:1\r\nAccept: */*\r\n\r\n"
    assert template.encode() == template.wire


def test_post_always_declares_its_length() -> None:
    template = RequestTemplate("POST", "/p", host="h")
    assert template.wire == b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
    assert template.encode(body=b"abc").endswith(b"Content-Length: 3\r\n\r\nabc")


def test_dynamic_path_headers_and_body_are_joined() -> None:
    template = RequestTemplate("PUT", "/static", host="h", body=b"default")
    wire = template.encode(path=b"/items/7", headers=b"X-Id: 7\r\n")
    assert wire == (
        b"PUT /items/7 HTTP/1.1\r\nHost: h\r\nX-Id: 7\r\nContent-Length: 7\r\n\r\ndefault"
    )


def test_head_template_is_flagged() -> None:
    assert RequestTemplate("HEAD", "/", host="h").head
    assert not RequestTemplate("GET", "/", host="h").head


@pytest.mark.parametrize("path", ["http://elsewhere/", "no-slash", "/a b", "/a\r\nX: y", "//\n"])
def test_paths_that_could_smuggle_or_leave_the_origin_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        RequestTemplate("GET", path, host="h")
    template = RequestTemplate("GET", "/", host="h")
    with pytest.raises(ValueError):
        template.encode(path=path.encode())


@pytest.mark.parametrize(
    "headers",
    [{"Host": "x"}, {"Content-Length": "1"}, {"Connection": "close"}, {"X": "a\r\nY: b"}],
)
def test_client_owned_or_broken_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        RequestTemplate("GET", "/", host="h", headers=headers)


def test_invalid_method_is_refused() -> None:
    with pytest.raises(ValueError):
        RequestTemplate("GE T", "/", host="h")


def test_response_headers_are_decoded_only_on_demand() -> None:
    raw = [b"Set-Cookie", b"a=1", b"X-Y", b" v ", b"set-cookie", b"b=2"]
    response = Response(200, raw, b"body", 1.5, True)
    assert response._headers is None
    # Set-Cookie values are never joined (their dates hold commas): the dict keeps the first.
    assert response.headers == {"set-cookie": "a=1", "x-y": "v"}
    assert response.header_values("SET-COOKIE") == ["a=1", "b=2"]
    assert response.header("X-y") == "v"
    assert response.raw_headers == [
        (b"Set-Cookie", b"a=1"),
        (b"X-Y", b" v "),
        (b"set-cookie", b"b=2"),
    ]
    assert response.text() == "body"


def test_http_error_carries_its_class() -> None:
    error = HttpError(ErrorClass.TIMEOUT, "slow", 2.0)
    assert (error.kind, error.completed_at, str(error)) == (
        ErrorClass.TIMEOUT,
        2.0,
        "timeout: slow",
    )


@pytest.mark.parametrize(
    "kwargs", [{"max_connections": 0}, {"timeout": 0}, {"connect_timeout": -1}, {"max_body": -1}]
)
def test_options_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ClientOptions(**kwargs)  # type: ignore[arg-type]


def test_verify_false_builds_a_permissive_context() -> None:
    import ssl

    context = ClientOptions(verify=False).make_ssl_context()
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)
    assert ClientOptions().make_ssl_context().verify_mode == ssl.CERT_REQUIRED
