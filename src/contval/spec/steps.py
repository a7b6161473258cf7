"""Flow steps: request, think, include, poll and python, plus the checks and extractions a request
carries.

A step's kind is the one key that names it (`request:`, `think:`, `include:`, `poll:`,
`python:`), so the
union is discriminated on which of those keys is present; error locations then name one kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    JsonValue,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contval.spec.scripts import check_ref, import_function
from contval.spec.types import (
    Frozen,
    JsonPath,
    Name,
    Request,
    Seconds,
    StepName,
    ThinkRange,
    VarName,
)
from contval.spec.uploads import read_upload


class Condition(Frozen):
    """What a JSON value must satisfy; a bare scalar in the file means `equals`.

    Unset operators are None; `model_fields_set` tells `equals: null` (set) from no `equals`.
    """

    equals: JsonValue = None
    not_equals: JsonValue = None
    one_of: tuple[JsonValue, ...] | None = Field(None, description="the value is one of these")
    min_length: int | None = Field(None, ge=0, description="arrays and strings: at least N long")
    max_length: int | None = Field(None, ge=0, description="arrays and strings: at most N long")
    min: float | None = Field(None, description="numbers: at least this")
    max: float | None = Field(None, description="numbers: at most this")
    matches: str | None = Field(None, description="strings: a regular expression that must match")
    exists: bool | None = Field(None, description="whether the path must (or must not) exist")

    @model_validator(mode="after")
    def _one_condition_at_least(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one of " + ", ".join(_CONDITION_KEYS))
        if self.matches is not None:
            _compile(self.matches)
        return self


_CONDITION_KEYS: Final = tuple(Condition.model_fields)


def _compile(pattern: str) -> re.Pattern[str]:
    shown = repr(pattern if len(pattern) <= 60 else pattern[:60] + "…")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {shown}: {exc.msg}") from None
    except (OverflowError, RecursionError, ValueError) as exc:
        # `a{99999999999}` overflows the compiler rather than raising `re.error`.
        raise ValueError(f"invalid regular expression {shown}: {exc}") from None


def _condition_shorthand(value: Any) -> Any:
    """`{"$.status": fulfilled}` is short for `{"$.status": {equals: fulfilled}}`."""
    return value if isinstance(value, dict) else {"equals": value}


ConditionSpec = Annotated[
    Condition,
    BeforeValidator(_condition_shorthand, json_schema_input_type=Condition | str | float | bool),
]


def _status_list(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError("must be a status code such as 200, or a list such as [200, 201]")
    return value


Status = Annotated[int, Field(ge=100, le=599)]


class BodyCheck(Frozen):
    """What the body, read as text (UTF-8, bad bytes replaced), must hold; each key one check."""

    contains: str | None = Field(None, min_length=1, description="text the body must contain")
    not_contains: str | None = Field(
        None, min_length=1, description="text the body must not contain"
    )
    matches: str | None = Field(
        None, description="a regular expression the body must match (search, not full match)"
    )

    @model_validator(mode="after")
    def _one_at_least(self) -> BodyCheck:
        if not self.model_fields_set:
            raise ValueError("a body check needs `contains`, `not_contains` or `matches`")
        if self.matches is not None:
            _compile(self.matches)
        return self


class Check(Frozen):
    """What a response must look like for the request to count as a success."""

    status: Annotated[
        tuple[Status, ...] | None,
        BeforeValidator(_status_list, json_schema_input_type=Status | list[Status]),
    ] = Field(None, description="the expected status code, or a list of accepted codes")
    json_paths: Mapping[JsonPath, ConditionSpec] = Field(
        default_factory=dict,
        alias="json",
        description="JSON path → condition (a bare value means `equals`)",
    )
    headers: Mapping[str, ConditionSpec] = Field(
        default_factory=dict,
        description="response header (any case) → condition on its value (a bare value means"
        " `equals`; `exists: false` for a header that must be absent)",
    )
    body: BodyCheck | None = Field(
        None,
        description="what the raw body must (not) contain: `contains`, `not_contains`, `matches`",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Check:
        if not self.model_fields_set:
            raise ValueError("a check needs `status`, `json`, `headers` or `body`")
        return self


class Extract(Frozen):
    """Where to take a variable's value from in a response; exactly one source."""

    json_path: JsonPath | None = Field(None, alias="json", description="a JSON path")
    regex: str | None = Field(None, description="a regular expression; group 1 if it has one")
    header: str | None = Field(None, description="a response header name")
    pick: Literal["first", "random", "all"] = Field(
        "first", description="which match to keep when there are several"
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Extract:
        sources = [s for s in (self.json_path, self.regex, self.header) if s is not None]
        if len(sources) != 1:
            raise ValueError("an extraction needs exactly one of `json`, `regex` or `header`")
        if self.regex is not None and _compile(self.regex).groups > 1:
            raise ValueError(f"regex {self.regex!r} has more than one group")
        return self


class Auth(Frozen):
    """Credentials sent as an `Authorization` header; values may use `{{ }}`."""

    basic: tuple[str, str] | None = Field(
        None, description="[user, password]: HTTP Basic authentication"
    )
    bearer: str | None = Field(None, description="a token sent as `Authorization: Bearer TOKEN`")

    @model_validator(mode="after")
    def _exactly_one(self) -> Auth:
        if (self.basic is None) == (self.bearer is None):
            raise ValueError("`auth` needs exactly one of `basic: [user, password]` or `bearer`")
        return self


def _hops(value: Any) -> Any:
    """`follow_redirects: false` is 0 hops, `true` the default 10, N at most 50."""
    if isinstance(value, bool):
        return DEFAULT_REDIRECTS if value else 0
    if not isinstance(value, int) or not 0 <= value <= MAX_REDIRECTS:
        raise ValueError(f"must be true, false or a number of hops from 0 to {MAX_REDIRECTS}")
    return value


DEFAULT_REDIRECTS: Final = 10
MAX_REDIRECTS: Final = 50
Hops = Annotated[
    int,
    BeforeValidator(_hops, json_schema_input_type=bool | int),
]
FormValue = str | int | float | bool


class Upload(Frozen):
    """A file in a `multipart:` body: read when the suite is loaded, shipped with it."""

    file: Path = Field(description="the file to send, relative to the suite file")
    content_type: str = Field("application/octet-stream", description="the part's Content-Type")
    filename: str | None = Field(None, description="the file name sent (default: the file's)")
    _content: bytes = PrivateAttr(b"")

    @model_validator(mode="after")
    def _read(self, info: ValidationInfo) -> Upload:
        if any(c in self.content_type for c in "\r\n"):
            raise ValueError("`content_type` must be one line")
        self._content = read_upload(self.file, info.context)
        return self

    @property
    def content(self) -> bytes:
        """The file's bytes as read at load."""
        return self._content

    @property
    def sent_name(self) -> str:
        return self.filename if self.filename is not None else self.file.name


def _part_kind(value: Any) -> str:
    return "file" if isinstance(value, dict | Upload) else "value"


MultipartValue = Annotated[
    Annotated[Upload, Tag("file")] | Annotated[FormValue, Tag("value")],
    Discriminator(_part_kind),
]
"""A field's value, or a mapping that is a file (so a bad file reports only the file's error)."""


class HttpCall(Frozen):
    """The parts of an HTTP request shared by request steps and polls."""

    request: Request
    json_body: JsonValue = Field(
        None, alias="json", description="a JSON body; strings may use {{ }}"
    )
    body: str | None = Field(None, description="a raw text body (instead of `json`)")
    headers: Mapping[str, str] = Field(default_factory=dict, description="extra request headers")
    extract: Mapping[VarName, Extract] = Field(
        default_factory=dict, description="variable name → where to take it from in the response"
    )
    idempotent: bool = Field(
        False,
        description="the server de-duplicates this request: the client may send it twice after a"
        " keep-alive race (GET, HEAD, OPTIONS, TRACE and requests with an Idempotency-Key header"
        " always may)",
    )
    follow_redirects: Hops | None = Field(
        None,
        description="false, true or the most hops to follow (default 10; only to declared"
        " targets); a 3xx the step's `check.status` lists is never followed",
    )
    auth: Auth | None = Field(None, description="`{basic: [user, password]}` or `{bearer: TOKEN}`")
    form: Mapping[str, FormValue] | None = Field(
        None, description="an application/x-www-form-urlencoded body: field → value"
    )
    multipart: Mapping[str, MultipartValue] | None = Field(
        None,
        description="a multipart/form-data body: field → value, or `{file: PATH, content_type,"
        " filename}` for a file (read when the suite is loaded)",
    )

    @model_validator(mode="after")
    def _one_body(self) -> HttpCall:
        bodies = [k for k in ("body", "form", "multipart") if getattr(self, k) is not None]
        if "json_body" in self.model_fields_set:
            bodies.insert(0, "json")
        if bodies == ["json", "body"]:
            raise ValueError("a request has either `json` or `body`, not both")
        if len(bodies) > 1:
            raise ValueError(
                f"a request has at most one body: {' and '.join(f'`{b}`' for b in bodies)} given"
            )
        if self.auth is not None and any(k.lower() == "authorization" for k in self.headers):
            raise ValueError("`auth` sets the Authorization header; remove it from `headers`")
        return self


class RequestStep(HttpCall):
    """Send one request, check the response, extract variables for later steps."""

    name: StepName = Field(description="unique within the flow; thresholds use `flow/name`")
    check: Check | None = Field(None, description="what a successful response looks like")
    timeout: Annotated[Seconds, Field(gt=0)] | None = Field(
        None, description="per-request timeout, e.g. 5s"
    )


class ThinkStep(Frozen):
    """Pause like a person would; the range keeps virtual users out of lock-step."""

    think: ThinkRange


class IncludeStep(Frozen):
    """Run another flow's steps here, sharing variables with this flow."""

    include: Name = Field(description="the name of another flow")


class Poll(HttpCall):
    """Repeat a request until a condition holds: the time that takes is the step's duration."""

    until: Check = Field(description="the condition that ends the poll")
    every: Annotated[Seconds, Field(gt=0)] = Field(1.0, description="interval between attempts")
    poll_timeout: Annotated[Seconds, Field(gt=0)] = Field(
        30.0, alias="timeout", description="give up (a failed step) after this long"
    )
    request_timeout: Annotated[Seconds, Field(gt=0)] | None = Field(
        None, description="per-attempt request timeout"
    )

    @model_validator(mode="after")
    def _every_within_timeout(self) -> Poll:
        if self.every > self.poll_timeout:
            raise ValueError("`every` must not be longer than `timeout`")
        return self


class PollStep(Frozen):
    """A step that waits for an asynchronous outcome, as system flows do."""

    name: StepName = Field(description="unique within the flow; thresholds use `flow/name`")
    poll: Poll


class PythonStep(Frozen):
    """Call a Python function with the iteration's variables; it returns the ones it sets.

    Validation imports the module (from the suite file's folder, then `sys.path`) and checks the
    function, unless told not to (`import_python: False` in the validation context: only the
    form of `module:function` is checked); only the name and the folder travel to the workers,
    which import it again.
    """

    name: StepName = Field(description="unique within the flow; thresholds use `flow/name`")
    python: str = Field(
        description="`module:function`: the module is looked up next to the suite file first,"
        " then on sys.path; the function takes the iteration's variables (a read-only mapping)"
        " and returns a dict of the variables it sets, or None (it may be `async def`)"
    )
    sets: tuple[VarName, ...] = Field(
        (), description="the variables the function may return, for later steps' templates"
    )
    _folder: Path | None = PrivateAttr(None)

    @field_validator("python")
    @classmethod
    def _importable(cls, value: str, info: ValidationInfo) -> str:
        context = info.context
        if isinstance(context, Mapping) and context.get("import_python") is False:
            check_ref(value)  # nothing of the module is found, read or run
        else:
            import_function(value, _folder_of(context))
        return value

    @field_validator("sets")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({name for name in value if value.count(name) > 1})
        if twice:
            raise ValueError(f"`{twice[0]}` is listed twice")
        return value

    @model_validator(mode="after")
    def _remember_folder(self, info: ValidationInfo) -> PythonStep:
        self._folder = _folder_of(info.context)
        return self

    @property
    def folder(self) -> Path | None:
        """The suite file's folder, where the module is looked up first."""
        return self._folder


def _folder_of(context: Any) -> Path | None:
    base = context.get("base_dir") if isinstance(context, Mapping) else None
    return Path(base) if base is not None else None


STEP_KINDS: Final = ("request", "think", "include", "poll", "python")


def _step_kind(value: Any) -> str | None:
    """The tag of a step: the first of its keys that names a kind ('-step' avoids key clashes)."""
    if isinstance(value, dict):
        for kind in STEP_KINDS:
            if kind in value:
                return f"{kind}-step"
        return None
    if isinstance(value, Frozen):
        return f"{type(value).__name__.removesuffix('Step').lower()}-step"
    return None


Step = Annotated[
    Annotated[RequestStep, Tag("request-step")]
    | Annotated[ThinkStep, Tag("think-step")]
    | Annotated[IncludeStep, Tag("include-step")]
    | Annotated[PollStep, Tag("poll-step")]
    | Annotated[PythonStep, Tag("python-step")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs one of `request`, `think`, `include`, `poll` or"
        " `python`",
    ),
]
