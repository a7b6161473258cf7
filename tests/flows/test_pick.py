"""`pick: random` draws each match with equal chance, and only ever a match; `first` and `all`
keep document order. Applied to real parsed bodies (`Reply` over a `Response`)."""

from __future__ import annotations

import json
import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from contval.flows.checks import Extractor, Reply, compile_extract
from contval.flows.templates import Resolver
from contval.http import Response
from contval.spec.steps import Extract


def _reply(document: object) -> Reply:
    return Reply(Response(200, [], json.dumps(document).encode(), 0.0, True))


def _extractor(pick: str) -> Extractor:
    return compile_extract(
        "v", Extract.model_validate({"json": "$.items[*].id", "pick": pick}), Resolver({}, {})
    )


def test_a_random_pick_is_uniform_over_the_matches() -> None:
    extractor = _extractor("random")
    reply = _reply({"items": [{"id": i} for i in range(20)]})
    rng = random.Random(11)
    drawn = Counter(extractor.extract(reply, rng) for _ in range(20_000))
    assert set(drawn) == set(range(20))
    assert all(850 <= n <= 1150 for n in drawn.values()), drawn  # 1,000 each, ±4.7 sigma


@given(st.lists(st.integers(), min_size=1, max_size=300), st.integers(0, 2**32))
def test_a_random_pick_is_always_one_of_the_matches(ids: list[int], seed: int) -> None:
    reply = _reply({"items": [{"id": i} for i in ids]})
    rng = random.Random(seed)
    extractor = _extractor("random")
    assert all(extractor.extract(reply, rng) in ids for _ in range(5))
    assert _extractor("first").extract(reply, rng) == ids[0]
    assert _extractor("all").extract(reply, rng) == ids
