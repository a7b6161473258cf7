"""Pydantic validation errors → located, human messages.

Pydantic locations name fields, keys, list indices and (for tagged unions) the chosen tag. We walk
a location through the document to find the node it points at, and through the model types to
find which fields were allowed there, so `durration` gets "did you mean `duration`?".
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

from contval.spec.chaostargets import TARGET_KINDS
from contval.spec.errors import SuiteError, did_you_mean, one_of
from contval.spec.faults import FAULT_TYPES
from contval.spec.source import DocPath, SourceDocument
from contval.spec.steps import STEP_KINDS
from contval.spec.types import PATTERN_HELP
from contval.spec.workloads import EXECUTORS

_LITERAL_CHOICE = re.compile(r"'([^']*)'")


def translate(exc: ValidationError, doc: SourceDocument, root: type[BaseModel]) -> list[SuiteError]:
    """Every pydantic error of `exc` as a located message, one per place and problem."""
    details = _without_knock_on(exc.errors())
    return [_one(detail, doc, root) for detail in details]


def _without_knock_on(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop `too_short` on a list whose items failed: "must not be empty" would mislead."""
    failed_inside = [tuple(d["loc"]) for d in details if d["type"] != "too_short"]

    def knock_on(detail: ErrorDetails) -> bool:
        loc = tuple(detail["loc"])
        return detail["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in failed_inside
        )

    return [d for d in details if not knock_on(d)]


def _one(detail: ErrorDetails, doc: SourceDocument, root: type[BaseModel]) -> SuiteError:
    loc = tuple(detail["loc"])
    doc_path, is_key = _doc_path(loc, doc.data)
    kind = detail["type"]
    label = _label(doc_path)
    original = _value_at(doc.data, doc_path)
    if kind == "extra_forbidden":
        key = str(doc_path[-1])
        allowed = allowed_fields(root, loc[:-1])
        return doc.error(doc_path, f"unknown field `{key}`{_suggest(key, allowed)}", at_key=True)
    if kind == "missing":
        return doc.error(doc_path, f"missing required field `{loc[-1]}`", at_key=True)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _bad_tag(doc, doc_path, original)
    if kind == "step_kind":
        return doc.error(doc_path, _bad_kind(original, "a step", STEP_KINDS))
    if kind == "target_kind":
        return doc.error(doc_path, _bad_kind(original, "a chaos target", TARGET_KINDS))
    if is_key:
        return doc.error(doc_path, _bad_key(detail, str(doc_path[-1])), at_key=True)
    return doc.error(doc_path, _value_message(detail, label, original))


def _doc_path(loc: Sequence[int | str], data: Any) -> tuple[DocPath, bool]:
    """The longest document path matching `loc` (skipping union tags); whether it ends at a key."""
    path: list[str | int] = []
    current = data
    is_key = False
    for element in loc:
        if element == "[key]":
            is_key = True
        elif _has_child(current, element):
            path.append(element)
            current = current[element]
    return tuple(path), is_key


def _has_child(container: Any, element: int | str) -> bool:
    if isinstance(container, dict):
        return isinstance(element, str) and element in container
    if isinstance(container, list):
        return isinstance(element, int) and 0 <= element < len(container)
    return False


def _value_at(data: Any, doc_path: DocPath) -> Any:
    for element in doc_path:
        data = data[element]
    return data


def _label(doc_path: DocPath) -> str:
    """`field`, or `field` item N for list entries: how a message names what it is about."""
    names = [e for e in doc_path if isinstance(e, str)]
    name = f"`{names[-1]}`" if names else "the suite"
    if doc_path and isinstance(doc_path[-1], int):
        return f"item {doc_path[-1] + 1} of {name}"
    return name


def _suggest(word: str, allowed: Sequence[str] | None) -> str:
    if not allowed:
        return ""
    close = did_you_mean(word, allowed)
    return close or f"; expected {one_of(allowed)}"


def _bad_tag(doc: SourceDocument, doc_path: DocPath, original: Any) -> SuiteError:
    """A tagged union's tag is missing or unknown: workloads tag on `executor`, faults on `type`."""
    field, choices, noun = (
        ("type", FAULT_TYPES, "fault type")
        if doc_path[:1] == ("faults",)
        else ("executor", EXECUTORS, "executor")
    )
    if isinstance(original, dict) and field in original:
        tag = str(original[field])
        return doc.error((*doc_path, field), f"unknown {noun} `{tag}`{_suggest(tag, choices)}")
    if not isinstance(original, dict):
        return doc.error(doc_path, f"{_label(doc_path)} must be a mapping, not {_kind(original)}")
    return doc.error(doc_path, f"missing required field `{field}` ({one_of(choices)})", at_key=True)


def _bad_kind(original: Any, what: str, kinds: Sequence[str]) -> str:
    """A union tagged by which key is present (steps, chaos targets) found none of its keys."""
    message = f"{what} needs one of {one_of(kinds)}"
    if isinstance(original, dict):
        for key in original:
            hint = did_you_mean(str(key), kinds)
            if hint:
                return message + hint
        return message
    return f"{message}; got {_kind(original)}"


def _bad_key(detail: ErrorDetails, key: str) -> str:
    ctx = detail.get("ctx") or {}
    noun, help_text = PATTERN_HELP.get(str(ctx.get("pattern")), ("key", detail["msg"]))
    return f"invalid {noun} `{key}`: {help_text}"


def _value_message(detail: ErrorDetails, label: str, original: Any) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        message = str(ctx["error"])
        # Validators that cannot know the field's name say "must ..."; we add the name.
        return f"{label} {message}" if message.startswith("must ") else message
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = _LITERAL_CHOICE.findall(expected)
        hint = did_you_mean(str(original), choices) if isinstance(original, str) else ""
        return f"{label} must be {expected}, not {original!r}{hint}"
    if kind == "string_pattern_mismatch":
        _, help_text = PATTERN_HELP.get(str(ctx.get("pattern")), ("", detail["msg"]))
        return f"invalid {label} {original!r}: {help_text}"
    if kind == "too_short":
        minimum = int(ctx.get("min_length", 1))
        needs = "must not be empty" if minimum == 1 else f"needs at least {minimum} items"
        return f"{label} {needs}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{label} must be a mapping, not {_kind(original)}"
    if kind in ("list_type", "tuple_type"):
        return f"{label} must be a list, not {_kind(original)}"
    text = detail["msg"].replace("Input should be", "must be", 1)
    return f"{label} {text[0].lower()}{text[1:]} (got {original!r})"


def _kind(value: Any) -> str:
    """What the user wrote, in YAML words."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a list" if isinstance(value, list) else "a mapping"


def allowed_fields(root: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """The field names (aliases) accepted at `loc`, or None when it is not a model there."""
    current: Any = root
    for element in loc:
        current = _descend(current, element)
        if current is None:
            return None
    model = _unwrap(current)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [info.alias or name for name, info in model.model_fields.items()]
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip `Annotated[...]` and `X | None` down to the type that validates the value."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [m for m in get_args(annotation) if m is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _descend(annotation: Any, element: int | str) -> Any:
    """The type found one location step below `annotation`, following fields, items and tags."""
    current = _unwrap(annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        for name, info in current.model_fields.items():
            if element in (name, info.alias):
                return info.annotation
        return None
    origin = get_origin(current)
    args = get_args(current)
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    if origin in (tuple, list) and args:
        return args[0]
    if origin in (Union, types.UnionType):
        return next((m for m in args if _has_tag(m, element)), None)
    return None


def _has_tag(member: Any, tag: int | str) -> bool:
    """Whether a union member is the one pydantic chose for `tag` (a `Tag`, executor or type)."""
    if get_origin(member) is Annotated and any(
        isinstance(meta, Tag) and meta.tag == tag for meta in get_args(member)[1:]
    ):
        return True
    model = _unwrap(member)
    if isinstance(model, type) and issubclass(model, BaseModel):
        for field in ("executor", "type"):
            info = model.model_fields.get(field)
            if info is not None and get_origin(info.annotation) is Literal:
                return tag in get_args(info.annotation)
    return False
