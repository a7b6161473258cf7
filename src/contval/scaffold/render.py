"""Template text: placeholders, commented-out examples, and YAML scalars that stay what they say.

Templates are YAML files shipped with the package, so they read as what they produce. They hold
`@@key@@` placeholders and example lines marked `#[group] ` (a system flow, chaos, a pipeline),
which come out commented (`# `) for people, or live for the tests that prove the examples valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from importlib import resources
from typing import Final

import yaml

_PLACEHOLDER: Final = re.compile(r"@@([a-z_]+)@@")
_EXAMPLE: Final = re.compile(r"#\[([a-z]+)\] ")
_PLAIN: Final = re.compile(r"[A-Za-z0-9_./:@%+=~{}$?&,-][A-Za-z0-9_./:@%+=~{}$?&, -]*")


class TemplateError(Exception):
    """A template and the values given for it do not match (a bug in contval, not user input)."""


def template(name: str) -> str:
    """The text of a template shipped in `contval.scaffold/templates`."""
    return (resources.files("contval.scaffold") / "templates" / name).read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str], live: Collection[str] = ()) -> str:
    """Replace every placeholder, and comment out the examples whose group is not in `live`.

    Every placeholder must have a value and every value a placeholder, so a renamed key fails
    at once instead of shipping `@@name@@` to a user.
    """
    used = set(_PLACEHOLDER.findall(text))
    if used != set(values):
        missing, extra = sorted(used - set(values)), sorted(set(values) - used)
        raise TemplateError(f"placeholders without values: {missing}; values unused: {extra}")
    text = _PLACEHOLDER.sub(lambda m: values[m[1]], text)
    return _EXAMPLE.sub(lambda m: "" if m[1] in live else "# ", text)


def scalar(value: str) -> str:
    """`value` as a YAML block-context scalar: plain when YAML reads it back unchanged, else quoted.

    Plain text keeps the generated files looking hand-written (`app: http://127.0.0.1:8080`);
    anything YAML would read differently (`yes`, `1.0`, `# x`, `a: b`) gets double quotes.
    """
    if _PLAIN.fullmatch(value) and value == value.strip():
        try:
            if yaml.safe_load(f"key: {value}") == {"key": value}:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)
