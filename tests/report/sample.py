"""A synthetic `result.json` document with every field docs/result.md describes, for report
tests that must not wait for a real run (the integration tests use real runs)."""

from __future__ import annotations

import math
from typing import Any

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _series(seconds: int, slow: tuple[int, int] | None, base_ms: float) -> dict[str, list[Any]]:
    t = list(range(seconds))
    p50, p95, p99, requests, errors = [], [], [], [], []
    for s in t:
        factor = 4.0 if slow and slow[0] <= s < slow[1] else 1.0
        wobble = 1.0 + 0.05 * math.sin(s / 3)
        p50.append(round(base_ms * factor * wobble, 3))
        p95.append(round(base_ms * 2 * factor * wobble, 3))
        p99.append(round(base_ms * 3 * factor * wobble, 3))
        requests.append(50)
        errors.append(5 if factor > 1 else 0)
    return {
        "t": t,
        "requests": requests,
        "errors": errors,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
    }


def _health(seconds: int, slow: tuple[int, int] | None) -> dict[str, Any]:
    windows = []
    for t0 in range(0, seconds - seconds % 10 or seconds, 10):
        state = "unhealthy" if slow and slow[0] <= t0 < slow[1] else "healthy"
        reason = "error_rate 10 % fails < 1 %" if state == "unhealthy" else ""
        windows.append({"t": [t0, t0 + 10], "state": state, "reason": reason})
    worst = "unhealthy" if any(w["state"] == "unhealthy" for w in windows) else "healthy"
    return {"worst": worst, "windows": windows}


def _threshold(
    expression: str,
    verdict: str,
    observed: float,
    limit: float,
    unit: str,
    warn: float | None = None,
    state: str | None = None,
    detail: str = "",
) -> dict[str, Any]:
    return {
        "expression": expression,
        "verdict": verdict,
        "observed": observed,
        "limit": limit,
        "unit": unit,
        "window": None,
        "abort": False,
        "detail": detail,
        "baseline_runs": [],
        "warn": warn,
        "state": state or ("healthy" if verdict == "pass" else "unhealthy"),
    }


def _comparison(
    flow: str, metric: str, verdict: str, shift: float, phase: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "flow": flow,
        "step": None,
        "phase": phase,
        "metric": metric,
        "current": 12.0,
        "baseline": 10.0,
        "shift": shift,
        "low": shift - 0.05,
        "high": shift + 0.05,
        "tolerance": 0.1,
        "verdict": verdict,
        "detail": f"{verdict} ({metric})",
    }


def _flow(requests: int, errors: int, p95: float) -> dict[str, Any]:
    latency = {
        "count": requests,
        "p50": p95 / 2,
        "p90": p95 * 0.9,
        "p95": p95,
        "p99": p95 * 1.5,
        "max": p95 * 3,
        "mean": p95 / 2,
    }
    return {
        "kind": "user",
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests,
        "rps": requests / 60,
        "iterations": requests,
        "dropped_iterations": 0,
        "late_starts": 0,
        "latency": latency,
        "duration": latency,
        "steps": {
            "list products": {
                "requests": requests,
                "errors": errors,
                "error_rate": errors / requests,
                "rps": requests / 60,
                "latency": latency,
                "duration": None,
            }
        },
    }


def scenario(
    name: str, seconds: int = 60, chaos: bool = False, failing: bool = False, hostile: bool = False
) -> dict[str, Any]:
    """One scenario entry; `chaos` adds a fault with phases, `failing` a failed threshold and a
    regression, `hostile` puts markup where the system under test's answers end up."""
    slow = (seconds // 3, 2 * seconds // 3) if chaos else None
    flows = {"browse": 1.0, "checkout": 8.0}
    detail = f"check failed: body was {HOSTILE}" if hostile else ""
    thresholds = [
        _threshold(
            "error_rate < 1%",
            "fail" if failing else "pass",
            2.5 if failing else 0.0,
            1.0,
            "%",
            detail=detail,
        ),
        _threshold(
            "browse: p95(latency) < 200ms warn 150ms",
            "pass",
            180.0,
            200.0,
            "ms",
            warn=150.0,
            state="degraded",
        ),
    ]
    entry: dict[str, Any] = {
        "name": name,
        "workload": "steady",
        "executor": "constant-arrival-rate",
        "verdict": "fail" if failing else "pass",
        "complete": True,
        "stop_reason": None,
        "failures": [],
        "started_at": "2026-11-26T15:04:01.123+00:00",
        "duration_s": seconds,
        "thresholds": thresholds,
        "totals": {
            "requests": 100 * seconds,
            "errors": 0,
            "error_rate": 0.0,
            "errors_by_class": {
                "refused": 0,
                "reset": 0,
                "timeout": 0,
                "malformed": 0,
                "http_status": 0,
                "check_failed": 0,
            },
            "iterations": 50 * seconds,
            "dropped_iterations": 0,
            "late_starts": 0,
            "interrupted_iterations": 0,
            "rps": 100.0,
            "checks": {"passed": 100, "failed": 0, "rate": 1.0},
        },
        "flows": {f: _flow(50 * seconds, 5 if failing else 0, ms * 2) for f, ms in flows.items()},
        "series": [
            {
                "t": s,
                "requests": 100,
                "errors": 0,
                "iterations": 50,
                "dropped_iterations": 0,
                "p50_ms": 1.0,
                "p95_ms": 2.0,
                "p99_ms": 3.0,
                "active": 2,
                "lag_ms": 0.1,
                "worker_rss_mb": 60.0,
            }
            for s in range(seconds)
        ],
        "flow_series": {f: _series(seconds, slow, ms) for f, ms in flows.items()},
        "cooldown": None,
        "baseline": {
            "verdict": "regression" if failing else "pass",
            "mode": "rolling",
            "fingerprint": "9f1c",
            "baseline_runs": ["r1", "r2", "r3"],
            "run_id": f"{name}-run",
            "detail": "compared with 3 runs",
            "comparisons": [
                _comparison(
                    "checkout",
                    "p95",
                    "regression" if failing else "pass",
                    0.25 if failing else 0.01,
                ),
                _comparison("browse", "error_rate", "inconclusive", 0.0),
            ],
        },
    }
    health = {f: _health(seconds, slow) for f in flows}
    if hostile:
        entry["flows"]["<b>evil</b>"] = _flow(10, 10, 5.0)
        entry["flow_series"]["<b>evil</b>"] = _series(seconds, None, 5.0)
        health["<b>evil</b>"] = _health(seconds, None)
    worst = "unhealthy" if any(h["worst"] == "unhealthy" for h in health.values()) else "degraded"
    entry["health"] = {"window_s": 10, "worst": worst, "flows": health}
    if chaos and slow:
        entry["faults"] = [
            {
                "name": "payments-slow",
                "type": "latency",
                "target": "payments-link",
                "at_s": float(slow[0]),
                "for_s": float(slow[1] - slow[0]),
                "injected_at_s": slow[0] + 0.02,
                "reverted_at_s": slow[1] + 0.01,
                "skipped": False,
                "verified": True,
                "verify_detail": "latency toxic active on payments-link",
                "reverted": True,
                "detail": "no toxic on payments-link",
                "error": None,
            }
        ]
        stats = {
            "requests": 100,
            "errors": 0,
            "error_rate": 0.0,
            "availability": 1.0,
            "p50_ms": 1.0,
            "p95_ms": 2.0,
            "p99_ms": 3.0,
        }
        recovery = {
            "status": "recovered",
            "seconds": 3.0,
            "window": [slow[1], slow[1] + 3],
            "band": {},
            "detail": "",
        }
        entry["phases"] = {
            "payments-slow": {
                "window": list(slow),
                "before": {"window": [0, slow[0]], "total": stats, "flows": {"checkout": stats}},
                "during": {"window": list(slow), "total": stats, "flows": {"checkout": stats}},
                "after": {
                    "window": [slow[1], seconds],
                    "total": stats,
                    "flows": {"checkout": stats},
                },
                "recovery": {"total": recovery, "flows": {"checkout": recovery}},
            }
        }
        entry["baseline"]["comparisons"].append(
            _comparison(
                "checkout", "p99", "pass", 0.02, {"fault": "payments-slow", "phase": "during"}
            )
        )
    return entry


def result_document(
    seconds: int = 60, failing: bool = False, hostile: bool = False
) -> dict[str, Any]:
    """A two-scenario suite run: `normal`, then the chaos scenario `payments-slow`."""
    normal = scenario("normal", seconds, failing=failing, hostile=hostile)
    chaos = scenario("payments-slow", seconds, chaos=True)
    chaos["cooldown"] = {
        "seconds": 5.0,
        "settled": True,
        "probe": "GET http://127.0.0.1:8000/health",
        "detail": "200 after 1.0s",
    }
    return {
        "schema": "contval/result/v1",
        "suite": "contoso-shoes",
        "suite_file": "/work/examples/contoso-shoes/suite.yaml",
        "started_at": "2026-11-26T15:04:01.123+00:00",
        "complete": True,
        "verdict": "fail" if failing else "pass",
        "exit_code": 1 if failing else 0,
        "run_id": "20261126-150401-4f2a",
        "env": "local",
        "label": "6325b51",
        "health": "unhealthy",
        "pipeline": {
            "order": ["normal", "payments-slow"],
            "stop_on_failure": False,
            "skipped": [],
            "stopped_after": None,
        },
        "scenarios": [normal, chaos],
    }


def with_workloads(entry: dict[str, Any], side: str = "buyers", failing: bool = False) -> None:
    """Give a scenario entry a second workload run `alongside` its own, as result.json lists
    them (docs/suite.md): its own first (judged by the scenario), then `side` with its own
    threshold, failed when `failing`."""

    def totals(requests: int, errors: int) -> dict[str, Any]:
        return {
            "requests": requests,
            "errors": errors,
            "error_rate": errors / requests,
            "iterations": requests,
            "dropped_iterations": 0,
            "late_starts": 0,
            "interrupted_iterations": 0,
            "rps": requests / 30,
        }

    own = {
        "name": entry["workload"],
        "workload": entry["workload"],
        "executor": entry["executor"],
        "start_time_s": 0.0,
        "planned_iterations": 6000,
        "duration_s": entry["duration_s"],
        "verdict": "not_gated",
        "thresholds": [],
        "totals": totals(6000, 0),
        "flows": {},
        "stop_reason": None,
    }
    threshold = _threshold(
        "error_rate < 1%", "fail" if failing else "pass", 40.0 if failing else 0.5, 1.0, "%"
    )
    other = {
        **own,
        "name": side,
        "workload": "buying",
        "executor": "shared-iterations",
        "start_time_s": 10.0,
        "planned_iterations": 500,
        "duration_s": 30,
        "verdict": "fail" if failing else "pass",
        "thresholds": [threshold],
        "totals": totals(500, 200 if failing else 2),
    }
    entry["workloads"] = [own, other]
    if failing:
        entry["verdict"] = "fail"
