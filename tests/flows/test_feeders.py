"""Feeder rows: partitioned across workers, in order, random and unique."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from contval.flows.feeders import Feeder, FeederExhausted, read_feeder
from contval.spec import CsvFeeder


def csv_file(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "people.csv"
    lines = ["email,name", *(f"p{i}@x.test,P {i}" for i in range(rows))]
    path.write_text("\n".join(lines) + "\n")
    return path


def feeder(path: Path, order: str, worker: int = 0, workers: int = 1, seed: int = 1) -> Feeder:
    data = read_feeder("people", CsvFeeder(csv=path, order=order), worker, workers)  # type: ignore[arg-type]
    return Feeder(data, random.Random(seed))


def emails(f: Feeder, n: int) -> list[str]:
    return [f.row()[0] for _ in range(n)]


def test_sequential_wraps_in_file_order(tmp_path: Path) -> None:
    f = feeder(csv_file(tmp_path, 3), "sequential")
    assert emails(f, 7) == [f"p{i % 3}@x.test" for i in range(7)]


@pytest.mark.parametrize("order", ["sequential", "unique"])
@pytest.mark.parametrize("workers", [2, 3, 4])
def test_workers_take_disjoint_rows_covering_the_file(
    tmp_path: Path, order: str, workers: int
) -> None:
    path = csv_file(tmp_path, 10)
    shares = []
    for worker in range(workers):
        share = read_feeder("people", CsvFeeder(csv=path, order=order), worker, workers)  # type: ignore[arg-type]
        assert [r[1] for r in share.rows] == [f"P {i}" for i in range(worker, 10, workers)]
        shares.append({r[0] for r in share.rows})
    assert set().union(*shares) == {f"p{i}@x.test" for i in range(10)}
    assert sum(len(s) for s in shares) == 10


def test_unique_hands_each_row_once_then_is_exhausted(tmp_path: Path) -> None:
    f = feeder(csv_file(tmp_path, 5), "unique", worker=1, workers=2)
    assert emails(f, 2) == ["p1@x.test", "p3@x.test"]
    with pytest.raises(FeederExhausted, match="people"):
        f.row()


def test_more_workers_than_rows(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 2)
    assert emails(feeder(path, "sequential", worker=3, workers=4), 3) == [
        "p0@x.test",
        "p1@x.test",
        "p0@x.test",
    ]
    with pytest.raises(FeederExhausted):
        feeder(path, "unique", worker=3, workers=4).row()


def test_random_is_seeded_and_draws_from_all_rows(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 20)
    first = emails(feeder(path, "random", worker=1, workers=2, seed=7), 200)
    again = emails(feeder(path, "random", worker=1, workers=2, seed=7), 200)
    assert first == again
    assert len(set(first)) > 10
    assert {int(e[1:].split("@")[0]) % 2 for e in first} == {0, 1}


def test_short_rows_are_padded(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("a,b\n1\n\n2,3\n")
    assert emails(feeder(path, "sequential"), 2) == ["1", "2"]
    assert feeder(path, "sequential").row() == ("1", "")
