"""`--target NAME=URL`: moving a target moves every request that goes to it.

Relative request paths follow their flow's target by construction; an absolute URL in a step
names a declared target's host (validation insists on it), so it must move with that target too.
Otherwise an override would leave some load on the old host, which the reachability check never
tested (one run sent 4 requests there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from contval.spec.models import Flow, Suite
from contval.spec.steps import PollStep, RequestStep, Step
from contval.spec.types import Origin, RequestLine, check_target_url, url_origin


class TargetOverrideError(ValueError):
    """A `--target` value that names no target or is not a valid base URL."""


def parse_target_overrides(suite: Suite, values: Sequence[tuple[str, str]]) -> dict[str, str]:
    """`(name, url)` pairs checked as the suite's own targets are checked; the normalized map.

    Raises `TargetOverrideError` naming the option and the fix.
    """
    checked: dict[str, str] = {}
    for name, url in values:
        if name not in suite.targets:
            known = ", ".join(f"`{n}`" for n in suite.targets)
            raise TargetOverrideError(f"--target {name}: no such target; the suite has {known}")
        try:
            checked[name] = check_target_url(url.strip())
        except ValueError as exc:
            raise TargetOverrideError(f"--target {name}: {exc}") from None
    return checked


def with_targets(suite: Suite, overrides: Mapping[str, str]) -> Suite:
    """`suite` with targets replaced, and absolute step URLs on a moved target moved with it."""
    if not overrides:
        return suite
    moves = {suite.targets[name].rstrip("/"): url for name, url in overrides.items()}
    kept = {url_origin(url) for name, url in suite.targets.items() if name not in overrides}
    flows = {name: _move_flow(flow, moves, kept) for name, flow in suite.flows.items()}
    targets = {**suite.targets, **overrides}
    return suite.model_copy(update={"targets": targets, "flows": flows})


def _move_flow(flow: Flow, moves: Mapping[str, str], kept: set[Origin | None]) -> Flow:
    steps: list[Step] = []
    for step in flow.steps:
        if isinstance(step, RequestStep):
            steps.append(step.model_copy(update={"request": _move(step.request, moves, kept)}))
        elif isinstance(step, PollStep):
            request = _move(step.poll.request, moves, kept)
            poll = step.poll.model_copy(update={"request": request})
            steps.append(step.model_copy(update={"poll": poll}))
        else:
            steps.append(step)
    return flow.model_copy(update={"steps": tuple(steps)})


def _move(line: RequestLine, moves: Mapping[str, str], kept: set[Origin | None]) -> RequestLine:
    """The request on its new host: the old base URL replaced, or failing that its origin
    (unless a target that was not moved still lives at that origin: the URL may be its)."""
    if not line.is_absolute:
        return line
    target = line.target
    for old in sorted(moves, key=len, reverse=True):
        if target == old or target.startswith((old + "/", old + "?")):
            return _line(line, moves[old] + target[len(old) :])
    origin = url_origin(target)
    if origin is None or origin in kept:
        return line
    for old, new in moves.items():
        if origin == url_origin(old):
            rest = target.split("//", 1)[1]
            cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
            return _line(line, _root(new) + rest[cut:])
    return line


def _line(line: RequestLine, target: str) -> RequestLine:
    return RequestLine(text=f"{line.method} {target}", method=line.method, target=target)


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
