"""Request parts compiled once that are neither JSON nor plain text: forms, multipart and auth.

`form:` becomes one `Text` whose static parts are already urlencoded and whose references are
encoded per request (`+` for spaces, every reserved character escaped), so a value can never add
a field. `multipart:` is a `MultipartBody`: bytes encoded once (files included) around the
templated field values. `auth:` becomes an `Authorization` header: encoded once when static,
else a `BasicText` that renders `user:password` and base64-encodes it per request.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote_plus

from contval.flows.templates import Ref, Resolver, Scope, Text, compile_text, to_text
from contval.spec.steps import Auth, FormValue, Upload

FORM_TYPE: Final = "application/x-www-form-urlencoded"


def form_value(value: object) -> str:
    """A value inside a urlencoded form: spaces as `+`, everything reserved escaped."""
    return quote_plus(to_text(value), safe="")


def compile_form(fields: Mapping[str, object], resolver: Resolver) -> Text:
    """`a=1&b={{ x }}` as one compiled text; keys are always static."""
    parts: list[str | Ref] = []
    for index, (key, value) in enumerate(fields.items()):
        parts.append(("&" if index else "") + quote_plus(key, safe="") + "=")
        text = compile_text(to_text(value), resolver, form_value, form_static)
        parts.extend(text.parts)
    return Text(_join(parts), form_value)


def form_static(text: str) -> str:
    return quote_plus(text, safe="")


def _join(parts: list[str | Ref]) -> tuple[str | Ref, ...]:
    merged: list[str | Ref] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class BasicText(Text):
    """`Basic base64(user:password)` rendered per request (a templated user or password)."""

    def render(self, scope: Scope) -> str:
        return basic(Text.render(self, scope))


def basic(user_password: str) -> str:
    return "Basic " + base64.b64encode(user_password.encode()).decode("ascii")


def compile_auth(auth: Auth, resolver: Resolver) -> str | Text:
    """The `Authorization` value: a string when static, else a text rendered per request."""
    if auth.bearer is not None:
        text = compile_text(auth.bearer, resolver)
        if text.static is not None:
            return "Bearer " + text.static
        return Text(("Bearer ", *text.parts))
    assert auth.basic is not None
    user, password = auth.basic
    joined = compile_text(f"{user}:{password}", resolver)
    if joined.static is not None:
        return basic(joined.static)
    return BasicText(joined.parts)


@dataclass(frozen=True, slots=True)
class MultipartBody:
    """A multipart/form-data body: static bytes and templated field values, joined per request."""

    parts: tuple[bytes | Text, ...]

    @property
    def static(self) -> bytes | None:
        """The whole body when no field is templated."""
        if all(isinstance(part, bytes) for part in self.parts):
            return b"".join(part for part in self.parts if isinstance(part, bytes))
        return None

    def render(self, scope: Scope) -> bytes:
        return b"".join(
            part if isinstance(part, bytes) else part.render(scope).encode() for part in self.parts
        )


def compile_multipart(
    fields: Mapping[str, FormValue | Upload], resolver: Resolver
) -> tuple[MultipartBody, str]:
    """The body and its Content-Type (with a boundary no file or static value contains)."""
    boundary = "contval-" + secrets.token_hex(16)
    parts: list[bytes | Text] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"'
        if isinstance(value, Upload):
            head += f'; filename="{_quoted(value.sent_name)}"\r\n'
            head += f"Content-Type: {value.content_type}\r\n\r\n"
            parts += [head.encode(), value.content, b"\r\n"]
            continue
        parts.append(head.encode() + b"\r\n\r\n")
        text = compile_text(to_text(value), resolver)
        static = text.static
        parts.append(text if static is None else static.encode())
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    merged: list[bytes | Text] = []
    for part in parts:
        if isinstance(part, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += part
        else:
            merged.append(part)
    return MultipartBody(tuple(merged)), f"multipart/form-data; boundary={boundary}"


def _quoted(text: str) -> str:
    """A name inside a quoted Content-Disposition parameter (the HTML form encoding)."""
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")
