"""The recorder on the hot path: one slot per (flow, step), written by one worker.

A flow runner resolves its slots once (`Recorder.slot(flow, step)`) and then records into the
slot object: one histogram counter increment and one or two integer increments per request, no
dicts, no allocation, no logging. Every second the worker calls `Recorder.snapshot(second)`,
which encodes and resets the interval histograms and counters, producing plain data that can
cross a process boundary and be merged with other workers' snapshots.

Latencies are floats in seconds measured from when the request was *due* (the caller computes
them), so a stalled server cannot hide behind coordinated omission.
"""

from __future__ import annotations

import ctypes
from enum import IntEnum
from typing import Protocol

from hdrh.histogram import HdrHistogram

from contval.metrics.hdr import (
    HIGHEST_US,
    clamp_us,
    encode_counts,
    index_of,
    new_hdr,
    reset_counts,
)
from contval.metrics.snapshot import MAX_FAILURES, Breakdown, SlotSnapshot, Snapshot


class ErrorClass(IntEnum):
    """Why a request failed. The values index `SlotSnapshot.errors`; never reorder them."""

    REFUSED = 0
    RESET = 1
    TIMEOUT = 2
    MALFORMED = 3
    HTTP_STATUS = 4
    CHECK_FAILED = 5
    CHECK_ERROR = 6
    """A check, an extraction or a template raised on what the server sent (deep JSON, huge
    numbers, a header value with a line break): the step ends, the run goes on."""
    DROPPED = 7
    """An arrival the schedule asked for that found every virtual user busy: the iteration
    never started, so it counts as one failed request of its flow (its first, never sent),
    otherwise a stall long enough to exhaust `max_vus` would hide from the error rate and the
    percentiles alike (coordinated omission)."""
    OFF_TARGET = 8
    """A redirect, or a request URL built from a response, pointed at a host that is not under
    `targets`: nothing was sent there (load only goes to declared targets)."""
    TOO_MANY_REDIRECTS = 9
    """Still redirected after the step's `follow_redirects` hops (a redirect loop)."""
    BODY_TOO_LARGE = 10
    """A compressed body that decodes to more than the decoded-size bound (a gzip bomb)."""
    TLS = 11
    """The TLS handshake failed: an untrusted or expired certificate, a name that does not
    match, a client certificate the server refused, no common protocol or cipher."""
    SCRIPT_ERROR = 12
    """A `python:` step raised, or returned something other than a dict of its `sets:` or None:
    the iteration ends there (its later steps not reached); counted as one failed request of
    the step, never sent, so an iteration a script ended shows in the error rate."""


ERROR_CLASSES = len(ErrorClass)
assert int(ErrorClass.DROPPED) == 7  # inlined in Slot.dropped
# The snapshot's and the series' zero tuples are spelled out; adding a class means widening them.
assert len(SlotSnapshot("", "").errors) == ERROR_CLASSES
# The hot path inlines hdr.index_of for this layout; fail at import if the layout changes.
assert HIGHEST_US == 3_600_000_000
assert index_of(HIGHEST_US) == (HIGHEST_US.bit_length() - 11 << 10) + (HIGHEST_US >> 21)


class Slot:
    """Interval counters for one (flow, step); step "" is the flow's whole iteration.

    Attributes are public for the snapshot code and for cheap reads (progress line); only the
    methods below should write them. Histograms are allocated on first use so slots that never
    record a latency (flow-level slots) or a duration (most steps) cost no histogram memory.
    """

    __slots__ = (
        "_connect",
        "_dur",
        "_dur_counts",
        "_handshake",
        "_lat",
        "_lat_counts",
        "bytes_received",
        "bytes_sent",
        "checks_failed",
        "checks_passed",
        "dropped_iterations",
        "errors",
        "failures",
        "failures_other",
        "flow",
        "iterations",
        "late_starts",
        "not_reached",
        "opened",
        "receiving",
        "requests",
        "reused",
        "step",
        "waiting",
    )

    def __init__(self, flow: str, step: str) -> None:
        self.flow = flow
        self.step = step
        self.requests = 0
        self.errors = [0] * ERROR_CLASSES
        self.checks_passed = 0
        self.checks_failed = 0
        self.iterations = 0
        self.dropped_iterations = 0
        self.late_starts = 0
        self.failures: dict[tuple[str, str, str], int] | None = None
        self.failures_other = 0
        self.not_reached = 0
        self._lat: HdrHistogram | None = None
        self._dur: HdrHistogram | None = None
        self._lat_counts: _Counts | None = None
        self._dur_counts: _Counts | None = None
        self.waiting = 0.0
        self.receiving = 0.0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.reused = 0
        self.opened = 0
        self._connect: HdrHistogram | None = None
        self._handshake: HdrHistogram | None = None

    def request(self, latency: float) -> None:
        """A request that got a good answer, `latency` seconds after it was due."""
        us = int(latency * 1_000_000 + 0.5)
        if not 0 <= us <= 3_600_000_000:  # HIGHEST_US, inlined: no global lookup
            us = clamp_us(us)
        b = us.bit_length() - 11
        counts = self._lat_counts
        if counts is None:
            counts = self._alloc_latency()
        counts[us if b <= 0 else (b << 10) + (us >> b)] += 1
        self.requests += 1

    def error(self, kind: ErrorClass, latency: float | None = None) -> None:
        """A failed request. Pass `latency` when the server spent time on it (status, check
        failure, timeout) so it shows in the percentiles; omit it for refused connections."""
        self.errors[kind] += 1
        if latency is None:
            self.requests += 1
        else:
            self.request(latency)

    def timing(self, response: Timed) -> None:
        """The breakdown of one response (k6's waiting, receiving, data sent and received,
        connections): sums per interval, a histogram only per new connection."""
        first = response.first_byte_at
        self.waiting += first - response.sent_at
        self.receiving += response.completed_at - first
        self.bytes_sent += response.bytes_sent
        self.bytes_received += response.bytes_received
        setup = response.setup
        if setup is None:
            self.reused += 1
        else:
            self._opened(setup)

    def answered(self, response: Timed, due: float) -> None:
        """A good answer to a request due at `due`: `timing` and `request` in one call, the hot
        path's (a status-only step's every response)."""
        first = response.first_byte_at
        completed = response.completed_at
        self.waiting += first - response.sent_at
        self.receiving += completed - first
        self.bytes_sent += response.bytes_sent
        self.bytes_received += response.bytes_received
        setup = response.setup
        if setup is None:
            self.reused += 1
        else:
            self._opened(setup)
        us = int((completed - due) * 1_000_000 + 0.5)
        if not 0 <= us <= 3_600_000_000:  # HIGHEST_US, inlined: no global lookup
            us = clamp_us(us)
        b = us.bit_length() - 11
        counts = self._lat_counts
        if counts is None:
            counts = self._alloc_latency()
        counts[us if b <= 0 else (b << 10) + (us >> b)] += 1
        self.requests += 1

    def _opened(self, setup: tuple[float, float]) -> None:
        self.opened += 1
        if self._connect is None:
            self._connect = new_hdr()
        self._connect.counts[index_of(clamp_us(int(setup[0] * 1_000_000 + 0.5)))] += 1
        if setup[1] > 0.0:  # TLS
            if self._handshake is None:
                self._handshake = new_hdr()
            self._handshake.counts[index_of(clamp_us(int(setup[1] * 1_000_000 + 0.5)))] += 1

    def _take_breakdown(self) -> Breakdown | None:
        if not (self.reused or self.opened):
            return None
        breakdown = Breakdown(
            self.reused + self.opened,
            self.waiting,
            self.receiving,
            self.bytes_sent,
            self.bytes_received,
            self.opened,
            _take_histogram(self._connect),
            _take_histogram(self._handshake),
        )
        self.waiting = self.receiving = 0.0
        self.bytes_sent = self.bytes_received = self.reused = self.opened = 0
        return breakdown

    def check(self, passed: bool) -> None:
        """One check evaluated (a request may run several)."""
        if passed:
            self.checks_passed += 1
        else:
            self.checks_failed += 1

    def fail(self, failure: tuple[str, str, str]) -> None:
        """One failed check explained: (condition, expected, actual), texts already safe to show
        (bounded, escaped, secrets redacted). At most `MAX_FAILURES` distinct ones are kept per
        interval; the rest are counted as other. Never on the hot path of a passing request."""
        found = self.failures
        if found is None:
            found = self.failures = {}
        if failure in found:
            found[failure] += 1
        elif len(found) < MAX_FAILURES:
            found[failure] = 1
        else:
            self.failures_other += 1

    def unreached(self) -> None:
        """An iteration ended at an earlier failed step: this step was not reached."""
        self.not_reached += 1

    def duration(self, seconds: float) -> None:
        """How long the step took when it spans more than one request (a poll)."""
        us = int(seconds * 1_000_000 + 0.5)
        if not 0 <= us <= 3_600_000_000:  # HIGHEST_US, inlined: no global lookup
            us = clamp_us(us)
        b = us.bit_length() - 11
        counts = self._dur_counts
        if counts is None:
            counts = self._alloc_duration()
        counts[us if b <= 0 else (b << 10) + (us >> b)] += 1

    def iteration(self, seconds: float) -> None:
        """A whole iteration of the flow finished (on the flow's "" slot); `duration` inlined,
        once per iteration on the hot path."""
        self.iterations += 1
        us = int(seconds * 1_000_000 + 0.5)
        if not 0 <= us <= 3_600_000_000:  # HIGHEST_US, inlined: no global lookup
            us = clamp_us(us)
        b = us.bit_length() - 11
        counts = self._dur_counts
        if counts is None:
            counts = self._alloc_duration()
        counts[us if b <= 0 else (b << 10) + (us >> b)] += 1

    def dropped(self) -> None:
        """An iteration the schedule asked for but no virtual user could start: a failed
        iteration of the flow, counted as one failed request of class DROPPED (no latency)."""
        self.dropped_iterations += 1
        self.errors[7] += 1  # ErrorClass.DROPPED, inlined
        self.requests += 1

    def late(self) -> None:
        """An iteration started after its due time (the generator fell behind)."""
        self.late_starts += 1

    def _alloc_latency(self) -> _Counts:
        self._lat = new_hdr()
        counts: _Counts = self._lat.counts
        self._lat_counts = counts
        return counts

    def _alloc_duration(self) -> _Counts:
        self._dur = new_hdr()
        counts: _Counts = self._dur.counts
        self._dur_counts = counts
        return counts

    def take(self) -> SlotSnapshot | None:
        """Snapshot this interval's data and reset it; None when nothing happened."""
        latency = _take_histogram(self._lat)
        duration = _take_histogram(self._dur)
        counters = (
            self.requests,
            self.checks_passed,
            self.checks_failed,
            self.iterations,
            self.dropped_iterations,
            self.late_starts,
        )
        errors = tuple(self.errors)
        found = self.failures
        failures = () if found is None else tuple((*key, n) for key, n in found.items())
        other, not_reached = self.failures_other, self.not_reached
        breakdown = self._take_breakdown()
        if (
            latency is None
            and duration is None
            and not any(counters)
            and not any(errors)
            and not (failures or other or not_reached)
            and breakdown is None
        ):
            return None
        self.requests = self.checks_passed = self.checks_failed = 0
        self.iterations = self.dropped_iterations = self.late_starts = 0
        self.errors[:] = [0] * ERROR_CLASSES
        self.failures = None
        self.failures_other = self.not_reached = 0
        return SlotSnapshot(
            flow=self.flow,
            step=self.step,
            requests=counters[0],
            errors=errors,
            checks_passed=counters[1],
            checks_failed=counters[2],
            iterations=counters[3],
            dropped_iterations=counters[4],
            late_starts=counters[5],
            latency=latency,
            duration=duration,
            failures=failures,
            failures_other=other,
            not_reached=not_reached,
            breakdown=breakdown,
        )


_Counts = ctypes.Array[ctypes.c_uint64]


class Timed(Protocol):
    """What `Slot.timing` reads of a response (`contval.http.Response` has it all)."""

    sent_at: float
    first_byte_at: float
    completed_at: float
    bytes_sent: int
    bytes_received: int
    setup: tuple[float, float] | None


def _take_histogram(hdr: HdrHistogram | None) -> str | None:
    if hdr is None:
        return None
    encoded = encode_counts(hdr)
    if encoded is not None:
        reset_counts(hdr)
    return encoded


class Recorder:
    """All slots of one worker. Not thread-safe: one recorder per worker event loop."""

    def __init__(self) -> None:
        self._slots: dict[tuple[str, str], Slot] = {}

    def slot(self, flow: str, step: str | None = None) -> Slot:
        """Resolve (flow, step) once, outside the hot path; the same object every time."""
        key = (flow, step or "")
        found = self._slots.get(key)
        if found is None:
            found = self._slots[key] = Slot(*key)
        return found

    def snapshot(self, second: int) -> Snapshot:
        """This worker's data for `second` (since run start); resets the interval."""
        slots = tuple(s for s in (slot.take() for slot in self._slots.values()) if s is not None)
        return Snapshot(second=second, slots=slots)
