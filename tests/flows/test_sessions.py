"""Cookie sessions and per-VU setup against a real app: cookies across steps and iterations
(`session: iteration | vu | none`), RFC 6265 attributes, and setup steps run once per VU."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.flows.cookies import CookieJar
from contval.flows.steps import RequestStepRunner
from contval.http import Client, now
from contval.spec import SuiteInvalid, load_suite_text
from tests.flows.conftest import counts, harness, make_suite, options
from tests.flows.userapp import UserApp, serve

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def app() -> Iterator[UserApp]:
    with serve() as instance:
        yield instance


@pytest.fixture(autouse=True)
def _clean(app: UserApp) -> None:
    app.seen.clear()


def _flow(steps: str, session: str = "", setup: str = "") -> str:
    head = "f:\n  target: app\n"
    if session:
        head += f"  session: {session}\n"
    if setup:
        head += "  setup:\n" + setup
    return head + "  steps:\n" + steps


SET_THEN_READ = """\
    - name: read
      request: GET /cookies
    - name: set
      request: GET /cookies/set?a=1
"""


async def test_a_cookie_set_by_one_step_is_sent_by_the_next(app: UserApp, tmp_path: Path) -> None:
    steps = """\
    - name: set
      request: GET /cookies/set?a=1&b=two
    - name: read
      request: GET /cookies
      check: {status: 200, json: {"$.cookies.a": "1", "$.cookies.b": two}}
"""
    suite = make_suite(_flow(steps), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("f", now()) is True
    assert counts(h.slot("f", "read")) == {"requests": 1, "errors": {}, "checks": (3, 0)}
    assert app.seen.cookies == ["", "a=1; b=two"]


async def test_static_status_only_steps_carry_cookies_and_never_share_them(
    app: UserApp, tmp_path: Path
) -> None:
    """The runner's direct path (static, status-only steps) keeps each iteration's cookies
    apart: a second iteration starts without the first one's."""
    steps = """\
    - name: set
      request: GET /cookies/set?a=1
    - name: read
      request: GET /cookies
"""
    suite = make_suite(_flow(steps), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert h.runner._flows["f"].shared_scope is not None  # the direct path is in use
        assert await h.runner.run("f", now()) is True
        assert await h.runner.run("f", now()) is True
        assert h.runner._flows["f"].shared_scope.jar is None
    assert app.seen.cookies == ["", "a=1", "", "a=1"]


@pytest.mark.parametrize(
    ("session", "second_iteration_sends"),
    [("", ""), ("iteration", ""), ("vu", "a=1"), ("none", "")],
    ids=["default", "iteration", "vu", "none"],
)
async def test_cookies_across_iterations_follow_the_session_mode(
    app: UserApp, tmp_path: Path, session: str, second_iteration_sends: str
) -> None:
    suite = make_suite(_flow(SET_THEN_READ, session), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        for _ in range(3):
            assert await h.runner.run("f", now()) is True
    # read, set; read, set; read, set: what each `read` carried
    assert app.seen.paths == ["/cookies", "/cookies/set"] * 3
    assert app.seen.cookies[0::2] == ["", second_iteration_sends, second_iteration_sends]


@pytest.mark.parametrize(
    ("session", "setup", "expected"),
    [
        ("", "", [True, True, False]),
        ("vu", "", [True, True, True]),
        ("none", "", [False, False, False]),
        ("", "    - {name: login, request: 'GET /cookies/set?s=1'}\n", [True, True, True]),
    ],
    ids=["iteration", "vu", "none", "setup"],
)
async def test_only_steps_whose_cookies_can_be_sent_again_look_for_them(
    app: UserApp, tmp_path: Path, session: str, setup: str, expected: list[bool]
) -> None:
    """The direct path looks for `Set-Cookie` in a response's head only where a later request
    may send the cookie: not on an iteration's last request when its jar ends with it."""
    steps = SET_THEN_READ + "    - {name: again, request: GET /cookies}\n"
    suite = make_suite(_flow(steps, session, setup), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        steps_run = h.runner._flows["f"].steps
        marks = [s.keeps_cookies for s in steps_run if isinstance(s, RequestStepRunner)]
    assert len(marks) == len(steps_run) == 3
    assert marks == expected


async def test_a_templated_status_only_step_keeps_its_cookie_for_the_path_it_was_sent_to(
    app: UserApp, tmp_path: Path
) -> None:
    """The runner's direct path also sends status-only steps with a template in them: a cookie
    without a Path attribute belongs to the rendered path's directory, not the template's."""
    steps = """\
    - name: pick
      request: GET /next?url=2
      extract: {d: {json: "$.next"}}
    - name: set
      request: GET /dir/{{ d }}/set
    - name: elsewhere
      request: GET /cookies
    - name: read
      request: GET /dir/{{ d }}/read
"""
    suite = make_suite(_flow(steps), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        runners = h.runner._flows["f"].steps
        assert [s.direct is s for s in runners] == [True, True, True, True]  # extracting too
        assert await h.runner.run("f", now()) is True
    assert app.seen.paths == ["/next", "/dir/2/set", "/cookies", "/dir/2/read"]
    assert app.seen.cookies == ["", "", "", "a=1"]


async def test_a_templated_status_only_step_follows_a_relative_redirect_from_its_own_path(
    app: UserApp, tmp_path: Path
) -> None:
    steps = """\
    - name: pick
      request: GET /next?url=7
      extract: {d: {json: "$.next"}}
    - name: go
      request: GET /dir/{{ d }}/go
      check: {status: 200}
"""
    suite = make_suite(_flow(steps), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        for _ in range(2):
            assert await h.runner.run("f", now()) is True
    assert app.seen.paths == ["/next", "/dir/7/go", "/dir/7/read"] * 2
    assert counts(h.slot("f", "go")) == {"requests": 2, "errors": {}, "checks": (2, 0)}


async def test_session_none_never_stores_a_cookie(app: UserApp, tmp_path: Path) -> None:
    steps = """\
    - name: set
      request: GET /cookies/set?a=1
    - name: read
      request: GET /cookies
      check: {json: {"$.cookies": {max_length: 0}}}
"""
    suite = make_suite(_flow(steps, "none"), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("f", now()) is True
    assert app.seen.cookies == ["", ""]


async def test_cookie_attributes_decide_what_is_sent_back(app: UserApp, tmp_path: Path) -> None:
    """Max-Age=0 deletes, Secure stays off plain http, Path=/other stays off /cookies, and a
    Domain that is not the request's host is refused."""
    steps = """\
    - name: set
      request: GET /cookies/attrs
    - name: read
      request: GET /cookies
      check: {json: {"$.cookies": {equals: {keep: "1"}}}}
"""
    suite = make_suite(_flow(steps), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("f", now()) is True
    assert app.seen.cookies == ["", "keep=1"]


async def test_a_login_that_sets_a_cookie_and_redirects_lands_logged_in(
    app: UserApp, tmp_path: Path
) -> None:
    steps = """\
    - name: log in
      request: POST /login?user=bob
      check: {status: 200, json: {"$.session": s-bob}}
"""
    suite = make_suite(_flow(steps), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        (step,) = h.runner._flows["f"].steps
        assert step.direct is step  # a checked step on the runner's direct path
        assert await h.runner.run("f", now()) is True
    assert counts(h.slot("f", "log in")) == {"requests": 1, "errors": {}, "checks": (2, 0)}
    assert app.seen.paths == ["/login", "/account"]
    assert app.seen.cookies == ["", "session=s-bob"]


SETUP = """\
    - name: log in
      request: GET /cookies/set?session=abc
      extract:
        token: {json: "$.set.session"}
"""
USE = """\
    - name: use
      request: GET /cookies
      headers: {X-Token: "{{ token }}"}
      check: {json: {"$.cookies.session": abc}}
    - name: more
      request: GET /cookies/set?extra=1
"""


@pytest.mark.parametrize("session", ["iteration", "vu"])
async def test_setup_runs_once_per_virtual_user_and_its_values_and_cookies_stay(
    app: UserApp, tmp_path: Path, session: str
) -> None:
    suite = make_suite(_flow(USE, session, SETUP), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        for _ in range(3):  # one user, one iteration after another
            assert await h.runner.run("f", now()) is True
        assert app.seen.paths.count("/cookies/set") == 1 + 3  # one setup, three `more`
        # two iterations at once are two virtual users: a second setup runs
        both = await asyncio.gather(h.runner.run("f", now()), h.runner.run("f", now()))
        assert list(both) == [True, True]
        assert await h.runner.run("f", now()) is True
    assert app.seen.paths.count("/cookies/set") == 2 + 6  # two setups, six `more`
    assert counts(h.slot("f", "log in"))["requests"] == 2
    assert counts(h.slot("f", "use")) == {"requests": 6, "errors": {}, "checks": (6, 0)}
    uses = [c for p, c in zip(app.seen.paths, app.seen.cookies, strict=True) if p == "/cookies"]
    if session == "iteration":  # each iteration starts from the cookies the setup left
        assert uses == ["session=abc"] * 6
    else:  # the user's cookies grow: `extra` from its earlier iterations comes along
        assert uses[0] == "session=abc"
        assert all(c in ("session=abc; extra=1", "extra=1; session=abc") for c in uses[1:3])


async def test_a_failed_setup_fails_the_iteration_and_runs_again_next_time(
    app: UserApp, tmp_path: Path
) -> None:
    setup = """\
    - name: log in
      request: GET /bearer
"""
    steps = """\
    - name: use
      request: GET /cookies
"""
    suite = make_suite(_flow(steps, setup=setup), app.url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("f", now()) is False
        assert await h.runner.run("f", now()) is False
    assert app.seen.paths == ["/bearer", "/bearer"]
    assert counts(h.slot("f", "log in"))["errors"] == {"HTTP_STATUS": 2}
    assert h.slot("f").iterations == 2
    assert h.slot("f", "use").not_reached == 2
    assert h.program.flows["f"].step_names == ("log in", "use")


def test_the_jar_is_bounded_and_expires_cookies() -> None:
    jar = CookieJar()
    jar.store([f"c{i}=v; Path=/" for i in range(1000)], "h.test", "/")
    assert len(jar) == 100
    jar.store([f"big{i}={'x' * 4000}" for i in range(40)], "h.test", "/")
    assert 15 <= len(jar) <= 16  # 64 KiB of names and values at most
    assert sum(len(n) for n in jar.names()) > 0 and "c999" not in jar.names()
    jar = CookieJar()
    jar.store([f"c{i}=v; Path=/" for i in range(400, 1000)], "h.test", "/")
    jar.store(["old=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "big=" + "x" * 5000], "h.test", "/")
    assert "old" not in jar.names() and "big" not in jar.names()
    jar.store(["s=1; Max-Age=3600; Domain=.h.test; Path=/a"], "www.h.test", "/a/b")
    assert jar.header(False, "api.h.test", "/a/x?q=1") == "s=1"
    assert jar.header(False, "api.h.test", "/ab") is None
    copy = jar.copy()
    copy.store(["s=1; Max-Age=0; Domain=h.test; Path=/a"], "h.test", "/")
    assert "s" in jar.names() and "s" not in copy.names()
    assert json.dumps(jar.names()[:2]) == '["c901", "c902"]'  # s pushed c900 out


def test_a_threshold_may_name_a_setup_step(tmp_path: Path) -> None:
    text = """\
version: 1
name: t
targets: {app: 'http://127.0.0.1:9'}
flows:
  f:
    target: app
    setup: [{name: log in, request: POST /login}]
    steps: [{name: use, request: GET /x}]
workloads: {w: {executor: constant-vus, vus: 1, duration: 1s, mix: {f: 1}}}
scenarios:
  s: {workload: w, thresholds: ["f/log in: p95(latency) < 1s", "f/lgo in: error_rate < 1%"]}
"""
    with pytest.raises(SuiteInvalid) as raised:
        load_suite_text(text, tmp_path / "suite.yaml")
    assert len(raised.value.errors) == 1
    assert "lgo in" in raised.value.errors[0].message
