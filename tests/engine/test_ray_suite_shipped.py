"""Workers get the loaded suite and the data files' rows from the controller (the seam a Ray
worker on another host needs): they never read the suite's files themselves."""

from __future__ import annotations

import pickle
from pathlib import Path

from contval.engine import messages as msg
from contval.engine.local import LocalController
from contval.spec import load_suite
from tests.engine.target import Target
from tests.engine.test_run import constant_rate, write_suite

FEEDER = "data:\n  users: {csv: users.csv, order: sequential}\n"
FLOW = """  f:
    target: app
    steps:
      - name: get
        request: GET /ok?u={{ data.users.id }}
        check: {status: 200}
"""


def test_workers_run_after_the_suite_and_data_files_are_gone(
    tmp_path: Path, target: Target
) -> None:
    (tmp_path / "users.csv").write_text("id\n1\n2\n3\n")
    path = write_suite(tmp_path, target.url, FLOW, constant_rate("50/s", "1s"), "", FEEDER)
    jobs = msg.jobs_for(load_suite(path), "main", 2)
    assert dict(jobs[0].tables)["users"] == (("id",), (("1",), ("2",), ("3",)))
    path.unlink()
    (tmp_path / "users.csv").unlink()
    controller = LocalController(jobs)
    controller.start()
    try:
        outcome = controller.run(lambda series, snapshot, stats: None)
    finally:
        controller.close()
    assert outcome.failures == []
    requests = sum(s.counters.requests for s in outcome.series.totals().select("f", "get"))
    assert requests == target.seen.paths["/ok"] == 50


def test_a_large_suite_ships_as_plain_data(tmp_path: Path) -> None:
    """500 flows and a 20,000-row feeder: a job pickles to data the size of the suite and its
    rows (no compiled state, nothing that grows with the flows' cross product), and comes back
    equal. How long that takes is a benchmark's business, not a test's (15 ms of CPU here)."""
    flows = "".join(FLOW.replace("  f:", f"  f{i}:") for i in range(500))
    rows = "".join(f"{i}\n" for i in range(20_000))
    (tmp_path / "users.csv").write_text("id\n" + rows)
    mix = "{" + ", ".join(f"f{i}: 1" for i in range(500)) + "}"
    path = write_suite(
        tmp_path, "http://127.0.0.1:9", flows, constant_rate("1/s", "1s", mix), "", FEEDER
    )
    job = msg.jobs_for(load_suite(path), "main", 1)[0]
    blob = pickle.dumps(job)
    shipped = pickle.loads(blob)
    assert shipped.suite == job.suite and shipped.tables == job.tables
    # 346 KB measured: 20,000 rows and 500 small flows; a megabyte would mean a copy per flow
    assert len(blob) < 1_000_000, len(blob)
