"""`compile_program`: a validated suite into the immutable `Program` one worker runs.

Pure except for reading the CSV files the suite names. Includes are flattened here, `vars` folded
into static text, references resolved to indexes, and static bodies encoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final
from urllib.parse import quote, urlsplit

from contval.flows.bodies import (
    FORM_TYPE,
    MultipartBody,
    compile_auth,
    compile_form,
    compile_multipart,
)
from contval.flows.checks import compile_check, compile_extract
from contval.flows.feeders import Table, read_feeder, share_of
from contval.flows.jsonbody import JsonBody, compile_json
from contval.flows.ops import Call, CompiledFlow, Op, PollOp, PythonOp, RequestOp, ThinkOp
from contval.flows.program import Program
from contval.flows.routes import routes_for
from contval.flows.templates import (
    Resolver,
    Text,
    compile_text,
    header_value,
    path_value,
    static_path,
    to_text,
)
from contval.http.encoding import ACCEPT_ENCODING
from contval.spec import IncludeStep, PollStep, RequestStep, Suite, ThinkStep
from contval.spec.models import TargetOptions
from contval.spec.steps import DEFAULT_REDIRECTS, HttpCall, PythonStep, Step
from contval.spec.types import url_origin

_EMPTY: Mapping[str, str] = MappingProxyType({})


def compile_program(
    suite: Suite,
    *,
    overrides: Mapping[str, str] = _EMPTY,
    worker: int = 0,
    workers: int = 1,
    seed: int | None = None,
    tables: Mapping[str, Table] | None = None,
) -> Program:
    """Compile every flow of `suite` for worker `worker` of `workers`.

    `overrides` are `--var k=v` strings replacing suite variables, converted to the type of the
    value they replace when they parse as that type. `tables` are the feeder files' contents as
    the controller read them (a worker never reads files); without them the files are read here.
    """
    if not 0 <= worker < workers:
        raise ValueError(f"worker {worker} is not one of {workers} workers")
    constants = apply_overrides(suite.variables, overrides)
    feeders = {
        name: read_feeder(name, spec, worker, workers)
        if tables is None
        else share_of(name, spec, tables[name], worker, workers)
        for name, spec in suite.data.items()
    }
    columns = {name: data.columns for name, data in feeders.items()}
    flows: dict[str, CompiledFlow] = {}
    for name, spec in suite.flows.items():
        resolver = Resolver(constants, columns, environment=suite.environment.values)
        base = suite.targets[spec.target]
        setup = _ops(suite, name, spec.setup, base, resolver, ())
        steps = _flatten(suite, name, resolver, ())
        flows[name] = CompiledFlow(
            name,
            tuple(steps),
            tuple(resolver.variables),
            tuple(resolver.feeders),
            tuple(setup),
            spec.session,
        )
    used = {f for flow in flows.values() for f in flow.feeders}
    return Program(
        MappingProxyType(flows),
        MappingProxyType({n: d for n, d in feeders.items() if n in used}),
        worker,
        seed,
        targets=tuple(suite.targets.values()),
        secrets=suite.environment.secrets,
        routes=routes_for(suite),
    )


def apply_overrides(
    variables: Mapping[str, object], overrides: Mapping[str, str]
) -> dict[str, object]:
    """Suite variables with `--var` values applied (typed like the value they replace)."""
    merged = dict(variables)
    for key, text in overrides.items():
        merged[key] = convert(merged[key], text) if key in merged else text
    return merged


def convert(old: object, text: str) -> object:
    """`text` as the type of `old` when it parses as one; otherwise the text itself."""
    if isinstance(old, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        return text
    for kind in (int, float):
        if isinstance(old, kind):
            try:
                return kind(text)
            except ValueError:
                return text
    return text


def _flatten(suite: Suite, name: str, resolver: Resolver, trail: tuple[str, ...]) -> list[Op]:
    if name in trail:
        raise ValueError("include cycle: " + " → ".join((*trail, name)))
    flow = suite.flows[name]
    return _ops(suite, name, flow.steps, suite.targets[flow.target], resolver, trail)


def _ops(
    suite: Suite,
    name: str,
    steps: tuple[Step, ...],
    base: str,
    resolver: Resolver,
    trail: tuple[str, ...],
) -> list[Op]:
    ops: list[Op] = []
    for step in steps:
        if isinstance(step, IncludeStep):
            ops.extend(_flatten(suite, step.include, resolver, (*trail, name)))
        elif isinstance(step, ThinkStep):
            ops.append(ThinkOp(step.think.low, step.think.high))
        elif isinstance(step, RequestStep):
            call = _call(step, base, resolver, suite)
            ops.append(RequestOp(step.name, call, compile_check(step.check), step.timeout))
        elif isinstance(step, PollStep):
            poll = step.poll
            call = _call(poll, base, resolver, suite)
            until = compile_check(poll.until)
            ops.append(
                PollOp(step.name, call, until, poll.every, poll.poll_timeout, poll.request_timeout)
            )
        elif isinstance(step, PythonStep):
            ops.append(_python(step, resolver))
    return ops


def _python(step: PythonStep, resolver: Resolver) -> PythonOp:
    """The step's `sets` as scope indexes; what it reads of vars, env and secrets by name."""
    constants = {f"vars.{name}": value for name, value in resolver.constants.items()}
    constants.update(resolver.environment)
    return PythonOp(
        step.name,
        step.python,
        None if step.folder is None else str(step.folder),
        MappingProxyType({name: resolver.variable(name) for name in step.sets}),
        MappingProxyType(constants),
    )


def _call(spec: HttpCall, base: str, resolver: Resolver, suite: Suite) -> Call:
    url_target = spec.request.is_url_template
    if url_target:
        origin, path = _split_target("/", base)
        compiled_path = compile_text(spec.request.target, resolver, url_value, static_path)
    else:
        origin, path = _split_target(spec.request.target, base)
        compiled_path = compile_text(path, resolver, path_value, static_path)
    defaults = _target_options(suite, origin)
    headers = {k: v for k, v in spec.headers.items() if "{{" not in v}
    dynamic = [
        (k, compile_text(v, resolver, header_value)) for k, v in spec.headers.items() if "{{" in v
    ]
    named = {k.lower() for k in spec.headers}
    is_json = spec.body is None and "json_body" in spec.model_fields_set
    if is_json and "content-type" not in named:
        headers["Content-Type"] = "application/json"
    if spec.form is not None and "content-type" not in named:
        headers["Content-Type"] = FORM_TYPE
    if "accept-encoding" not in named:
        headers["Accept-Encoding"] = ACCEPT_ENCODING
    auth_spec = spec.auth or (defaults.auth if "authorization" not in named else None)
    if auth_spec is not None:
        auth = compile_auth(auth_spec, resolver)
        if isinstance(auth, str):
            headers["Authorization"] = auth
        else:
            dynamic.append(("Authorization", auth))
    body, template = _body(spec, resolver)
    if spec.multipart is not None:
        multipart, kind = compile_multipart(spec.multipart, resolver)
        if "content-type" not in named:
            headers["Content-Type"] = kind
        body, template = multipart.static, None if multipart.static is not None else multipart
    return Call(
        origin,
        spec.request.method,
        compiled_path,
        MappingProxyType(headers),
        tuple(dynamic),
        body,
        template,
        tuple(compile_extract(n, e, resolver) for n, e in spec.extract.items()),
        spec.idempotent,
        _first(spec.follow_redirects, defaults.follow_redirects, DEFAULT_REDIRECTS),
        url_target,
        defaults.max_decoded_body,
    )


def _first(*values: int | None) -> int:
    return next(value for value in values if value is not None)


def _target_options(suite: Suite, origin: str) -> TargetOptions:
    """The `target_options` of the declared target at `origin` (none set: the defaults)."""
    wanted = url_origin(origin)
    for name, url in suite.targets.items():
        if name in suite.target_options and url_origin(url) == wanted:
            return suite.target_options[name]
    return NO_OPTIONS


NO_OPTIONS: Final = TargetOptions.model_validate({})


def url_value(value: object) -> str:
    """A value that is a whole URL or path (`GET {{ next }}`): its structure kept, spaces,
    controls and non-ASCII escaped (the target is checked against declared targets per send)."""
    return quote(to_text(value), safe="!#$%&'()*+,/:;=?@[]~")


def _body(
    spec: HttpCall, resolver: Resolver
) -> tuple[bytes | None, JsonBody | Text | MultipartBody | None]:
    """(static bytes, None) or (None, template): a static body is encoded here, once."""
    if spec.body is not None:
        text = compile_text(spec.body, resolver, to_text)
        return (None, text) if text.static is None else (text.static.encode(), None)
    if "json_body" in spec.model_fields_set:
        compiled = compile_json(spec.json_body, resolver)
        return (None, compiled) if compiled.static is None else (compiled.static, None)
    if spec.form is not None:
        form = compile_form(spec.form, resolver)
        return (None, form) if form.static is None else (form.static.encode(), None)
    return None, None


def _split_target(target: str, base: str) -> tuple[str, str]:
    """(origin URL, path template): the base URL's path prefix joins relative paths."""
    if target.startswith(("http://", "https://")):
        scheme, rest = target.split("://", 1)
        slash = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        path = rest[slash:]
        return f"{scheme}://{rest[:slash]}", path if path.startswith("/") else "/" + path
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/") + target
