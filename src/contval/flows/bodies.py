"""Request parts compiled once that are neither JSON nor plain text: form bodies and auth.

`form:` becomes one `Text` whose static parts are already urlencoded and whose references are
encoded per request (`+` for spaces, every reserved character escaped), so a value can never add
a field. `auth:` becomes an `Authorization` header: encoded once when static, else a `BasicText`
that renders `user:password` and base64-encodes it per request.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote_plus

from contval.flows.templates import Ref, Resolver, Scope, Text, compile_text, to_text
from contval.spec.steps import Auth

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
