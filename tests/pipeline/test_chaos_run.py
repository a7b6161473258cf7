"""`contval run` with chaos against the real shop behind the real fault proxy: faults injected
and reverted on the timeline, judged per phase, and never left behind — not on success, not
on Ctrl-C, not when contval itself is SIGKILLed."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.contoso_shoes.conftest import System, pid_alive, start_system, stop_system, wait_for

CLI = [sys.executable, "-m", "contval"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stage:
    """The shop, with its calls to Payments going through a fault proxy."""

    system: System
    control: str
    listen: int
    upstream: int
    env: dict[str, str]
    dir: Path

    def toxics(self) -> list[dict[str, Any]]:
        from contval.chaos.faults.proxy_client import ProxyClient

        links: dict[str, Any] = ProxyClient(self.control).links()
        return list(links["payments-link"]["toxics"])

    def suite(self, faults: str, scenario: str, duration: str = "8s", targets: str = "") -> Path:
        text = f"""version: 1
name: chaos-test
targets:
  shop: {self.system.url}
chaos_targets:
  payments-link: {{proxy: {{listen: 127.0.0.1:{self.listen}, upstream: 127.0.0.1:{self.upstream}}}}}
  order-worker: {{process: {{state_file: {self.system.dir}/state.json, key: worker}}}}
  host: {{host: local}}
{targets}faults:
{faults}
flows:
  browse:
    target: shop
    steps:
      - name: list
        request: GET /api/products?limit=5
        check: {{status: 200}}
  checkout:
    target: shop
    steps:
      - name: cart
        request: POST /api/carts
        check: {{status: 201}}
        extract: {{cart_id: {{json: "$.id"}}}}
      - name: add
        request: POST /api/carts/{{{{ cart_id }}}}/items
        json: {{product_id: 3, quantity: 1}}
        check: {{status: 201}}
      - name: order
        request: POST /api/orders
        json: {{cart_id: "{{{{ cart_id }}}}", email: "chaos@contoso.test"}}
        check: {{status: 202}}
workloads:
  load:
    executor: constant-arrival-rate
    rate: 20/s
    duration: {duration}
    max_vus: 100
    mix: {{browse: 1, checkout: 1}}
scenarios:
{scenario}
"""
        path = self.dir / "suite.yaml"
        path.write_text(text)
        return path

    def run(self, suite: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*CLI, "run", str(suite), "--out", str(self.dir / "out"), "--workers", "1", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )

    def result(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.dir / "out" / "result.json").read_text())
        return data


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    control, listen, upstream = free_port(), free_port(), free_port()
    state = tmp_path / "state"
    env = {
        **os.environ,
        "CONTVAL_STATE_DIR": str(state),
        "CONTVAL_PROXY_CONTROL": f"127.0.0.1:{control}",
    }
    proxy = subprocess.run(
        [
            sys.executable,
            "-m",
            "contval.chaos.proxy",
            "--control",
            f"127.0.0.1:{control}",
            "--link",
            f"payments-link=127.0.0.1:{listen}=127.0.0.1:{upstream}",
            "--state",
            str(tmp_path / "proxy.json"),
            "--detach",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proxy.returncode == 0, proxy.stderr
    proxy_pid = json.loads((tmp_path / "proxy.json").read_text())["pid"]
    system = start_system(
        tmp_path / "shop",
        "--payments-port",
        str(upstream),
        "--payments-url",
        f"http://127.0.0.1:{listen}",
    )
    try:
        yield Stage(system, f"127.0.0.1:{control}", listen, upstream, env, tmp_path)
    finally:
        stop_system(system)
        os.kill(proxy_pid, signal.SIGTERM)


def wait_until_injected(stage: Stage, proc: subprocess.Popen[str], check: Any) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "the fault was never injected"
        time.sleep(0.05)


def test_latency_fault_is_judged_per_phase_and_reverted(stage: Stage) -> None:
    suite = stage.suite(
        "  slow: {type: latency, target: payments-link, delay: 300ms}",
        """  slow-payments:
    workload: load
    chaos: [{fault: slow, at: 3s, for: 3s}]
    thresholds:
      - error_rate < 1% before slow
      - checkout/order: p50(latency) > 250ms during slow
      - checkout/order: p50(latency) < 100ms before slow
      - browse: p95(latency) < 100ms during slow
      - checkout: recovery_time < 5s""",
        duration="13s",  # recovery needs 5 in-band seconds after the fault
    )
    proc = stage.run(suite)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    result = stage.result()
    scenario = result["scenarios"][0]
    assert {t["verdict"] for t in scenario["thresholds"]} == {"pass"}, scenario["thresholds"]
    (fault,) = scenario["faults"]
    assert fault["name"] == "slow" and fault["verified"] is True and fault["reverted"] is True
    assert 2.9 <= fault["injected_at_s"] <= 3.5 and 5.9 <= fault["reverted_at_s"] <= 6.6
    phases = scenario["phases"]["slow"]
    assert phases["during"]["flows"]["checkout"]["requests"] > 0
    assert stage.toxics() == []
    assert "slow: injected at" in output and "slow: reverted at" in output


def test_steady_state_not_holding_means_no_injection(stage: Stage) -> None:
    suite = stage.suite(
        "  slow: {type: latency, target: payments-link, delay: 300ms}",
        """  gated:
    workload: load
    chaos: [{fault: slow, at: 3s, for: 3s}]
    thresholds:
      - browse: p50(latency) > 1s before slow""",  # cannot hold: the fault must not go in
    )
    proc = stage.run(suite)
    output, _ = proc.communicate(timeout=120)
    scenario = stage.result()["scenarios"][0]
    assert proc.returncode == 1, output
    assert scenario["verdict"] == "invalid"
    assert scenario["stop_reason"].startswith("invalid: the steady state did not hold before slow")
    assert scenario["faults"][0]["injected_at_s"] is None
    assert scenario["duration_s"] < 6  # the load stopped: no point measuring an invalid run


def test_sigint_mid_fault_rolls_back_and_marks_interrupted(stage: Stage) -> None:
    worker = stage.system.pid("worker")
    suite = stage.suite(
        "  freeze: {type: pause, target: order-worker}",
        """  frozen:
    workload: load
    chaos: [{fault: freeze, at: 2s, for: 20s}]""",
        duration="30s",
    )
    proc = stage.run(suite)
    wait_until_injected(stage, proc, lambda: _state(worker) == "T")
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    assert _state(worker) != "T"
    result = stage.result()
    assert result["complete"] is False
    scenario = result["scenarios"][0]
    assert scenario["stop_reason"] == "interrupted by SIGINT"
    assert scenario["faults"][0]["reverted"] is True
    assert not list((Path(stage.env["CONTVAL_STATE_DIR"]) / "ledger").glob("*.json"))


@pytest.mark.parametrize(
    "fault",
    [
        "latency",
        "bandwidth",
        "reset",
        "refuse",
        "blackhole",
        "slicer",
        "http-error",
        "http-delay",
        "pause",
        "kill",
        "cpu",
        "memory",
    ],
)
def test_sigkill_of_contval_mid_fault_leaves_nothing_behind(stage: Stage, fault: str) -> None:
    worker = stage.system.pid("worker")
    declared = {
        "latency": "  f: {type: latency, target: payments-link, delay: 300ms}",
        "reset": "  f: {type: reset, target: payments-link}",
        "bandwidth": "  f: {type: bandwidth, target: payments-link, rate: 1kB}",
        "refuse": "  f: {type: refuse, target: payments-link}",
        "slicer": "  f: {type: slicer, target: payments-link, size: 8B, delay: 20ms}",
        "http-delay": "  f: {type: http-delay, target: payments-link, delay: 300ms}",
        "http-error": "  f: {type: http-error, target: payments-link, status: 503}",
        "blackhole": "  f: {type: blackhole, target: payments-link}",
        "pause": "  f: {type: pause, target: order-worker}",
        "kill": "  f: {type: kill, target: order-worker}",
        "cpu": "  f: {type: cpu, target: host, load: 50%, workers: 1}",
        "memory": "  f: {type: memory, target: host, size: 64MiB}",
    }[fault]
    injected: Callable[[], bool] = {
        "latency": lambda: bool(stage.toxics()),
        "reset": lambda: bool(stage.toxics()),
        "bandwidth": lambda: bool(stage.toxics()),
        "refuse": lambda: bool(stage.toxics()),
        "slicer": lambda: bool(stage.toxics()),
        "http-delay": lambda: bool(stage.toxics()),
        "http-error": lambda: bool(stage.toxics()),
        "blackhole": lambda: bool(stage.toxics()),
        "pause": lambda: _state(worker) == "T",
        "kill": lambda: not pid_alive(worker),
        "cpu": lambda: bool(_stress_pids()),
        "memory": lambda: bool(_stress_pids()),
    }[fault]
    suite = stage.suite(
        declared,
        """  killed:
    workload: load
    chaos: [{fault: f, at: 2s, for: 20s}]""",
        duration="30s",
    )
    proc = stage.run(suite)
    wait_until_injected(stage, proc, injected)
    proc.kill()
    proc.wait(timeout=10)
    killed_at = time.monotonic()
    if fault == "kill":  # nothing to undo: the system's supervisor restarts its worker
        wait_for(lambda: stage.system.state["worker"]["pid"], 5.0, "the worker to run again")
    else:
        wait_for(lambda: not injected(), 5.0, f"the {fault} fault to be reverted by the guard")
        assert time.monotonic() - killed_at <= 5.0
        assert pid_alive(worker)
    status, order = stage.system.checkout(product_id=4)
    assert status == 202 and order["payment"] == "authorized"  # the link forwards cleanly


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def _stress_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith("stress-ng"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_abort_mid_fault_stops_the_load_and_reverts_at_once(stage: Stage) -> None:
    suite = stage.suite(
        "  slow: {type: latency, target: payments-link, delay: 400ms}",
        """  braked:
    workload: load
    chaos: [{fault: slow, at: 2s, for: 20s}]
    thresholds:
      - checkout/order: p95(latency) < 200ms over 1s, abort""",
        duration="30s",
    )
    proc = stage.run(suite)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output
    scenario = stage.result()["scenarios"][0]
    assert scenario["stop_reason"].startswith("aborted: `checkout/order: p95(latency) < 200ms")
    (fault,) = scenario["faults"]
    assert fault["reverted"] is True and fault["reverted_at_s"] < 8
    assert stage.toxics() == []


def test_recover_command_reverts_what_a_crash_left(stage: Stage, tmp_path: Path) -> None:
    from contval.chaos.faults.pause import PauseFault
    from contval.chaos.ledger import Ledger
    from contval.chaos.proc import ProcessTarget

    worker = stage.system.pid("worker")
    ledger = Ledger(Path(stage.env["CONTVAL_STATE_DIR"]) / "ledger")
    driver = PauseFault(target=ProcessTarget(pidfile=stage.system.dir / "worker.pid"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ledger.write("crashed-run", "freeze", "pause", "order-worker", driver.undo())
    driver.inject()
    _rewrite_controller(ledger, dead.pid)
    wait_for(lambda: _state(worker) == "T", 5.0, "SIGSTOP to take effect")
    proc = subprocess.run(
        [*CLI, "recover"], capture_output=True, text=True, env=stage.env, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reverted freeze (pause on order-worker, run crashed-run)" in proc.stdout
    assert _state(worker) != "T"
    again = subprocess.run([*CLI, "recover"], capture_output=True, text=True, env=stage.env)
    assert again.returncode == 0 and "nothing to recover" in again.stdout


def _rewrite_controller(ledger: Any, pid: int) -> None:
    """Make the entry look like it was left by a controller that has since died."""
    for path in ledger.dir.glob("*.json"):
        data = json.loads(path.read_text())
        data["controller_pid"] = pid
        path.write_text(json.dumps(data))


class ToxicWatch:
    """Samples the proxy's toxics from the test: when the toxic was first and last seen, and
    whether it was ever missing in between (a lapse the run would have to report)."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.first: float | None = None
        self.last: float | None = None
        self.gap = False

    def sample(self) -> bool:
        present = bool(self.stage.toxics())
        now = time.monotonic()
        if present:
            self.gap = self.gap or (self.last is not None and now - self.last > 3.0)
            self.first = self.first or now
            self.last = now
        return present


def test_a_slow_revert_never_lets_a_toxic_lease_lapse(stage: Stage) -> None:
    """The kill's revert waits 10 s for a supervisor that never restarts the sleeper; the
    toxic's 5 s lease is renewed all along, so the latency stays in effect until its revert."""
    sleeper = subprocess.Popen(["sleep", "120"])
    (stage.dir / "sleeper.pid").write_text(str(sleeper.pid))
    suite = stage.suite(
        "  slow: {type: latency, target: payments-link, delay: 300ms}\n"
        "  crash: {type: kill, target: sleeper}",
        """  slow-and-crash:
    workload: load
    chaos: [{fault: slow, at: 1s, for: 10s}, {fault: crash, at: 2s, for: 1s}]
    thresholds:
      - checkout/order: p10(latency) > 250ms during slow""",
        duration="13s",
        targets=f"  sleeper: {{process: {{pidfile: {stage.dir}/sleeper.pid}}}}\n",
    )
    watch = ToxicWatch(stage)
    try:
        proc = stage.run(suite)
        while proc.poll() is None:
            watch.sample()
            time.sleep(0.1)
        output = proc.stdout.read() if proc.stdout else ""
    finally:
        sleeper.kill()
        sleeper.wait(timeout=5)
    assert proc.returncode == 0, output
    assert watch.first is not None and watch.last is not None
    # Before: no renewal after the kill's revert began at 3 s, so it lapsed by 8.5 s.
    assert watch.last - watch.first >= 9.5 and not watch.gap, (watch.first, watch.last, output)
    slow, crash = stage.result()["scenarios"][0]["faults"]
    assert crash["detail"].startswith("not restarted within 10s")
    assert slow["lapsed_at_s"] is None and slow["error"] is None
    assert slow["active_s"] >= 9.5 and slow["reverted"] is True
    assert 10.9 <= slow["reverted_at_s"] <= 12.5  # as planned (not 13 s): the kill waits beside it
    assert stage.toxics() == []


def _lose_the_toxic_after(stage: Stage, proc: subprocess.Popen[str], seconds: float) -> None:
    """Delete the run's toxic behind contval's back `seconds` after it first appeared."""
    from contval.chaos.faults.proxy_client import ProxyClient

    watch = ToxicWatch(stage)
    wait_until_injected(stage, proc, watch.sample)
    assert watch.first is not None
    time.sleep(max(0.0, watch.first + seconds - time.monotonic()))
    [toxic] = stage.toxics()
    assert ProxyClient(stage.control).delete("payments-link", toxic["id"])


def test_a_lapse_early_in_the_phase_makes_the_scenario_invalid(stage: Stage) -> None:
    suite = stage.suite(
        "  slow: {type: latency, target: payments-link, delay: 300ms}",
        """  lapsed:
    workload: load
    chaos: [{fault: slow, at: 2s, for: 6s}]
    thresholds:
      - checkout/order: p50(latency) > 250ms during slow""",
        duration="11s",
    )
    proc = stage.run(suite)
    _lose_the_toxic_after(stage, proc, 1.0)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output
    scenario = stage.result()["scenarios"][0]
    assert scenario["verdict"] == "invalid", output
    assert scenario["stop_reason"].startswith("invalid: fault slow was in effect for ")
    assert "of its planned 6s (less than half)" in scenario["stop_reason"]
    assert "its lease lapsed" in scenario["stop_reason"]
    (fault,) = scenario["faults"]
    assert 2.5 <= fault["lapsed_at_s"] <= 5.5 and fault["active_until_s"] <= fault["lapsed_at_s"]
    assert fault["active_s"] < 3
    assert "slow: LEASE LAPSED" in output
    assert scenario["duration_s"] < 8  # invalid: the load stopped at once


def test_a_late_lapse_is_reported_and_during_is_judged_on_the_seconds_it_held(
    stage: Stage,
) -> None:
    """Lost 6 s into an 8 s fault (found gone by the next renewal, a second later at most,
    still before the planned revert): judged on the seconds before the lapse only. p10 of the
    order step is slow only if no second without the fault is counted as `during`."""
    suite = stage.suite(
        "  slow: {type: latency, target: payments-link, delay: 300ms}",
        """  late-lapse:
    workload: load
    chaos: [{fault: slow, at: 2s, for: 8s}]
    thresholds:
      - checkout/order: p10(latency) > 250ms during slow""",
        duration="13s",
    )
    proc = stage.run(suite)
    _lose_the_toxic_after(stage, proc, 6.0)
    output, _ = proc.communicate(timeout=120)
    scenario = stage.result()["scenarios"][0]
    assert proc.returncode == 0, output
    assert scenario["verdict"] == "pass", scenario["thresholds"]
    (fault,) = scenario["faults"]
    assert fault["lapsed_at_s"] is not None and 6.5 <= fault["active_until_s"] <= 8.5
    assert fault["reverted"] is True and "its lease lapsed" in fault["error"]
    assert 4.0 <= fault["active_s"] <= 6.5
    during = scenario["phases"]["slow"]["during"]["window"]
    assert during == [2, math.floor(fault["active_until_s"])]
    assert scenario["thresholds"][0]["window"] in (None, during)


@pytest.mark.parametrize("fault", ["latency", "pause"])
def test_killing_contvals_whole_process_group_still_reverts(stage: Stage, fault: str) -> None:
    """What a CI cancel does: SIGKILL to every process of contval's group (workers included).
    The guard is detached into a session of its own, so it survives and reverts within 5 s."""
    worker = stage.system.pid("worker")
    cases: dict[str, tuple[str, Callable[[], bool]]] = {
        "latency": (
            "  f: {type: latency, target: payments-link, delay: 300ms}",
            lambda: bool(stage.toxics()),
        ),
        "pause": ("  f: {type: pause, target: order-worker}", lambda: _state(worker) == "T"),
    }
    declared, injected = cases[fault]
    suite = stage.suite(
        declared,
        """  cancelled:
    workload: load
    chaos: [{fault: f, at: 2s, for: 20s}]""",
        duration="30s",
    )
    proc = subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(stage.dir / "out"), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=stage.env,
        start_new_session=True,
    )
    try:
        wait_until_injected(stage, proc, injected)
        group = [p for p in _pids() if _pgid(p) == proc.pid]
        assert len(group) >= 3  # contval and its two load workers
        os.killpg(proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait(timeout=10)
        wait_for(lambda: not injected(), 5.0, f"the guard to revert the {fault} fault")
        assert time.monotonic() - killed_at <= 5.0
        wait_for(lambda: not any(_pgid(p) == proc.pid for p in _pids()), 5.0, "the group to end")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    ledger = Path(stage.env["CONTVAL_STATE_DIR"]) / "ledger"
    wait_for(lambda: not list(ledger.glob("*.json")), 5.0, "the ledger to be empty")
    status, order = stage.system.checkout(product_id=4)
    assert status == 202 and order["payment"] == "authorized"


def _pids() -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _suite_behind_a_link(stage: Stage, listen: int, upstream: str, chaos: bool) -> Path:
    """The shop loaded through a fault-proxy link of its own: the target URL is the link."""
    scenario = (
        """    chaos: [{fault: slow-shop, at: 1s, for: 2s}]
    thresholds:
      - browse: p50(latency) > 40ms during slow-shop"""
        if chaos
        else """    thresholds:
      - browse: error_rate < 1%"""
    )
    path = stage.dir / "behind.yaml"
    path.write_text(f"""version: 1
name: behind-a-link
targets:
  shop: http://127.0.0.1:{listen}
chaos_targets:
  shop-link: {{proxy: {{listen: 127.0.0.1:{listen}, upstream: {upstream}}}}}
faults:
  slow-shop: {{type: latency, target: shop-link, delay: 50ms}}
flows:
  browse:
    target: shop
    steps:
      - name: list
        request: GET /api/products?limit=5
        check: {{status: 200}}
workloads:
  load:
    executor: constant-arrival-rate
    rate: 20/s
    duration: 4s
    max_vus: 20
    mix: {{browse: 1}}
scenarios:
  through-the-link:
    workload: load
{scenario}
""")
    return path


@contextlib.contextmanager
def _own_proxy_control(stage: Stage) -> Iterator[dict[str, str]]:
    """An environment whose proxy control address nothing answers on yet; whatever proxy the
    run starts there is stopped afterwards (by the PID in the state file it wrote)."""
    control = f"127.0.0.1:{free_port()}"
    env = {**stage.env, "CONTVAL_PROXY_CONTROL": control}
    state = Path(env["CONTVAL_STATE_DIR"]) / f"proxy-{control.replace(':', '-')}.json"
    try:
        yield env
    finally:
        if state.exists():
            pid = int(json.loads(state.read_text())["pid"])
            if b"contval.chaos.proxy" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGTERM)


@pytest.mark.parametrize("chaos", [True, False], ids=["with-a-fault", "without-faults"])
def test_targets_behind_a_proxy_link_start_the_proxy_before_the_reachability_check(
    stage: Stage, chaos: bool
) -> None:
    """Before: exit 3, "target `shop` ... is unreachable", since nothing listened on the link
    until the proxy was started, after the check."""
    listen, shop = free_port(), stage.system.url.removeprefix("http://")
    suite = _suite_behind_a_link(stage, listen, shop, chaos)
    with _own_proxy_control(stage) as env:
        run = subprocess.run(
            [*CLI, "run", str(suite), "--out", str(stage.dir / "out"), "--workers", "1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        output = run.stdout + run.stderr
        assert run.returncode == 0, output
        assert "started the fault proxy (it was not running)" in output
        scenario = stage.result()["scenarios"][0]
        assert scenario["verdict"] == "pass", scenario["thresholds"]
        assert scenario["totals"]["requests"] >= 60  # 4 s at 20/s, all through the link


def test_a_dead_service_behind_a_live_proxy_link_is_still_unreachable(stage: Stage) -> None:
    """The proxy accepts connections on `listen` whatever is behind it: the check asks the
    link's upstream too, so a service that is down still fails fast (exit 3)."""
    listen, dead = free_port(), free_port()
    suite = _suite_behind_a_link(stage, listen, f"127.0.0.1:{dead}", chaos=True)
    with _own_proxy_control(stage) as env:
        run = subprocess.run(
            [*CLI, "run", str(suite), "--out", str(stage.dir / "out"), "--workers", "1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 3, output
    assert (
        f"target `shop` sits behind fault-proxy link `shop-link`, whose upstream "
        f"127.0.0.1:{dead} is unreachable: Connection refused" in output
    )
    assert "nothing was run" in output
