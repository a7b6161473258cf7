"""Secret values, where they come from, and how they are kept out of everything contval writes.

`{{ env.NAME }}` reads an environment variable; `secrets: {NAME: {env: VAR}}` names one for
`{{ secrets.NAME }}`. Both are read once where the suite is loaded (the process environment over
an `--env-file`), an unset one being a located validation error, and both are secrets unless a
`secrets` entry says `public: true`.

A `Redactor` knows the values a run must never show and replaces each occurrence, in any of the
forms a server may echo it back in (as is, percent-encoded, `+` for spaces, JSON-escaped,
HTML-escaped, base64; `%2f` as well as `%2F`), with `***`.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import quote, quote_plus

from pydantic import Field

from contval.http.proxy import env_value
from contval.spec.templates import scan
from contval.spec.types import Frozen

MASK: Final = "***"


def _forms(secret: str) -> set[str]:
    """The ways `secret` can appear in a URL, a header or a body that echoes it."""
    encoded = {quote(secret, safe=""), quote(secret, safe="/"), quote_plus(secret)}
    lower_hex = {_PERCENT.sub(lambda m: m.group().lower(), form) for form in encoded}
    return {
        secret,
        *encoded,
        *lower_hex,  # `%2f` as some servers write it
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        *_base64_forms(secret),
    }


_PERCENT: Final = re.compile(r"%[0-9A-F]{2}")


_B64_SKIP: Final = (0, 2, 3)
"""Characters of a base64 text that also depend on the 0, 1 or 2 bytes before the secret."""
B64_SHORTEST: Final = 8
"""A base64 form shorter than this is not masked (it would mask unrelated text)."""


def _base64_forms(secret: str) -> set[str]:
    """The base64 characters that only the secret's bytes decide, at each of the three byte
    alignments it can have inside a longer encoded text (`user:password` in a Basic
    credential): a server echoing an `Authorization` header cannot show it either."""
    raw = secret.encode()
    forms: set[str] = set()
    for offset, skip in enumerate(_B64_SKIP):
        data = b"\0" * offset + raw
        whole = data[: len(data) // 3 * 3]  # the last partial group depends on what follows
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            form = encode(whole).decode("ascii")[skip:]
            if len(form) >= B64_SHORTEST:
                forms.add(form)
    return forms


class Redactor:
    """Replaces every known secret value (in every echoed form) with `***`.

    A substring search per form (C speed, longest first, so a form inside a longer one never
    leaves a piece behind): about 5 µs on a 1 KB text with two secrets, where one
    case-insensitive alternation took 80.
    """

    __slots__ = ("_bytes", "_text", "longest")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = sorted(
            {form for secret in secrets if secret for form in _forms(secret)},
            key=lambda f: (-len(f), f),
        )
        self.longest = len(forms[0]) if forms else 0
        """The longest form: a text cut at N characters is redacted on N + this many."""
        self._text = tuple(forms)
        self._bytes = tuple(form.encode("utf-8") for form in forms)

    def __bool__(self) -> bool:
        return bool(self._text)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        for form in self._text:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        """`data` (UTF-8 or not) with every secret's UTF-8 bytes replaced by `***`."""
        for form in self._bytes:
            if form in data:
                data = data.replace(form, b"***")
        return data


NO_SECRETS: Final = Redactor()


# --- Values from the environment: `{{ env.NAME }}` and the `secrets:` section. ---

ENV_NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]*$"


class SecretSpec(Frozen):
    """One entry of `secrets:`: where its value comes from, and whether it may be shown."""

    env: str = Field(
        pattern=ENV_NAME_PATTERN,
        description="the environment variable (or --env-file line) holding the value",
    )
    public: bool = Field(
        False,
        description="true: not a secret (shown as is in results and reports); default false",
    )


@dataclass(frozen=True, slots=True)
class Environment:
    """What a loaded suite's `{{ env.NAME }}` and `{{ secrets.NAME }}` templates read, and the
    values no output may show. Read once, where the suite is loaded, and shipped to workers
    with it (a worker never reads its own environment)."""

    values: Mapping[str, str] = field(default_factory=dict)
    """`env.NAME` / `secrets.NAME` → value."""
    secrets: tuple[str, ...] = ()
    """The values to redact: every `env.NAME` and every non-public `secrets` entry."""
    proxy_env: Mapping[str, str] = field(default_factory=dict)
    """`https_proxy` and `no_proxy` as set where the suite was loaded (lower-case names;
    `contval.http.proxy` reads them), so every worker tunnels alike."""

    def value(self, kind: str, name: str) -> str:
        """The value of `{{ kind.name }}`; KeyError when the suite did not declare or use it."""
        return self.values[f"{kind}.{name}"]

    def redactor(self) -> Redactor:
        return Redactor(self.secrets)


def referenced_env(data: object) -> set[str]:
    """Every NAME of a `{{ env.NAME }}` anywhere in the suite document's strings."""
    names: set[str] = set()
    stack = [data]
    while stack:  # bounded: each node of the (finite) document is visited once
        node = stack.pop()
        if isinstance(node, str):
            if "{{" in node:
                references, _ = scan(node)
                names.update(r.parts[0] for r in references if r.kind == "env")
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def resolve_environment(
    used: set[str], secrets: Mapping[str, SecretSpec], environ: Mapping[str, str]
) -> Environment:
    """The values of the `env` names used and of the `secrets` entries (those set; validation
    reports the others), and which of them are secret."""
    values: dict[str, str] = {}
    hidden: list[str] = []
    for name in sorted(used):
        if name in environ:
            values[f"env.{name}"] = environ[name]
            hidden.append(environ[name])
    for name, spec in secrets.items():
        if spec.env in environ:
            values[f"secrets.{name}"] = environ[spec.env]
            if not spec.public:
                hidden.append(environ[spec.env])
    proxy_env = {name: env_value(environ, name) for name in ("https_proxy", "no_proxy")}
    return Environment(  # dicts: they pickle to workers
        values, tuple(dict.fromkeys(hidden)), {k: v for k, v in proxy_env.items() if v}
    )


class EnvFileError(ValueError):
    """A line of an --env-file that is not `NAME=VALUE`."""


def read_env_file(path: Path) -> dict[str, str]:
    """`.env` lines: `NAME=VALUE` or `export NAME=VALUE`; `#` comments and blank lines skipped;
    a value in matching single or double quotes loses them (no escapes, no interpolation)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvFileError(f"{path}: cannot read the env file ({exc})") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        name, sep, value = stripped.partition("=")
        name = name.strip()
        if not sep or re.fullmatch(ENV_NAME_PATTERN, name) is None:
            raise EnvFileError(
                f"{path}:{number}: expected NAME=VALUE (NAME: letters, digits and _), "
                f"got {line[:40]!r}"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def environment_with(env_file: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The process environment over the env file's values: a variable set in the environment
    wins (as with docker compose), so CI can override a checked-in default."""
    merged = read_env_file(env_file) if env_file is not None else {}
    merged.update(environ)
    return merged
