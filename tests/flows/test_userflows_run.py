"""`contval run` end to end with real user flows: worker processes get the suite (uploads
included), log in once per virtual user, keep the session, decode, follow redirects, and count
a redirect off the declared targets without sending it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.flows.userapp import serve

SUITE = """\
version: 1
name: userflows
targets: {{app: '{app}'}}
flows:
  shop:
    target: app
    session: vu
    setup:
      - name: log in
        request: POST /login?user=ann
        check: {{json: {{"$.session": s-ann}}}}
    steps:
      - name: account
        request: GET /account
        check: {{json: {{"$.session": s-ann}}}}
      - name: gzip
        request: GET /gzip
        check: {{json: {{"$.gzipped": true}}}}
      - name: upload
        request: POST /post
        multipart: {{f: {{file: note.txt}}}}
        check: {{json: {{"$.files.f.content": hello upload}}}}
      - name: hops
        request: GET /redirect/2
  escape:
    target: app
    steps:
      - name: away
        request: GET /redirect-to?url={other}/cookies
workloads:
  w: {{executor: constant-vus, vus: 3, duration: 2s, mix: {{shop: 3, escape: 1}}}}
scenarios:
  s:
    workload: w
    thresholds: ["shop: error_rate < 1%", "escape: error_rate > 99%"]
"""


def test_a_run_with_sessions_uploads_redirects_and_decoding(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("hello upload")
    with serve() as app, serve() as other:
        suite = tmp_path / "suite.yaml"
        suite.write_text(SUITE.format(app=app.url, other=other.url))
        env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
        done = subprocess.run(
            [
                *(sys.executable, "-m", "contval", "run", str(suite)),
                *("--out", str(tmp_path / "out"), "--workers", "2", "--no-history"),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**env, "NO_COLOR": "1"},
        )
        logins = app.seen.paths.count("/login")
        other_requests = len(other.seen.paths)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    (scenario,) = result["scenarios"]
    shop = scenario["flows"]["shop"]
    assert list(shop["steps"]) == ["log in", "account", "gzip", "upload", "hops"]
    assert shop["errors"] == 0 and shop["requests"] > 40
    assert 1 <= logins <= 3  # once per virtual user that ran `shop` (3 VUs over 2 workers)
    assert shop["steps"]["log in"]["requests"] == logins
    away = scenario["flows"]["escape"]["steps"]["away"]
    assert away["requests"] > 0 and away["errors"] == away["requests"]
    assert scenario["totals"]["errors_by_class"]["off_target"] == away["requests"]
    assert other_requests == 0


SHARED = """\
version: 1
name: shared
targets: {{app: '{app}'}}
variables: {{token: none-yet}}
flows:
  log-in:
    target: app
    steps:
      - name: get token
        request: GET /cookies/set?tok=tok-7f3q
        extract: {{token: {{json: "$.set.tok"}}, other: {{json: "$.set"}}}}
  use:
    target: app
    steps:
      - name: me
        request: GET /bearer
        auth: {{bearer: "{{{{ vars.token }}}}"}}
        check: {{json: {{"$.token": tok-7f3q}}}}
  log-out:
    target: app
    steps:
      - name: bye
        request: GET /anything?bye={{{{ vars.token }}}}
workloads:
  w: {{executor: constant-vus, vus: 2, duration: 1s, mix: {{use: 1}}}}
scenarios:
  s:
    workload: w
    setup: {setup}
    teardown: log-out
    thresholds: ["error_rate < 1%"]
"""


def _run(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    suite = tmp_path / "suite.yaml"
    suite.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    return subprocess.run(
        [
            *(sys.executable, "-m", "contval", "run", str(suite)),
            *("--out", str(tmp_path / "out"), "--workers", "2", "--no-history"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**env, "NO_COLOR": "1"},
    )


def test_a_scenario_setup_runs_once_and_its_values_reach_every_worker(tmp_path: Path) -> None:
    with serve() as app:
        done = _run(tmp_path, SHARED.format(app=app.url, setup="log-in"))
        paths = list(app.seen.paths)
        tokens = set(app.seen.authorization[1:-1])
    assert done.returncode == 0, done.stdout + done.stderr
    assert paths[0] == "/cookies/set" and paths.count("/cookies/set") == 1
    assert paths[-1] == "/anything" and paths.count("/anything") == 1  # teardown, after the load
    assert tokens == {"Bearer tok-7f3q"} and len(paths) > 10
    text = (tmp_path / "out" / "result.json").read_text()
    (scenario,) = json.loads(text)["scenarios"]
    assert scenario["setup"] == {
        "flow": "log-in",
        "ok": True,
        "requests": 1,
        "errors": {},
        "duration_s": scenario["setup"]["duration_s"],
        "variables": ["token"],  # `other` is not a suite variable: not shared
    }
    assert scenario["teardown"]["ok"] is True
    assert "tok-7f3q" not in text  # names are recorded, never values
    assert "setup: flow `log-in` ok: 1 requests, no errors" in done.stdout


def test_a_failed_scenario_setup_starts_no_load(tmp_path: Path) -> None:
    with serve() as app:
        done = _run(tmp_path, SHARED.format(app=app.url, setup="use"))
        paths = list(app.seen.paths)
    assert done.returncode == 3, done.stdout + done.stderr
    assert paths == ["/bearer"]  # the setup's one request; no worker, no teardown
    (scenario,) = json.loads((tmp_path / "out" / "result.json").read_text())["scenarios"]
    assert scenario["setup"]["ok"] is False
    assert scenario["setup"]["errors"] == {"check_failed": 1}
    assert scenario["stop_reason"] == "the setup flow failed"
