"""Entry points of the three service processes, as the supervisor starts them.

Each service may be handed an already-bound listening socket (`fd`), so the supervisor owns port
allocation without races, and each dies with its supervisor (PR_SET_PDEATHSIG), so even a
SIGKILLed supervisor leaves no process behind.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import signal
import socket
import sys

import uvicorn
import uvloop
from starlette.applications import Starlette

from contoso_shoes.worker import Worker, WorkerSettings

PARENT_ENV = "CONTOSO_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """If started by a supervisor, get SIGTERM when it dies, and exit now if it already has."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):
        sys.exit(0)


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(app: Starlette, fd: int | None, host: str, port: int) -> None:
    """Run an ASGI app on uvicorn with uvloop and httptools, quietly, until SIGTERM/SIGINT."""
    sock = socket.socket(fileno=fd) if fd is not None else listening_socket(host, port)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        timeout_keep_alive=30,
        backlog=2048,
    )
    uvicorn.Server(config).run(sockets=[sock])


def run_worker(settings: WorkerSettings) -> None:
    """Run the order worker until SIGTERM/SIGINT, finishing the orders in hand."""

    async def main() -> None:
        worker = Worker(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        await worker.run()

    uvloop.run(main())
