"""JSON request bodies serialized once, with holes where templates put values.

A string leaf that is exactly one `{{ ref }}` (nothing around it, not even spaces) is a *whole*
hole: the value is written with its own JSON type (a number extracted from JSON stays a number,
a `vars` integer stays an integer); any other templated string is interpolated and written as a
JSON string. Everything else is static JSON text, pre-rendered, so a request only serializes its
holes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import JsonValue

from contval.flows.templates import Ref, Resolver, Scope, Text, compile_text, to_text
from contval.spec.templates import scan


@dataclass(frozen=True, slots=True)
class Whole:
    """A leaf that is one reference: the value keeps its JSON type."""

    ref: Ref


_Part = str | Whole | Text


@dataclass(frozen=True, slots=True)
class JsonBody:
    """A compiled JSON body; `static` holds the encoded bytes when nothing is dynamic."""

    parts: tuple[_Part, ...]
    static: bytes | None

    def render(self, scope: Scope) -> bytes:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, Whole):
                out.append(_dumps(part.ref.value(scope)))
            else:
                out.append(_dumps(part.render(scope)))
        return "".join(out).encode()


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def compile_json(value: JsonValue, resolver: Resolver) -> JsonBody:
    """Compile a `json:` body; static bodies are encoded here, once."""
    out: list[_Part] = []
    _emit(value, resolver, out)
    parts: list[_Part] = []
    for part in out:
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] = parts[-1] + part
        else:
            parts.append(part)
    if all(isinstance(p, str) for p in parts):
        return JsonBody(tuple(parts), "".join(str(p) for p in parts).encode())
    return JsonBody(tuple(parts), None)


def _emit(value: JsonValue, resolver: Resolver, out: list[_Part]) -> None:
    if isinstance(value, str):
        out.append(_leaf(value, resolver))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            out.append(("," if index else "") + _dumps(key) + ":")
            _emit(item, resolver, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _emit(item, resolver, out)
        out.append("]")
    else:
        out.append(_dumps(value))


def _leaf(text: str, resolver: Resolver) -> _Part:
    references, _ = scan(text)
    whole = len(references) == 1 and text.startswith("{{") and text.endswith("}}")
    if whole and references[0].kind == "vars":
        return _dumps(resolver.constant(references[0].parts[0]))
    template = compile_text(text, resolver, to_text)
    if template.static is not None:
        return _dumps(template.static)
    if whole and len(template.parts) == 1 and isinstance(template.parts[0], Ref):
        return Whole(template.parts[0])
    return template
