"""The fault proxy as a run sees it: which links a suite declares, whether the proxy answers,
and starting it detached when a run needs it and finds it missing (it then says so). A run
needs it when a scenario has a proxy fault, or when a target it loads sits behind a link (the
load goes through the proxy itself: without it the target would be unreachable)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
from pathlib import Path

from contval.chaos.faults import PROXY_TYPES
from contval.chaos.faults.base import FaultError
from contval.chaos.faults.proxy_client import ProxyClient
from contval.pipeline.faults import proxy_control
from contval.pipeline.preflight import behind_links, targets_used

__all__ = [
    "link_args",
    "needs_proxy",
    "proxy_answers",
    "proxy_control",
    "start_proxy",
    "state_file",
    "stop_proxy",
]
from contval.spec import Suite


def link_args(suite: Suite) -> list[str]:
    """`--link NAME=LISTEN=UPSTREAM` for every proxy chaos target of the suite."""
    args = []
    for name, target in suite.chaos_targets.items():
        proxy = getattr(target, "proxy", None)
        if proxy is not None:
            args += ["--link", f"{name}={proxy.listen}={proxy.upstream}"]
    return args


def needs_proxy(suite: Suite, scenarios: tuple[str, ...]) -> bool:
    """A scenario has a proxy fault, or the load itself goes through a proxy link."""
    return any(
        suite.faults[entry.fault].type in PROXY_TYPES
        for name in scenarios
        for entry in suite.scenarios[name].chaos
    ) or bool(behind_links(suite, targets_used(suite, scenarios)))


def state_file(control: str) -> Path:
    base = Path(os.environ.get("CONTVAL_STATE_DIR") or Path.home() / ".local/state/contval")
    return base / f"proxy-{control.replace(':', '-')}.json"


def proxy_answers(control: str) -> bool:
    try:
        ProxyClient(control, timeout=1.0).health()
    except (FaultError, OSError):
        return False
    return True


def start_proxy(suite: Suite, control: str | None = None, detach: bool = True) -> tuple[int, str]:
    """Run the proxy for the suite's links; (exit code, what it printed)."""
    from contval.chaos.proxy.cli import main as proxy_main

    control = control or proxy_control()
    argv = ["--control", control, "--state", str(state_file(control)), *link_args(suite)]
    if detach:
        argv.append("--detach")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = proxy_main(argv)
    return code, (out.getvalue() + err.getvalue()).strip()


def stop_proxy(control: str | None = None) -> str:
    """Stop a proxy started for `control` (by the PID in its state file, if it is ours)."""
    import json

    control = control or proxy_control()
    path = state_file(control)
    try:
        pid = int(json.loads(path.read_text())["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, KeyError):
        return f"no fault proxy running for {control}"
    if b"contval.chaos.proxy" not in cmdline:
        return f"no fault proxy running for {control} (stale state file {path})"
    os.kill(pid, signal.SIGTERM)
    return f"stopped the fault proxy (pid {pid})"
