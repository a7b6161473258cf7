"""The body of a Ray worker actor: the same `Worker` a local process runs, on its own thread.

The worker's event loop talks to a pipe exactly as in a local worker process; a pump thread in
the actor reads that pipe into a queue as fast as the worker writes, so the worker never waits
for the controller. The controller fetches the queue with `poll` (a long poll), and sends
START and STOP through the actor's methods, which may run while a poll waits (the actor is
threaded). Each call from the controller renews a lease: when the controller is gone (killed,
or its host unreachable) the lease lapses and the actor stops its worker's load by itself.

Nothing here imports `ray` at module level; `ray_controller` wraps this class in `ray.remote`.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import socket
import threading
import time
import traceback
from typing import Any
from urllib.parse import urlsplit

from contval.engine import messages as msg
from contval.engine.worker import Worker
from contval.http import now

LEASE_S = 3.0
"""After START, a worker whose controller has not been heard from for this long stops its load
(well inside the 5 s a killed controller's load may run on)."""
LOAD_NICENESS = 0
"""Ray starts its worker processes at niceness 15 (`RAY_worker_niceness`) so that its own
daemons come first. A load generator that every other task on the node preempts times its
requests late (18,000 preemptions a second measured on a busy 2-core node, +15 % CPU per
request): the load thread (and the outbox thread it starts) runs at this niceness instead,
where the node allows it (root, CAP_SYS_NICE or RLIMIT_NICE); Ray's own threads keep theirs."""
IDLE_LEASE_S = 120.0
"""Before START no load is sent; an actor left waiting this long without a word stops."""
WATCH_S = 0.25


class RayWorker:
    """One load worker on a Ray node (wrapped in `ray.remote` by the controller)."""

    def __init__(self, job: msg.WorkerJob) -> None:
        self.job = job
        self._conn, self._worker_conn = multiprocessing.Pipe(duplex=True)
        self._send_lock = threading.Lock()
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._ready = threading.Condition()
        self._contact = time.monotonic()
        self._started = False
        self._stopped = False
        self._threads: list[threading.Thread] = []
        self._niced = threading.Event()
        self._nice: int | None = None

    def node(self) -> dict[str, Any]:
        """Where this actor runs: node id, address, host name, CPUs of the node, process id."""
        import ray as _ray

        ray: Any = _ray  # untyped in places
        node_id = ray.get_runtime_context().get_node_id()
        cpu = next(
            (n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n["NodeID"] == node_id), 0.0
        )
        return {
            "node_id": node_id,
            "host": ray.util.get_node_ip_address(),
            "hostname": socket.gethostname(),
            "cpu": cpu,
            "pid": os.getpid(),
        }

    def check_targets(self, targets: dict[str, str], timeout: float = 3.0) -> list[str]:
        """One message per target this node cannot open a TCP connection to."""
        self._renew()
        problems = []
        for name, url in targets.items():
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            try:
                with socket.create_connection((parts.hostname or "", port), timeout=timeout):
                    pass
            except OSError as exc:
                problems.append(f"target `{name}` ({url}): {exc.strerror or type(exc).__name__}")
        return problems

    def launch(self) -> int | None:
        """Start the worker (it compiles its program and reports READY) and the pump; the
        load thread's niceness (None where it cannot be read)."""
        self._renew()
        for target in (self._run_worker, self._pump, self._watch):
            thread = threading.Thread(target=target, daemon=True, name=target.__name__)
            thread.start()
            self._threads.append(thread)
        self._niced.wait(5.0)
        return self._nice

    def poll(self, wait_s: float) -> list[tuple[Any, ...]]:
        """Every message the worker sent since the last poll; waits up to `wait_s` for one."""
        self._renew()
        with self._ready:
            self._ready.wait_for(lambda: bool(self._queue), timeout=wait_s)
            messages = list(self._queue)
            self._queue.clear()
        return messages

    def start(self, wall_at: float, delay: float) -> None:
        """Start the load at `wall_at` (the controller's wall clock). Should this node's clock
        disagree by more than the delay, start `delay` seconds from now instead: latency is
        timed on this node's monotonic clock either way; only the start's alignment moves."""
        self._renew()
        remaining = wall_at - time.time()
        if not -delay <= remaining <= 2 * delay:
            remaining = delay
        self._started = True
        self._send((msg.START, now() + max(0.0, remaining)))

    def stop(self, reason: str) -> None:
        self._renew()
        self._stop(reason)

    def lease(self) -> None:
        """The controller's heartbeat."""
        self._renew()

    def _renew(self) -> None:
        self._contact = time.monotonic()

    def _stop(self, reason: str) -> None:
        if not self._stopped:
            self._stopped = True
            self._send((msg.STOP, reason))

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock, contextlib.suppress(OSError):
            self._conn.send(message)

    def _run_worker(self) -> None:
        self._nice = _load_priority()
        self._niced.set()
        try:
            import uvloop

            uvloop.run(Worker(self.job, self._worker_conn).main())
        except Exception:
            with contextlib.suppress(OSError):
                self._worker_conn.send((msg.FAILED, traceback.format_exc()))
        finally:
            self._worker_conn.close()

    def _pump(self) -> None:
        """Move the worker's messages into the queue until it closes its end."""
        while True:
            try:
                message: tuple[Any, ...] = self._conn.recv()
            except (EOFError, OSError):
                return
            with self._ready:
                self._queue.append(message)
                self._ready.notify_all()

    def _watch(self) -> None:
        """Stop the load when the controller's lease lapses; ends with the worker."""
        worker = self._threads[0]
        while worker.is_alive():
            worker.join(WATCH_S)
            silent = time.monotonic() - self._contact
            if silent > (LEASE_S if self._started else IDLE_LEASE_S):
                self._stop(f"controller lost: no word from it for {silent:.1f}s")


def _load_priority() -> int | None:
    """Set the calling thread to `LOAD_NICENESS` where allowed; its niceness after."""
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) > LOAD_NICENESS:
            os.setpriority(os.PRIO_PROCESS, thread, LOAD_NICENESS)
    except OSError:  # EPERM: the node does not let its processes raise their priority
        pass
    try:
        return os.getpriority(os.PRIO_PROCESS, thread)
    except OSError:
        return None
