"""Secrets never reach an output: a real `contval run` against a loopback server that echoes the
secret back in its body, a header and a URL, with checks failing on exactly those echoes (and
`--debug-http` printing exchanges), leaves no byte of the secret in the output directory, the
history database, stdout or stderr; the
failures show `***` where the secret was, and a `public: true` value as itself."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

from tests.flows.echo_server import echo_server

TOKEN = "Tok3n/From Env+1&x=y"
PASSWORD = "Sup3r-S3cret-Pa55"
REGION = "eu-west-9"

SUITE = """version: 1
name: secrets
targets:
  app: {url}
secrets:
  password: {{env: SHOP_PASSWORD}}
  region: {{env: SHOP_REGION, public: true}}
flows:
  login:
    target: app
    steps:
      - name: echo
        request: POST /echo/{{{{ env.SHOP_TOKEN }}}}?region={{{{ secrets.region }}}}
        headers: {{X-Password: "{{{{ secrets.password }}}}"}}
        json: {{token: "{{{{ env.SHOP_TOKEN }}}}", password: "{{{{ secrets.password }}}}"}}
        check:
          json: {{"$.path": "/nope", "$.headers.X-Password": nope, "$.body": nope}}
          headers: {{X-Echo: nope, Location: nope}}
          body: {{contains: "nope"}}
workloads:
  load:
    executor: constant-vus
    vus: 1
    duration: 1s
    mix: {{login: 1}}
scenarios:
  s:
    workload: load
"""


def test_no_secret_byte_in_any_output(tmp_path: Path) -> None:
    env_file = tmp_path / "shop.env"
    env_file.write_text(f"# test\nexport SHOP_PASSWORD='{PASSWORD}'\nSHOP_REGION={REGION}\n")
    out = tmp_path / "out"
    store = tmp_path / "history.db"
    with echo_server() as (url, answered):
        suite = tmp_path / "suite.yaml"
        suite.write_text(SUITE.format(url=url))
        env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "contval",
                "run",
                str(suite),
                "--out",
                str(out),
                "--workers",
                "2",
                "--store",
                str(store),
                "--env-file",
                str(env_file),
                "--allow-ungated",
                "--debug-http",
                "2",
            ],
            capture_output=True,
            timeout=180,
            env={**env, "NO_COLOR": "1", "SHOP_TOKEN": TOKEN},
        )
        echoed = sum(n for (path, _), n in answered.items() if path.startswith("/echo"))
    assert echoed > 0, proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    step = doc["scenarios"][0]["flows"]["login"]["steps"]["echo"]
    by_check = {f["condition"]: f for f in step["failures"]}
    assert set(by_check) == {
        "json $.path",
        "json $.headers.X-Password",
        "json $.body",
        "header X-Echo",
        "header Location",
        "body",
    }
    assert all(f["count"] == echoed for f in step["failures"])
    assert by_check["json $.headers.X-Password"]["actual"] == '"***"'
    assert by_check["header X-Echo"]["actual"] == f'"/echo/***?region={REGION}"'
    assert by_check["header Location"]["actual"].startswith('"http://127.0.0.1/echo/***?')
    assert "***" in by_check["json $.body"]["actual"]
    assert REGION in by_check["json $.path"]["actual"]  # public: shown as itself
    files = [p for p in out.rglob("*") if p.is_file()]
    files += [p for p in tmp_path.iterdir() if p.name.startswith("history.db")]
    assert {p.name for p in files} >= {"result.json", "report.html", "summary.md", "junit.xml"}
    assert store.exists()
    forbidden = [
        s.encode()
        for s in (TOKEN, PASSWORD, "Tok3n%2FFrom%20Env%2B1%26x%3Dy", "Tok3n/From", "Sup3r-S3cret")
    ]
    for path in files:
        data = path.read_bytes()
        for secret in forbidden:
            assert secret not in data, f"{secret!r} in {path}"
    stored = _database_bytes(store)  # every value of every table, compressed documents opened
    assert b"***" in stored  # the run's document is there, redacted
    for secret in forbidden:
        assert secret not in stored
    assert proc.stderr.count(b"--- contval debug-http ") == 2  # printed, redacted
    assert b"> X-Password: ***" in proc.stderr
    for stream in (proc.stdout, proc.stderr):
        for secret in forbidden:
            assert secret not in stream


def _database_bytes(path: Path) -> bytes:
    """Every value the history database holds, as bytes; zlib-compressed blobs decompressed."""
    parts: list[bytes] = []
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                parts += [_opened(value) for value in row]
    return b"\n".join(parts)


def _opened(value: object) -> bytes:
    if not isinstance(value, bytes):
        return str(value).encode()
    try:
        return zlib.decompress(value)
    except zlib.error:
        return value
