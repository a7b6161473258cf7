"""The running proxy: links, control server, lease reaper and state file.

Usable in-process (tests, embedding) through `start()` / `stop()`, and as the standing process
through `serve()`, which also handles SIGTERM/SIGINT and the state file's lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contval.chaos.proxy.control import ControlProtocol
from contval.chaos.proxy.link import Address, Link, format_address, listen_socket

# How often leases are checked: a lapsed toxic is gone within lease + this (+ one loop turn).
REAP_INTERVAL = 0.2


@dataclass(frozen=True)
class LinkSpec:
    """NAME=LISTEN=UPSTREAM from the command line."""

    name: str
    listen: Address
    upstream: Address


class Proxy:
    """All links of one proxy process and the control API that drives them."""

    def __init__(self, control: Address, links: list[LinkSpec]) -> None:
        self.control = control
        self.links: dict[str, Link] = {s.name: Link(s.name, s.listen, s.upstream) for s in links}
        self._control_server: asyncio.AbstractServer | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def now(self) -> float:
        """The loop clock: leases and shaping share one monotonic time base."""
        assert self._loop is not None
        return self._loop.time()

    async def start(self) -> None:
        """Bind everything (OSError names the first address that failed), then serve."""
        self._loop = asyncio.get_running_loop()
        sock = _bind(self.control, "control")
        self.control = (self.control[0], int(sock.getsockname()[1]))
        opened: list[Link] = []
        try:
            for link in self.links.values():
                link.open()
                opened.append(link)
        except OSError as exc:
            sock.close()
            for done in opened:
                done.close_listener()
            failed = format_address(link.listen)
            raise OSError(
                exc.errno, f"link {link.name}: cannot listen on {failed}: {exc.strerror}"
            ) from None
        self._control_server = await self._loop.create_server(
            lambda: ControlProtocol(self), sock=sock
        )
        self._reaper = self._loop.create_task(self._reap())

    async def _reap(self) -> None:
        """Drop toxics whose lease lapsed; retry reopening a port a refuse left closed."""
        while True:
            await asyncio.sleep(REAP_INTERVAL)
            now = self.now()
            for link in self.links.values():
                link.expire(now)

    async def stop(self) -> None:
        """Stop accepting and close every connection; toxics die with the process state."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        if self._control_server is not None:
            self._control_server.close()
        for link in self.links.values():
            link.toxics.clear()
            link.shutdown()
        await asyncio.sleep(0)

    def state(self) -> dict[str, Any]:
        """The state file's content: where to find this proxy."""
        return {
            "pid": os.getpid(),
            "control": format_address(self.control),
            "links": {
                name: {"listen": format_address(ln.listen), "upstream": format_address(ln.upstream)}
                for name, ln in self.links.items()
            },
        }


def _bind(address: Address, what: str) -> socket.socket:
    try:
        return listen_socket(address, backlog=128)
    except OSError as exc:
        raise OSError(
            exc.errno, f"{what}: cannot listen on {format_address(address)}: {exc.strerror}"
        ) from None


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Atomically (temp file + rename) so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=2)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_state(path: Path) -> None:
    """Remove the state file if it is still ours (a newer proxy may have replaced it)."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


async def serve(
    proxy: Proxy, state_file: Path | None, ready: Callable[[dict[str, Any]], None] | None = None
) -> None:
    """Run until SIGTERM/SIGINT, then stop cleanly and remove the state file."""
    await proxy.start()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        if state_file is not None:
            write_state(state_file, proxy.state())
        if ready is not None:
            ready(proxy.state())
        await stopping.wait()
    finally:
        await proxy.stop()
        if state_file is not None:
            remove_state(state_file)
