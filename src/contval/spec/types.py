"""Field types shared by the suite models: names, units parsed at load, request lines.

Each type accepts the user's text, stores the parsed number or parts, and keeps its JSON Schema a
string with a pattern and an example, so editors complete and check what the user actually types.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final
from urllib.parse import SplitResult, urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from contval.spec import units


class Frozen(BaseModel):
    """Base of every suite model: immutable, and unknown fields are errors (typos never pass)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
STEP_NAME_PATTERN: Final = r"^[^/:\s](?:[^/:]*[^/:\s])?$"
VAR_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]*$"
JSON_PATH_PATTERN: Final = r"^\$(?:\.[A-Za-z_][\w-]*|\.\*|\[\d+\]|\[\*\]|\['[^']*'\])*$"
PATTERN_HELP: Final = {
    NAME_PATTERN: (
        "name",
        "names use letters, digits, `_`, `-` and `.`, and start with a letter or digit",
    ),
    STEP_NAME_PATTERN: (
        "step name",
        "step names may contain spaces but not `/` or `:` (thresholds use them)",
    ),
    VAR_PATTERN: (
        "variable name",
        "variable names use letters, digits and `_`, and do not start with a digit",
    ),
    JSON_PATH_PATTERN: (
        "JSON path",
        "JSON paths start with `$` and use `.field`, `['key']`, `[0]` or `[*]`",
    ),
}
"""Pattern → (what it names, a plain-language rule), for error messages."""

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
StepName = Annotated[str, Field(pattern=STEP_NAME_PATTERN)]
VarName = Annotated[str, Field(pattern=VAR_PATTERN)]


def _unit(parse: Any, what: str) -> Any:
    """A before-validator running `parse` on text, refusing bare numbers with a unit hint."""

    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            # pydantic's lax mode would take `true` as 1: refuse it as the unit-less value it is
            hint = units.HINTS.get(what, f"a {what}")
            raise units.UnitError(f"{str(value).lower()} is not a {what}; expected {hint}")
        if not isinstance(value, str | int | float):
            return value  # let the float validator report the wrong type
        if not isinstance(value, str):
            raise units.UnitError(f"{what} {value} has no unit")
        return parse(value)

    return BeforeValidator(convert)


MAX_SECONDS: Final = 7 * 24 * 3600.0
"""The longest duration a suite may name (a week): anything longer is a typo, and huge values
would overflow the schedulers and timers that use them."""
MAX_RATE: Final = 1_000_000.0
"""The highest arrival rate a suite may name, per second."""
MAX_COUNT: Final = 1_000_000
"""The largest count (virtual users, workers) a suite may name."""


def _at_most(limit: float, text: str) -> AfterValidator:
    def check(value: float) -> float:
        if value > limit:
            raise ValueError(f"must be at most {text}")
        return value

    return AfterValidator(check)


Seconds = Annotated[
    float,
    _unit(units.parse_duration, "duration"),
    _at_most(MAX_SECONDS, "168h (a week)"),
    WithJsonSchema(
        {"type": "string", "description": units.DURATION_HINT, "examples": ["250ms", "30s", "1m"]}
    ),
]
"""A duration in seconds, written with a unit: `250ms`, `30s`, `1m30s`."""

PerSecond = Annotated[
    float,
    _unit(units.parse_rate, "rate"),
    _at_most(MAX_RATE, "1000000/s"),
    WithJsonSchema({"type": "string", "description": units.RATE_HINT, "examples": ["50/s"]}),
]
"""A rate in events per second, written with a unit: `50/s`, `600/m`."""


def _at_most_all(value: float) -> float:
    """A share above 100% is a typo (`fraction: 300%`), not a stronger fault."""
    if value > 1.0:
        raise ValueError(f"must be at most 100%, not {value * 100:g}%")
    return value


Percent = Annotated[
    float,
    _unit(units.parse_percent, "percentage"),
    AfterValidator(_at_most_all),
    WithJsonSchema(
        {"type": "string", "description": units.PERCENT_HINT, "examples": ["5%", "30%"]}
    ),
]
"""A share from 0 to 1, written as a percentage: `30%` → 0.3."""

Bytes = Annotated[
    int,
    _unit(units.parse_size, "size"),
    WithJsonSchema(
        {"type": "string", "description": units.SIZE_HINT, "examples": ["64B", "256MiB"]}
    ),
]
"""A size in bytes, written with a unit: `100kB`, `256MiB`, `1GiB`."""


class ThinkTime(Frozen):
    """A pause drawn uniformly from [low, high] seconds; `text` is what the user wrote."""

    text: str
    low: float
    high: float


def _think_time(value: Any) -> Any:
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise units.UnitError(f"think time {value} has no unit; write e.g. 1s or 500ms..2s")
        return value
    low, high = units.parse_duration_range(value)
    return ThinkTime(text=value, low=low, high=high)


ThinkRange = Annotated[
    ThinkTime,
    BeforeValidator(_think_time),
    WithJsonSchema(
        {
            "type": "string",
            "description": "a duration (1s) or a range (500ms..2s) to pause between steps",
            "examples": ["1s", "500ms..2s"],
        }
    ),
]

METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_REQUEST_LINE = re.compile(r"(?P<method>\S+)\s+(?P<target>\S.*)")
_TEMPLATE_SPAN = re.compile(r"\{\{.*?\}\}")


class RequestLine(Frozen):
    """`METHOD target`, where target is a path on the flow's target or an absolute URL."""

    text: str
    method: str
    target: str

    @property
    def is_absolute(self) -> bool:
        """Absolute URLs bypass the flow's target, so validation checks their host separately."""
        return self.target.startswith(("http://", "https://"))

    @property
    def is_url_template(self) -> bool:
        """A target that starts with a template (`{{ loc }}`): a path or a URL known only at
        run time, sent only to a declared target (checked per request)."""
        return self.target.startswith("{{")


def _request_line(value: Any) -> Any:
    if isinstance(value, RequestLine):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a request is text such as `GET /api/items`, not {value!r}")
    match = _REQUEST_LINE.fullmatch(value.strip())
    if match is None:
        raise ValueError(
            f"invalid request {value!r}; expected `METHOD /path`, e.g. `GET /api/items`"
        )
    method, target = match["method"], match["target"]
    outside_templates = _TEMPLATE_SPAN.sub("", target)
    if "{{" in outside_templates:
        raise ValueError(f"invalid request {value!r}: unterminated `{{{{` (missing `}}}}`)")
    if re.search(r"\s", outside_templates):
        raise ValueError(f"invalid request {value!r}; spaces in a URL must be written as %20")
    if method not in METHODS:
        hint = f"; did you mean `{method.upper()}`?" if method.upper() in METHODS else ""
        raise ValueError(
            f"unknown HTTP method `{method}`; expected one of {', '.join(METHODS)}{hint}"
        )
    if not target.startswith(("/", "http://", "https://", "{{")):
        raise ValueError(
            f"request target {target!r} must be a path starting with `/`, an http(s) URL or a"
            " template such as `{{ next_url }}`"
        )
    if target.startswith(("http://", "https://")) and "{{" not in _authority(target):
        _url_parts(_TEMPLATE_SPAN.sub("x", target), "request URL")
    return RequestLine(text=value, method=method, target=target)


def _authority(url: str) -> str:
    """The `host:port` part of an absolute URL, as written."""
    return url.split("//", 1)[1].split("/", 1)[0].split("?", 1)[0]


Request = Annotated[
    RequestLine,
    BeforeValidator(_request_line),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(" + "|".join(METHODS) + r")\s+\S+$",
            "description": "`METHOD path` (or an absolute URL on a declared target); "
            "`{{ ... }}` inserts variables",
            "examples": ["GET /api/products?limit={{ vars.page_size }}"],
        }
    ),
]


def _not_bool(value: Any) -> Any:
    """YAML's `yes`/`true` are not numbers here, although Python would count them as 1."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


Number = Annotated[float, BeforeValidator(_not_bool)]
"""A float that refuses booleans (pydantic's lax mode would take `true` as 1.0)."""
Count = Annotated[int, BeforeValidator(_not_bool), _at_most(MAX_COUNT, "1000000")]
"""An int that refuses booleans and absurd sizes."""


def _base_url(value: str) -> str:
    parts = _url_parts(value, "target URL")
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"target URL {value!r} must start with http:// or https://")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError(f"target URL {value!r} must not have a query or fragment")
    return value.rstrip("/")


DEFAULT_PORTS: Final = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def url_origin(url: str) -> Origin | None:
    """(scheme, host, port) of a URL, defaults filled in, so equal hosts compare equal."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS.get(parts.scheme, 0)


def check_target_url(value: str) -> str:
    """A target's base URL as suite files and `--target` both accept it (trailing `/` removed);
    a `ValueError` saying what is wrong otherwise."""
    return _base_url(value)


def _url_parts(value: str, what: str) -> SplitResult:
    """`urlsplit` with every problem (bad IPv6 brackets, port) as a message naming the fix."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        reason = "an invalid port" if "port" in str(exc).lower() else "an invalid host"
        raise ValueError(f"{what} {value!r} has {reason} ({exc})") from None
    if not parts.hostname:
        raise ValueError(f"{what} {value!r} has no host")
    if parts.username is not None or parts.password is not None:
        shown = value.replace(parts.netloc, parts.netloc.rsplit("@", 1)[1])
        raise ValueError(
            f"{what} holds credentials (`user:password@`), which are never sent from a URL;"
            f" write {shown!r} and add `auth: {{basic: [user, password]}}` to the step (or to"
            " the target under `target_options`)"
        )
    if port == 0:
        raise ValueError(f"{what} {value!r} has port 0; use a port from 1 to 65535")
    return parts


BaseUrl = Annotated[
    str,
    AfterValidator(_base_url),
    Field(description="base URL, http or https", examples=["http://127.0.0.1:8000"]),
]

JsonPath = Annotated[
    str,
    Field(
        pattern=JSON_PATH_PATTERN,
        description="a JSON path: `$`, `.field`, `['odd key']`, `[0]`, `[*]`",
        examples=["$.items[*].id"],
    ),
]


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, list | dict):
        raise ValueError("variables must be a string, number or boolean")
    return value


Scalar = Annotated[
    Any,
    AfterValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "integer", "boolean"]}),
]
