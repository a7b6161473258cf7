"""Every invalid suite in tests/spec/invalid/ reports exactly the lines in its `.expected` file."""

from __future__ import annotations

from pathlib import Path

import pytest

from contval.spec import SuiteInvalid, load_suite

CORPUS = Path(__file__).parent / "invalid"
CASES = sorted(CORPUS.glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert all(case.with_suffix(".expected").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_invalid_suite_reports_expected_lines(case: Path) -> None:
    expected = case.with_suffix(".expected").read_text().splitlines()
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(case)
    assert [str(e) for e in caught.value.errors] == [f"{case}:{line}" for line in expected]


def test_all_model_errors_are_reported_together() -> None:
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(CORPUS / "several_mistakes.yaml")
    messages = [e.message for e in caught.value.errors]
    assert len(messages) == 6
    assert "unknown field `stepz`; did you mean `steps`?" in messages
    assert "unknown executor `ramping-vu`; did you mean `ramping-vus`?" in messages
    assert "unknown field `treshold`; did you mean `thresholds`?" in messages


def test_all_reference_errors_are_reported_together() -> None:
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(CORPUS / "several_reference_mistakes.yaml")
    lines = [e.position.line for e in caught.value.errors if e.position]
    assert lines == [9, 12, 14, 14, 15, 21, 24]


def test_errors_are_in_file_order() -> None:
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(CORPUS / "several_mistakes.yaml")
    positions = [e.position for e in caught.value.errors]
    assert positions == sorted(p for p in positions if p is not None)
