"""Command line of the proxy: foreground serving, or `--detach` into its own session.

Errors a user can cause (a port in use, a malformed --link) end with one clear line and exit 1,
never a traceback: this runs next to someone's system, often from a Makefile.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from contval.chaos.proxy.link import parse_address
from contval.chaos.proxy.service import LinkSpec, Proxy, serve

DEFAULT_CONTROL = "127.0.0.1:8474"
DETACH_TIMEOUT = 10.0


def _link_spec(text: str) -> LinkSpec:
    parts = text.split("=")
    if len(parts) != 3 or not parts[0]:
        raise argparse.ArgumentTypeError(f"expected NAME=LISTEN=UPSTREAM, got {text!r}")
    try:
        return LinkSpec(parts[0], parse_address(parts[1]), parse_address(parts[2]))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--link {text}: {exc}") from None


def _address(text: str) -> tuple[str, int]:
    try:
        return parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The proxy's arguments (also shown by `contval proxy --help`)."""
    parser = argparse.ArgumentParser(
        prog="contval proxy",
        description="Fault proxy: relays links cleanly and takes leased toxics over a local API.",
    )
    parser.add_argument(
        "--control",
        type=_address,
        default=_address(DEFAULT_CONTROL),
        metavar="HOST:PORT",
        help=f"control API address (default {DEFAULT_CONTROL})",
    )
    parser.add_argument(
        "--link",
        type=_link_spec,
        action="append",
        default=[],
        metavar="NAME=LISTEN=UPSTREAM",
        help="a link to relay, e.g. payments=127.0.0.1:9101=127.0.0.1:9100 (repeatable)",
    )
    parser.add_argument("--state", type=Path, help="JSON state file written once listening")
    parser.add_argument(
        "--detach", action="store_true", help="run in the background in a new session"
    )
    return parser


def _new_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _announce(state: dict[str, Any]) -> None:
    """One line per address, so a human (or a log) knows where everything is."""
    print(f"contval proxy: pid {state['pid']}, control http://{state['control']}", flush=True)
    for name, link in state["links"].items():
        print(f"  link {name}: {link['listen']} -> {link['upstream']}", flush=True)


def _foreground(args: argparse.Namespace) -> int:
    proxy = Proxy(args.control, args.link)
    try:
        with asyncio.Runner(loop_factory=_new_loop_factory()) as runner:
            runner.run(serve(proxy, args.state, _announce))
    except OSError as exc:
        print(f"contval proxy: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _read_state(path: Path) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        state = json.loads(path.read_text())
        if isinstance(state, dict):
            return state
    return None


def _detach(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Start a copy of this command in a new session; return once it listens (or failed)."""
    state: Path = args.state or Path(tempfile.gettempdir()) / (
        f"contval-proxy-{args.control[1]}.json"
    )
    log = state.with_name(state.name + ".log")
    child_argv = [a for a in argv if a != "--detach"]
    if args.state is None:
        child_argv += ["--state", str(state)]
    state.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "contval.chaos.proxy", *child_argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    deadline = time.monotonic() + DETACH_TIMEOUT
    while time.monotonic() < deadline:
        current = _read_state(state)
        if current is not None and current.get("pid") == child.pid:
            _announce(current)
            print(f"  state {state}, log {log}", flush=True)
            return 0
        if child.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit status {child.returncode}"
            print(
                reason if reason.startswith("contval proxy") else f"contval proxy: {reason}",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.02)
    child.terminate()
    print(f"contval proxy: not listening after {DETACH_TIMEOUT:g}s (see {log})", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `python -m contval.chaos.proxy` and `contval proxy`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    names = [spec.name for spec in args.link]
    if len(set(names)) != len(names):
        print("contval proxy: link names must be unique", file=sys.stderr)
        return 1
    if args.detach:
        return _detach(args, argv)
    return _foreground(args)
