"""`contval run --target` against two real servers (issue 11 §7): after `--target shop=<B>`, a
step written with shop's old absolute URL sends nothing to the old server. The same run reads
its feeder from `--data-dir`, which the workers must load the suite with too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.target import Target

SUITE = """version: 1
name: retarget
targets:
  shop: {old}
data:
  people: {{csv: people.csv}}
flows:
  browse:
    target: shop
    steps:
      - name: relative
        request: GET /ok
        check: {{status: 200}}
      - name: absolute
        request: GET {old}/ok?who={{{{ data.people.name }}}}
        check: {{status: 200}}
workloads:
  load: {{executor: constant-arrival-rate, rate: 20/s, duration: 1s, mix: {{browse: 1}}}}
scenarios:
  normal:
    workload: load
    thresholds: ['error_rate < 1%']
"""


@pytest.fixture
def other() -> Iterator[Target]:
    server = Target().start()
    yield server
    server.stop()


def test_an_override_moves_absolute_urls_too(tmp_path: Path, target: Target, other: Target) -> None:
    old, new = target, other
    suite_dir, data = tmp_path / "suite", tmp_path / "data"
    suite_dir.mkdir()
    data.mkdir()
    (data / "people.csv").write_text("name\nada\ngrace\n")
    suite = suite_dir / "suite.yaml"
    suite.write_text(SUITE.format(old=old.url))
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "contval", "run", str(suite)),
            *("--target", f"shop={new.url}", "--data-dir", str(data)),
            *("--out", str(tmp_path / "out"), "--workers", "1", "--no-history"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**env, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert old.seen.requests == 0
    assert dict(new.seen.paths) == {"/ok": new.seen.requests}
    assert new.seen.requests >= 30  # ~20 iterations of two steps, both on the new server
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert "Traceback" not in json.dumps(result)
