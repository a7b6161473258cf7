"""Compression, auth and bodies against a real app: gzip, deflate and br decoded before checks,
gzip and br bombs bounded (memory and an error of its own class), corrupt br bodies MALFORMED,
Basic and Bearer auth, urlencoded forms and multipart bodies with files echoed back."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contval.flows import compile_program
from contval.http import Client, ClientOptions, now
from contval.spec import load_suite_text
from contval.spec.errors import SuiteInvalid
from tests.flows.conftest import Harness, counts, harness, make_suite, options
from tests.flows.userapp import BOMB_SIZE, UserApp, bomb, br_bomb, serve

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def app() -> Iterator[UserApp]:
    with serve() as instance:
        yield instance


@pytest.fixture(autouse=True)
def _clean(app: UserApp) -> None:
    app.seen.clear()


async def _run(
    steps: str,
    app: UserApp,
    tmp_path: Path,
    client_options: ClientOptions | None = None,
    **kwargs: Any,
) -> tuple[bool, dict[str, Any], Harness]:
    suite = make_suite(f"f:\n  target: app\n  steps:\n{steps}", app.url, tmp_path, **kwargs)
    async with Client(client_options or options()) as client:
        h = harness(compile_program(suite), client)
        ok = await h.runner.run("f", now())
    return ok, counts(h.slot("f", "go")), h


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
async def test_a_compressed_body_is_decoded_before_checks_and_extraction(
    app: UserApp, tmp_path: Path, coding: str
) -> None:
    key = {"gzip": "gzipped", "deflate": "deflated", "br": "brotli"}[coding]
    steps = f"""\
    - name: go
      request: GET /{coding}
      check: {{json: {{"$.{key}": true}}}}
      extract: {{flag: {{regex: '"{key}": (true)'}}}}
"""
    ok, seen, h = await _run(steps, app, tmp_path)
    assert (ok, seen) == (True, {"requests": 1, "errors": {}, "checks": (1, 0)})
    (step,) = h.runner._flows["f"].steps
    assert step.direct is step  # the runner's direct path hands a coded body to the exchange


async def test_accept_encoding_is_sent_unless_the_step_sets_its_own(
    app: UserApp, tmp_path: Path
) -> None:
    steps = """\
    - name: go
      request: GET /gzip
      check: {json: {"$.accept": "gzip, deflate, br"}}
    - name: br
      request: GET /br
      check: {json: {"$.accept": "gzip, deflate, br"}}
    - name: own
      request: GET /gzip
      headers: {Accept-Encoding: identity}
      check: {json: {"$.accept": identity}}
"""
    ok, _, h = await _run(steps, app, tmp_path)
    assert ok is True
    assert counts(h.slot("f", "br")) == {"requests": 1, "errors": {}, "checks": (1, 0)}


async def test_a_gzip_bomb_is_an_error_within_the_decoded_bound_never_memory(
    app: UserApp, tmp_path: Path
) -> None:
    bomb()  # compressed once, before measuring
    steps = """\
    - name: go
      request: GET /bomb
      check: {json: {"$.x": 1}}
"""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ok, seen, _ = await _run(steps, app, tmp_path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert ok is False
    assert seen == {"requests": 1, "errors": {"BODY_TOO_LARGE": 1}, "checks": (0, 0)}
    assert grown_mb < 64, f"peak RSS grew {grown_mb:.0f} MB for a {BOMB_SIZE >> 20} MiB bomb"
    # the bound is the client's `max_decoded_body`: 1 KiB refuses even a small gzip body
    ok, seen, _ = await _run(
        "    - name: go\n      request: GET /gzip\n      check: {json: {'$.gzipped': true}}\n",
        app,
        tmp_path,
        ClientOptions(max_decoded_body=16),
    )
    assert seen["errors"] == {"BODY_TOO_LARGE": 1}


async def test_a_br_bomb_is_an_error_within_the_decoded_bound_never_memory(
    app: UserApp, tmp_path: Path
) -> None:
    assert len(br_bomb()) < 4096  # compressed once, before measuring: 512 MiB in a few hundred B
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ok, seen, _ = await _run(
        "    - name: go\n      request: GET /br-bomb\n      check: {json: {'$.x': 1}}\n",
        app,
        tmp_path,
    )
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert ok is False
    assert seen == {"requests": 1, "errors": {"BODY_TOO_LARGE": 1}, "checks": (0, 0)}
    assert grown_mb < 64, f"peak RSS grew {grown_mb:.0f} MB for a {BOMB_SIZE >> 20} MiB br bomb"
    ok, seen, _ = await _run(
        "    - name: go\n      request: GET /br\n      check: {json: {'$.brotli': true}}\n",
        app,
        tmp_path,
        ClientOptions(max_decoded_body=16),
    )
    assert seen["errors"] == {"BODY_TOO_LARGE": 1}


@pytest.mark.parametrize("query", ["cut=3", "garbage=1"], ids=["truncated", "garbage"])
async def test_a_corrupt_br_body_is_malformed(app: UserApp, tmp_path: Path, query: str) -> None:
    step = f"GET /br?{query}\n      check: {{json: {{'$.brotli': true}}}}\n"
    ok, seen, _ = await _run(f"    - name: go\n      request: {step}", app, tmp_path)
    assert ok is False
    assert seen == {"requests": 1, "errors": {"MALFORMED": 1}, "checks": (0, 0)}
    assert app.seen.paths == ["/br"]


@pytest.mark.parametrize(
    ("auth", "path", "expected"),
    [
        ("{basic: [ann, 's3cret pass']}", "/basic-auth/ann/s3cret%20pass", {}),
        ("{basic: ['{{ vars.user }}', '{{ vars.password }}']}", "/basic-auth/bob/pw:1", {}),
        ("{basic: [ann, wrong]}", "/basic-auth/ann/right", {"HTTP_STATUS": 1}),
        ("{bearer: tok-1}", "/bearer", {}),
        ("{bearer: '{{ vars.token }}'}", "/bearer", {}),
    ],
    ids=["basic", "basic-templated", "basic-wrong", "bearer", "bearer-templated"],
)
async def test_basic_and_bearer_auth_are_accepted(
    app: UserApp, tmp_path: Path, auth: str, path: str, expected: dict[str, int]
) -> None:
    steps = f"""\
    - name: go
      request: GET {path}
      auth: {auth}
"""
    variables = "user: bob\npassword: 'pw:1'\ntoken: tok-2"
    ok, seen, _ = await _run(steps, app, tmp_path, variables=variables)
    assert (ok, seen["errors"]) == (not expected, expected)
    if "bearer" in auth:
        assert app.seen.authorization == ["Bearer tok-1" if "tok-1" in auth else "Bearer tok-2"]


async def test_a_form_is_urlencoded_and_a_value_never_adds_a_field(
    app: UserApp, tmp_path: Path
) -> None:
    steps = """\
    - name: read
      request: GET /next?url=a%26b%3D1%20c
      extract: {tricky: {json: "$.next"}}
    - name: go
      request: POST /post
      form: {name: ann, n: 3, ok: true, tricky: "{{ tricky }}", "odd key": "x y"}
      check:
        json:
          "$.form": {equals: {name: ann, n: "3", ok: "true", tricky: "a&b=1 c", "odd key": "x y"}}
          "$.content_type": application/x-www-form-urlencoded
"""
    ok, seen, _ = await _run(steps, app, tmp_path)
    assert (ok, seen) == (True, {"requests": 1, "errors": {}, "checks": (2, 0)})


async def test_multipart_sends_fields_and_files_read_at_load(app: UserApp, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_bytes(b"line 1\r\nline 2 \xe9\n")
    steps = """\
    - name: read
      request: GET /next?url=from-a-response
      extract: {got: {json: "$.next"}}
    - name: go
      request: POST /post
      multipart:
        title: hello
        got: "{{ got }}"
        note: {file: note.txt, content_type: text/plain}
        renamed: {file: note.txt, filename: other.bin}
      check:
        json:
          "$.form": {equals: {title: hello, got: from-a-response}}
          "$.files.note": {equals: {filename: note.txt, content_type: text/plain,
                                    content: "line 1\\r\\nline 2 \\u00e9\\n"}}
          "$.files.renamed.filename": other.bin
          "$.files.renamed.content_type": application/octet-stream
"""
    ok, seen, _ = await _run(steps, app, tmp_path)
    assert (ok, seen) == (True, {"requests": 1, "errors": {}, "checks": (4, 0)})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("multipart: {f: {file: missing.txt}}", "upload file 'missing.txt' does not exist"),
        ("multipart: {f: {file: ../outside.txt}}", "refused: upload file '../outside.txt' is"),
        ("form: {a: 1}\n        body: x", "at most one body: `body` and `form` given"),
        ("auth: {basic: [a, b], bearer: c}", "`auth` needs exactly one of"),
        ("form: {a: '{{ nope }}'}", "template uses `nope`, which no earlier step extracts"),
    ],
)
def test_bad_bodies_are_located_errors(tmp_path: Path, body: str, message: str) -> None:
    suite_dir = tmp_path / "suite"
    suite_dir.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    text = f"""\
version: 1
name: t
targets: {{app: 'http://127.0.0.1:9'}}
flows:
  f:
    target: app
    steps:
      - name: go
        request: POST /x
        {body}
workloads: {{w: {{executor: constant-vus, vus: 1, duration: 1s, mix: {{f: 1}}}}}}
scenarios: {{s: {{workload: w}}}}
"""
    with pytest.raises(SuiteInvalid) as raised:
        load_suite_text(text, suite_dir / "suite.yaml", threshold_parser=None)
    assert message in str(raised.value)
    assert raised.value.errors[0].position is not None
    assert "secret" not in str(raised.value).replace("s3cret", "")


def _suite_with_options(url: str, options_yaml: str, steps: str, tmp_path: Path) -> str:
    return f"""\
version: 1
name: t
targets: {{app: '{url}'}}
target_options:
{options_yaml}
flows:
  f:
    target: app
    steps:
{steps}
workloads: {{w: {{executor: constant-vus, vus: 1, duration: 1s, mix: {{f: 1}}}}}}
scenarios: {{s: {{workload: w}}}}
"""


@pytest.mark.parametrize(
    ("step", "paths", "errors"),
    [
        ("- {name: go, request: GET /bearer}", ["/bearer"], {}),
        ("- {name: go, request: GET /bearer, auth: {bearer: own}}", ["/bearer"], {}),
        ("- {name: go, request: GET /loop}", ["/loop"] * 3, {"TOO_MANY_REDIRECTS": 1}),
        (
            "- {name: go, request: GET /loop, follow_redirects: 4}",
            ["/loop"] * 5,
            {"TOO_MANY_REDIRECTS": 1},
        ),
        (
            "- {name: go, request: GET /gzip, check: {json: {$.gzipped: true}}}",
            ["/gzip"],
            {"BODY_TOO_LARGE": 1},
        ),
    ],
    ids=["target-auth", "step-auth-wins", "target-hops", "step-hops-win", "target-bound"],
)
async def test_target_options_set_auth_redirects_and_the_decoded_bound(
    app: UserApp, tmp_path: Path, step: str, paths: list[str], errors: dict[str, int]
) -> None:
    options_yaml = (
        "  app: {auth: {bearer: '{{ vars.token }}'}, follow_redirects: 2, max_decoded_body: 16B}"
    )
    text = _suite_with_options(app.url, options_yaml, "      " + step, tmp_path)
    text = text.replace("flows:\n", "variables: {token: from-target}\nflows:\n", 1)
    suite = load_suite_text(text, tmp_path / "suite.yaml", threshold_parser=None)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        await h.runner.run("f", now())
    assert counts(h.slot("f", "go"))["errors"] == errors
    assert app.seen.paths == paths
    token = "own" if "own" in step else "from-target"
    assert app.seen.authorization == [f"Bearer {token}"] * len(paths)


def test_target_options_name_declared_targets(tmp_path: Path) -> None:
    text = _suite_with_options(
        "http://127.0.0.1:9",
        "  ap: {follow_redirects: false}\n  app: {auth: {bearer: '{{ token }}'}}",
        "      - {name: go, request: GET /x}",
        tmp_path,
    )
    with pytest.raises(SuiteInvalid) as raised:
        load_suite_text(text, tmp_path / "suite.yaml", threshold_parser=None)
    messages = [e.message for e in raised.value.errors]
    assert messages[0] == "target `ap` is not declared under `targets`; did you mean `app`?"
    assert "template uses `token`, which no earlier step extracts" in messages[1]
