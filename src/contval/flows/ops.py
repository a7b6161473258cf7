"""The compiled form of a flow: flat, immutable steps with everything static worked out.

These are data, built once per worker by `compile_program` and shared by every virtual user; the
runner binds them to pools, templates and metric slots once, in `Program.bind`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contval.flows.bodies import MultipartBody
from contval.flows.checks import CompiledCheck, Extractor
from contval.flows.jsonbody import JsonBody
from contval.flows.templates import Text


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request: static parts pre-rendered, dynamic ones as compiled templates.

    `path` already carries the target's path prefix. `body` is the encoded static body, or
    `body_template` renders one per request.
    """

    origin: str
    method: str
    path: Text
    headers: Mapping[str, str]
    dynamic_headers: tuple[tuple[str, Text], ...]
    body: bytes | None
    body_template: JsonBody | Text | MultipartBody | None
    extractors: tuple[Extractor, ...]
    idempotent: bool = False
    """The step says the server de-duplicates it: the client may replay it (see docs/http.md)."""
    follow_redirects: int = 10
    """Redirect hops to follow (0: a 3xx is the answer); only ever to declared targets."""
    url_target: bool = False
    """`path` renders a path or a full URL known only at run time (`GET {{ next }}`)."""
    max_decoded_body: int | None = None
    """The target's bound on a decoded gzip/deflate body; None: the client's."""

    @property
    def is_static(self) -> bool:
        """Static calls are sent as the template's pre-encoded bytes: no work per request."""
        return (
            self.path.static is not None
            and not self.dynamic_headers
            and self.body_template is None
            and not self.url_target
        )


@dataclass(frozen=True, slots=True)
class RequestOp:
    """Send, check, extract."""

    name: str
    call: Call
    check: CompiledCheck
    timeout: float | None


@dataclass(frozen=True, slots=True)
class ThinkOp:
    """Pause uniformly in [low, high] seconds (fixed when equal)."""

    low: float
    high: float


@dataclass(frozen=True, slots=True)
class PollOp:
    """Repeat `call` every `every` seconds until `until` holds or `timeout` elapses."""

    name: str
    call: Call
    until: CompiledCheck
    every: float
    timeout: float
    request_timeout: float | None


@dataclass(frozen=True, slots=True)
class PythonOp:
    """Call `module:function` (imported by the worker from `folder`, then sys.path).

    `sets` maps each name the function may return to its index in the scope; `constants` are
    the `vars.X`, `env.X` and `secrets.X` values the function sees, under those names.
    """

    name: str
    ref: str
    folder: str | None
    sets: Mapping[str, int]
    constants: Mapping[str, object]


Op = RequestOp | ThinkOp | PollOp | PythonOp


@dataclass(frozen=True, slots=True)
class CompiledFlow:
    """A flow with includes flattened; `variables` sizes its scope, `feeders` its rows."""

    name: str
    steps: tuple[Op, ...]
    variables: tuple[str, ...]
    feeders: tuple[str, ...]
    setup: tuple[Op, ...] = ()
    """Run once per virtual user before its first iteration; variables shared with `steps`."""
    session: str = "iteration"
    """Cookies: `iteration` (a fresh jar each iteration), `vu` (kept), `none` (no jar)."""

    @property
    def step_names(self) -> tuple[str, ...]:
        """The names its metrics are recorded under (`flow/step`), includes' steps included."""
        ops = (*self.setup, *self.steps)
        return tuple(op.name for op in ops if not isinstance(op, ThinkOp))

    @property
    def first_origin(self) -> str | None:
        """The origin its first request goes to (setup included); None when that is known
        only at run time (a templated URL) or it sends none."""
        for op in (*self.setup, *self.steps):
            if isinstance(op, RequestOp | PollOp):
                return None if op.call.url_target else op.call.origin
        return None
