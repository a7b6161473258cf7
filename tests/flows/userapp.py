"""An httpbin-like Starlette app for real user flows: cookies, redirects, compression, auth,
forms and multipart echoes. Each `UserApp` runs on its own uvicorn thread and port (port 0,
socket bound first), and counts what it received, so a test can prove a host got nothing."""

from __future__ import annotations

import asyncio
import base64
import email.parser
import email.policy
import gzip
import socket
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

import brotli
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

BOMB_SIZE = 512 * 1024 * 1024
"""What `/bomb` inflates to: far beyond the default 10 MiB bound."""


@dataclass
class Seen:
    paths: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    """The `Cookie` header of each request ('' when none)."""
    methods: list[str] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)
    """The `Authorization` header of each request ('' when none)."""

    def clear(self) -> None:
        for seen in (self.paths, self.cookies, self.methods, self.authorization):
            seen.clear()


def _cookies(request: Request) -> dict[str, str]:
    jar = SimpleCookie()
    jar.load(request.headers.get("cookie", ""))
    return {name: morsel.value for name, morsel in jar.items()}


async def cookies(request: Request) -> Response:
    return JSONResponse({"cookies": _cookies(request)})


async def cookies_set(request: Request) -> Response:
    response = JSONResponse({"set": dict(request.query_params)})
    for name, value in request.query_params.items():
        response.set_cookie(name, value, path="/")
    return response


async def dir_set(request: Request) -> Response:
    """`/dir/D/set`: a cookie with no Path attribute, so its path is the request's directory
    (`/dir/D`, RFC 6265 5.1.4): it goes back to `/dir/D/...` and nowhere else."""
    response = JSONResponse({})
    response.headers.append("set-cookie", "a=1")
    return response


async def dir_go(request: Request) -> Response:
    """`/dir/D/go`: a relative redirect, to `/dir/D/read`."""
    return RedirectResponse("read", status_code=302)


async def cookies_attrs(request: Request) -> Response:
    """Cookies with attributes: only `keep` should come back to /cookies over plain http."""
    response = JSONResponse({})
    response.set_cookie("keep", "1", path="/")
    response.set_cookie("gone", "1", path="/", max_age=0)
    response.set_cookie("sec", "1", path="/", secure=True)
    response.set_cookie("elsewhere", "1", path="/other")
    response.headers.append("set-cookie", "foreign=1; Domain=example.com; Path=/")
    return response


async def login(request: Request) -> Response:
    """The classic: a POST that sets a session cookie and redirects (303) to the account."""
    response = RedirectResponse("/account", status_code=303)
    response.set_cookie("session", "s-" + request.query_params.get("user", "ann"), path="/")
    return response


async def account(request: Request) -> Response:
    session = _cookies(request).get("session")
    if session is None:
        return JSONResponse({"error": "log in first"}, status_code=401)
    return JSONResponse({"session": session})


async def redirect_n(request: Request) -> Response:
    """`/redirect/N?delay=S`: N hops, each answered after S seconds."""
    await asyncio.sleep(float(request.query_params.get("delay", "0")))
    n = int(request.path_params["n"])
    if n <= 0:
        return JSONResponse({"arrived": True})
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/redirect/{n - 1}{query}", status_code=302)


async def loop(request: Request) -> Response:
    return RedirectResponse("/loop", status_code=302)


async def redirect_to(request: Request) -> Response:
    status = int(request.query_params.get("status", "302"))
    return Response(status_code=status, headers={"Location": request.query_params["url"]})


async def anything(request: Request) -> Response:
    """Echo the method and body (what a redirected request carried)."""
    body = await request.body()
    return JSONResponse({"method": request.method, "body": body.decode("latin-1")})


async def echo_location(request: Request) -> Response:
    """A JSON body naming where to go next (for `GET {{ next }}`)."""
    return JSONResponse({"next": request.query_params["url"]})


def _compressed(data: bytes, coding: str) -> Response:
    body = gzip.compress(data) if coding == "gzip" else zlib.compress(data)
    return Response(body, media_type="application/json", headers={"Content-Encoding": coding})


async def gzipped(request: Request) -> Response:
    seen = request.headers.get("accept-encoding", "")
    return _compressed(b'{"gzipped": true, "accept": "%s"}' % seen.encode(), "gzip")


async def deflated(request: Request) -> Response:
    return _compressed(b'{"deflated": true}', "deflate")


@cache
def bomb() -> bytes:
    """BOMB_SIZE zero bytes, gzipped: about half a megabyte."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [packer.compress(zeros) for _ in range(BOMB_SIZE // len(zeros))]
    parts.append(packer.flush())
    return b"".join(parts)


async def gzip_bomb(request: Request) -> Response:
    return Response(bomb(), media_type="application/json", headers={"Content-Encoding": "gzip"})


async def brotli_body(request: Request) -> Response:
    """A br body echoing the Accept-Encoding it was asked with; `?cut=N` drops its last N bytes,
    `?garbage=1` sends bytes that are not brotli at all."""
    seen = request.headers.get("accept-encoding", "")
    body = brotli.compress(b'{"brotli": true, "accept": "%s"}' % seen.encode())
    cut = int(request.query_params.get("cut", "0"))
    if cut:
        body = body[:-cut]
    if request.query_params.get("garbage"):
        body = b"\xff not brotli at all \xff"
    return Response(body, media_type="application/json", headers={"Content-Encoding": "br"})


@cache
def br_bomb() -> bytes:
    """BOMB_SIZE zero bytes as br: under a kilobyte."""
    packer = brotli.Compressor(quality=5)
    zeros = bytes(1024 * 1024)
    parts = [packer.process(zeros) for _ in range(BOMB_SIZE // len(zeros))]
    parts.append(packer.finish())
    return b"".join(parts)


async def brotli_bomb(request: Request) -> Response:
    return Response(br_bomb(), media_type="application/json", headers={"Content-Encoding": "br"})


async def basic_auth(request: Request) -> Response:
    user, password = request.path_params["user"], request.path_params["password"]
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    if request.headers.get("authorization") != expected:
        return JSONResponse({"authenticated": False}, status_code=401)
    return JSONResponse({"authenticated": True, "user": user})


async def bearer(request: Request) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or not token:
        return JSONResponse({"authenticated": False}, status_code=401)
    return JSONResponse({"authenticated": True, "token": token})


async def post(request: Request) -> Response:
    """Echo a urlencoded or multipart body as httpbin's /post does: form fields and files."""
    body = await request.body()
    kind = request.headers.get("content-type", "")
    form: dict[str, str] = {}
    files: dict[str, dict[str, str]] = {}
    if kind.startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    elif kind.startswith("multipart/form-data"):
        head = f"Content-Type: {kind}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            if filename is None:
                form[str(name)] = payload.decode()
            else:
                files[str(name)] = {
                    "filename": filename,
                    "content_type": part.get_content_type(),
                    "content": payload.decode("latin-1"),
                }
    return JSONResponse({"form": form, "files": files, "content_type": kind})


ROUTES = [
    Route("/cookies", cookies),
    Route("/cookies/set", cookies_set),
    Route("/cookies/attrs", cookies_attrs),
    Route("/dir/{d}/set", dir_set),
    Route("/dir/{d}/go", dir_go),
    Route("/dir/{d}/read", cookies),
    Route("/login", login, methods=["POST"]),
    Route("/account", account),
    Route("/redirect/{n:int}", redirect_n),
    Route("/loop", loop),
    Route("/redirect-to", redirect_to, methods=["GET", "POST"]),
    Route("/next", echo_location),
    Route("/anything", anything, methods=["GET", "POST", "PUT"]),
    Route("/gzip", gzipped),
    Route("/deflate", deflated),
    Route("/bomb", gzip_bomb),
    Route("/br", brotli_body),
    Route("/br-bomb", brotli_bomb),
    Route("/basic-auth/{user}/{password}", basic_auth),
    Route("/bearer", bearer),
    Route("/post", post, methods=["POST"]),
]


class UserApp:
    """One app instance with its own record of what it was sent."""

    def __init__(self) -> None:
        self.seen = Seen()
        self.app = Starlette(routes=ROUTES)
        self.app.add_middleware(_Recorder, seen=self.seen)
        self.url = ""


class _Recorder:
    def __init__(self, app: object, seen: Seen) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])  # type: ignore[call-overload]
            self.seen.paths.append(str(scope["path"]))
            self.seen.cookies.append(headers.get(b"cookie", b"").decode("latin-1"))
            self.seen.methods.append(str(scope["method"]))
            self.seen.authorization.append(headers.get(b"authorization", b"").decode("latin-1"))
        await self.app(scope, receive, send)  # type: ignore[operator]


@contextmanager
def serve() -> Iterator[UserApp]:
    """A `UserApp` listening on 127.0.0.1 (port 0), stopped on exit."""
    instance = UserApp()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(instance.app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    instance.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield instance
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
