"""HDR histogram layout, the live (recording) histogram and the aggregate histogram.

Recording uses the `hdrhistogram` package's own counts array and wire format, so snapshots are
standard compressed-base64 HDR blobs any HdrHistogram tool can read. Two things are done here
instead of through the package, because its pure-Python paths are too slow for the hot path and
for aggregating a long series:

* the counts index of a value is computed inline (`index_of`), ~4x cheaper than `record_value`;
* aggregates (sum, difference, percentiles, mean) run on numpy views of the counts array;
* a blob is decoded straight into counts (`decoded`), without building an `HdrHistogram`
  (whose constructor alone costs about 100 µs), and the last `DECODED_KEEP` decodings are
  kept: the controller adds one second's snapshot to the run's totals, its row, its flow's
  series and the windows its abort thresholds read, and decodes each blob once for all of them.

Values are integer microseconds; 1 µs .. 1 hour at 3 significant digits is a fixed array of
`COUNTS_LEN` counters, so memory never depends on how many values were recorded.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import struct
import threading
import zlib
from functools import cache, lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
from hdrh.codec import V2_COMPRESSION_COOKIE_BASE, V2_ENCODING_COOKIE_BASE, get_cookie_base
from hdrh.histogram import HdrHistogram
from pyhdrh import decode as _decode_varints  # type: ignore[import-not-found]  # hdrh's C codec

LOWEST_US: Final = 1
HIGHEST_US: Final = 3_600_000_000
SIGNIFICANT_DIGITS: Final = 3
# Layout of (1, 1 h, 3 digits): sub-buckets of 2048, half of 1024 (magnitude 10), unit magnitude 0.
_SUB_BUCKET_HALF_MAGNITUDE: Final = 10
_SUB_BUCKET_BITS: Final = _SUB_BUCKET_HALF_MAGNITUDE + 1

Counts = npt.NDArray[np.uint64]


def new_hdr() -> HdrHistogram:
    """A fresh histogram with contval's layout."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


COUNTS_LEN: Final[int] = new_hdr().counts_len


def clamp_us(us: int) -> int:
    """Out-of-range values are clamped, not dropped: a 2-hour stall still counts as a request."""
    return 0 if us < 0 else min(us, HIGHEST_US)


def index_of(us: int) -> int:
    """Counts index of `us` (0 <= us <= HIGHEST_US); equals HdrHistogram.get_counts_array_index.

    The recorder inlines this expression; it lives here so tests can check it against hdrh.
    """
    b = us.bit_length() - _SUB_BUCKET_BITS
    return us if b <= 0 else (b << _SUB_BUCKET_HALF_MAGNITUDE) + (us >> b)


@cache
def _layout() -> tuple[Counts, Counts, npt.NDArray[np.float64]]:
    """Lowest, highest and median equivalent value of every counts index (computed once)."""
    idx = np.arange(COUNTS_LEN, dtype=np.int64)
    bucket = (idx >> _SUB_BUCKET_HALF_MAGNITUDE) - 1
    half = 1 << _SUB_BUCKET_HALF_MAGNITUDE
    sub = (idx & (half - 1)) + half
    first = bucket < 0
    sub = np.where(first, sub - half, sub)
    bucket = np.where(first, 0, bucket)
    lowest = (sub << bucket).astype(np.uint64)
    size = (np.int64(1) << bucket).astype(np.uint64)
    highest = lowest + size - np.uint64(1)
    median = lowest.astype(np.float64) + (size >> np.uint64(1)).astype(np.float64)
    return lowest, highest, median


def counts_view(hdr: HdrHistogram) -> Counts:
    """A numpy view (no copy) of an HdrHistogram's counts array."""
    return np.frombuffer(hdr.counts, dtype=np.uint64, count=COUNTS_LEN)


def encode_counts(hdr: HdrHistogram) -> str | None:
    """Encode a histogram whose counts were written directly (bypassing record_value).

    The package's encoder reads `total_count` and `max_value`, which direct writes do not
    maintain; they are derived from the counts here. Empty histograms encode to None so empty
    seconds cost nothing on the wire.
    """
    counts = counts_view(hdr)
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        return None
    lowest, _, _ = _layout()
    hdr.total_count = int(counts.sum())
    hdr.max_value = int(lowest[nonzero[-1]])
    hdr.min_value = int(lowest[nonzero[0]])
    encoded: bytes = hdr.encode()
    return encoded.decode("ascii")


DECODED_KEEP: Final = 512
"""Decoded blobs kept (each its nonzero range of counters, typically a few KB): enough for
every slot of the last minute of a run, the longest window an abort threshold usually reads."""
_EXTERNAL = struct.Struct(">II")  # cookie, length of the compressed payload
_PAYLOAD = struct.Struct(">IIIIQQd")  # cookie, length, offset, digits, lowest, highest, ratio
_scratch = np.zeros(0, dtype=np.uint64)
_scratch_lock = threading.Lock()  # guards both scratch buffers: threads decode and encode
_encoder: HdrHistogram | None = None


@lru_cache(maxsize=DECODED_KEEP)
def decoded(encoded: str) -> tuple[int, Counts]:
    """The counts of an encoded histogram as (first index, counts from there to the last
    nonzero one), read-only and shared: add them into an array, never change them.

    Raises ValueError for a blob that is not a V2 HDR histogram of contval's layout.
    """
    global _scratch
    try:
        raw = base64.b64decode(encoded, validate=True)
        cookie, length = _EXTERNAL.unpack_from(raw)
        if get_cookie_base(cookie) != V2_COMPRESSION_COOKIE_BASE or length != len(raw) - 8:
            raise ValueError("not a compressed V2 HDR histogram")
        data = zlib.decompress(raw[8:])
        cookie, _, offset, digits, lowest, highest, _ = _PAYLOAD.unpack_from(data)
    except (binascii.Error, zlib.error, struct.error) as exc:
        raise ValueError(f"not an HDR histogram: {exc}") from None
    if get_cookie_base(cookie) != V2_ENCODING_COOKIE_BASE or offset != 0:
        raise ValueError("not a V2 HDR histogram payload")
    if (digits, lowest, highest) != (SIGNIFICANT_DIGITS, LOWEST_US, HIGHEST_US):
        raise ValueError(f"an HDR histogram of another layout ({lowest}..{highest}, {digits})")
    with _scratch_lock:
        if _scratch.size == 0:
            _scratch = np.zeros(COUNTS_LEN, dtype=np.uint64)
        found = _decode_varints(data, _PAYLOAD.size, _scratch.ctypes.data, COUNTS_LEN, 8)
        first, last = int(found["min_nonzero_index"]), int(found["max_nonzero_index"])
        if found["total"] <= 0 or last < first:
            return 0, np.zeros(0, dtype=np.uint64)
        counts = _scratch[first : last + 1].copy()
        _scratch[first : last + 1] = 0
    counts.flags.writeable = False
    return first, counts


def reset_counts(hdr: HdrHistogram) -> None:
    """Zero the counts in place (hdrh's own reset loops in Python over every counter)."""
    ctypes.memset(hdr.counts, 0, COUNTS_LEN * 8)
    hdr.total_count = 0
    hdr.max_value = 0


class Histogram:
    """An aggregate latency histogram: the sum of any number of decoded snapshots.

    Mutable on purpose (`add`/`subtract` in place) so sliding windows reuse one array; callers
    that hand a histogram out use `copy()`. The array is allocated on first write: the totals
    of a window hold a histogram per slot and kind (latency, duration, ...), and an abort
    check reads a few windows every second, most of whose histograms are never written.
    """

    __slots__ = ("_counts",)

    def __init__(self, counts: Counts | None = None) -> None:
        self._counts: Counts | None = counts

    @property
    def counts(self) -> Counts:
        counts = self._counts
        if counts is None:
            counts = self._counts = np.zeros(COUNTS_LEN, dtype=np.uint64)
        return counts

    @counts.setter
    def counts(self, value: Counts) -> None:
        self._counts = value

    @classmethod
    def decode(cls, encoded: str) -> Histogram:
        histogram = cls()
        histogram.add_encoded(encoded)
        return histogram

    @classmethod
    def of_values(cls, values_us: list[int]) -> Histogram:
        """Build from raw values; for tests and tools, never the hot path."""
        counts = np.zeros(COUNTS_LEN, dtype=np.uint64)
        for v in values_us:
            counts[index_of(clamp_us(v))] += 1
        return cls(counts)

    def copy(self) -> Histogram:
        return Histogram(None if self._counts is None else self._counts.copy())

    def add(self, other: Histogram) -> None:
        if other._counts is not None:
            self.counts += other._counts

    def add_encoded(self, encoded: str | None) -> None:
        if encoded is not None:
            first, counts = decoded(encoded)
            self.counts[first : first + counts.size] += counts

    def subtract_encoded(self, encoded: str | None) -> None:
        if encoded is not None:
            first, counts = decoded(encoded)
            self.counts[first : first + counts.size] -= counts

    def encode(self) -> str | None:
        """The wire blob; one reused `HdrHistogram` carries the counts (building one costs
        about 100 µs, as much as the encoding itself)."""
        global _encoder
        if self._counts is None:
            return None
        with _scratch_lock:
            if _encoder is None:
                _encoder = new_hdr()
            counts_view(_encoder)[:] = self._counts
            return encode_counts(_encoder)

    @property
    def count(self) -> int:
        return 0 if self._counts is None else int(self._counts.sum())

    def percentile(self, pct: float) -> int | None:
        """Value at `pct` (0..100) in µs, with HdrHistogram's rounding; None when empty."""
        total = self.count
        if total == 0:
            return None
        target = max(int(min(pct, 100.0) * total / 100 + 0.5), 1)
        index = int(np.searchsorted(np.cumsum(self.counts), target, side="left"))
        lowest, highest, _ = _layout()
        return int(highest[index] if pct > 0 else lowest[index])

    def max(self) -> int | None:
        if self._counts is None:
            return None
        nonzero = np.flatnonzero(self._counts)
        return None if nonzero.size == 0 else int(_layout()[1][nonzero[-1]])

    def min(self) -> int | None:
        if self._counts is None:
            return None
        nonzero = np.flatnonzero(self._counts)
        return None if nonzero.size == 0 else int(_layout()[0][nonzero[0]])

    def mean(self) -> float | None:
        total = self.count
        if total == 0:
            return None
        return float(np.dot(self.counts.astype(np.float64), _layout()[2]) / total)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return False
        if self._counts is None or other._counts is None:
            return self.count == 0 and other.count == 0
        return bool(np.array_equal(self._counts, other._counts))

    __hash__ = None  # type: ignore[assignment]
