"""The HTML report opened in a real headless Chromium from file://: nothing fetched, no script
errors, charts drawn from the data, tooltips on hover, legend toggles, markup from the run
shown as text. One browser for the module; each test opens its own page."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from contval.report.html import render_html
from contval.report.html_fmt import fmt_ms
from tests.report.sample import HOSTILE, result_document

CHROMIUM = Path("/usr/bin/chromium")

# Never skipped: a report nobody opened in a browser is not tested. `.ci/run` installs chromium.
pytestmark = [pytest.mark.timeout(180)]


def test_chromium_is_installed() -> None:
    assert CHROMIUM.exists(), (
        "install Debian's chromium (`apt-get install chromium`), as .ci/run does"
    )


@dataclass
class Opened:
    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        foreign = [
            u for u in self.requests if u != self.url and not u.startswith(("data:", "about:"))
        ]
        assert foreign == []
        assert self.url in self.requests


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def open_report(browser: Any, tmp_path: Path) -> Iterator[Callable[..., Opened]]:
    pages: list[Any] = []

    def _open(doc: dict[str, Any], name: str = "report.html") -> Opened:
        path = tmp_path / name
        path.write_text(render_html(doc), encoding="utf-8")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        pages.append(page)
        opened = Opened(page, path.as_uri())

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                opened.errors.append(msg.text)

        def on_dialog(dialog: Any) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda exc: opened.errors.append(str(exc)))
        page.on("request", lambda request: opened.requests.append(request.url))
        page.on("dialog", on_dialog)
        page.goto(opened.url, wait_until="load")
        return opened

    yield _open
    for page in pages:
        page.close()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def lines(page: Any, scenario: int, metric: str) -> list[int]:
    """Points per drawn line of one chart."""
    selector = f'#s{scenario} figure[data-metric="{metric}"] svg path.line'
    points: list[int] = page.eval_on_selector_all(
        selector, "els => els.map(e => Number(e.getAttribute('data-points')))"
    )
    return points


def hover(page: Any, scenario: int, metric: str, fraction: float) -> str:
    svg = page.locator(f'#s{scenario} figure[data-metric="{metric}"] svg')
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.5)
    tip = page.locator(f'#s{scenario} figure[data-metric="{metric}"] .tooltip')
    assert tip.is_visible()
    text: str = tip.inner_text()
    return text


def test_the_report_draws_the_run(open_report: Callable[..., Opened], tmp_path: Path):
    doc = result_document(failing=True)
    report = open_report(doc)
    page = report.page
    for i, scenario in enumerate(doc["scenarios"]):
        flows = len(scenario["flow_series"])
        assert page.locator(f"#s{i} figure.chart svg").count() == 3
        assert lines(page, i, "latency") == [60] * (3 * flows)
        assert lines(page, i, "throughput") == [60] * flows
        assert lines(page, i, "errors") == [60] * flows
        d = page.get_attribute(f'#s{i} figure[data-metric="latency"] path.line', "d")
        assert d and d.startswith("M") and d.count("L") == 59
        cells = page.locator(f"#s{i} .strip .cell").count()
        windows = sum(len(f["windows"]) for f in scenario["health"]["flows"].values())
        assert cells == windows == 6 * flows
        assert page.locator(f"#s{i} table.thresholds tbody tr").count() == len(
            scenario["thresholds"]
        )
        assert page.locator(f"#s{i} table.baseline tbody tr").count() == len(
            scenario["baseline"]["comparisons"]
        )
        assert page.locator(f"#s{i} table.baseline svg.ibar circle").count() == len(
            scenario["baseline"]["comparisons"]
        )
    # the fault is shaded in each of the chaos scenario's charts, and only there
    assert page.locator("#s0 g.fault").count() == 0
    assert page.locator("#s1 g.fault rect").count() == 3
    assert page.locator("#s1 g.fault text").all_text_contents() == ["payments-slow"] * 3
    strip = page.locator("#s1 .strip").first.locator(".cell")
    assert strip.nth(2).get_attribute("title") == "20–30 s: unhealthy — error_rate 10 % fails < 1 %"
    assert "h-unhealthy" in (strip.nth(2).get_attribute("class") or "")
    assert page.locator("header .badge.big").inner_text() == "FAIL"
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width == 1280 and height > 3000
    assert shot.stat().st_size > 100_000
    report.assert_clean()


def test_hover_shows_the_values(open_report: Callable[..., Opened], tmp_path: Path):
    doc = result_document()
    report = open_report(doc)
    text = hover(report.page, 1, "latency", 0.5)
    head, *rows = text.splitlines()
    match = re.fullmatch(r"t = (\d+) s · fault payments-slow", head)
    assert match, head
    t = int(match.group(1))
    assert 20 <= t < 40
    series = doc["scenarios"][1]["flow_series"]
    assert rows == [
        f"{flow} {p}: {fmt_ms(series[flow][f'{p}_ms'][t])}"
        for flow in ("browse", "checkout")
        for p in ("p50", "p95", "p99")
    ]
    assert report.page.locator("#s1 figure[data-metric='latency'] .dots circle").count() == 6
    shot = tmp_path / "tooltip.png"
    report.page.locator("#s1 figure[data-metric='latency']").screenshot(path=str(shot))
    assert png_size(shot)[0] > 600 and shot.stat().st_size > 10_000
    text = hover(report.page, 1, "errors", 0.1)
    assert text.splitlines()[1:] == ["browse: 0 errors/s", "checkout: 0 errors/s"]
    assert hover(report.page, 0, "throughput", 0.9).splitlines()[1] == "browse: 50 req/s"
    report.page.mouse.move(1, 1)
    assert report.page.locator("#s1 .tooltip:visible").count() == 0
    report.assert_clean()


def test_legend_toggles_flows_percentiles_and_scale(open_report: Callable[..., Opened]):
    report = open_report(result_document())
    page = report.page
    legend = page.locator("#s1 .legend")
    assert legend.locator("label").all_inner_texts() == [
        "browse",
        "checkout",
        "p50",
        "p95",
        "p99",
        "log scale",
    ]
    legend.get_by_label("checkout").uncheck()
    assert lines(page, 1, "latency") == [60, 60, 60]
    assert lines(page, 1, "throughput") == [60]
    legend.get_by_label("p99").uncheck()
    legend.get_by_label("p50").uncheck()
    assert lines(page, 1, "latency") == [60]
    assert "browse p95" in hover(page, 1, "latency", 0.3)
    legend.get_by_label("log scale").check()
    ticks = page.locator("#s1 figure[data-metric='latency'] .axis text").all_text_contents()
    assert {"1", "10"} <= set(ticks)
    legend.get_by_label("browse").uncheck()
    assert lines(page, 1, "latency") == []
    assert page.locator("#s1 figure[data-metric='latency'] text.empty").text_content() == (
        "no data to show"
    )
    report.assert_clean()


def test_markup_from_the_run_stays_text(open_report: Callable[..., Opened]):
    report = open_report(result_document(failing=True, hostile=True))
    page = report.page
    text = page.inner_text("body")
    assert '<script>alert("x")</script>' in text
    assert HOSTILE in text
    assert "<b>evil</b>" in text
    evil_b = page.eval_on_selector_all("b", "els => els.filter(e => e.textContent === 'evil')")
    assert evil_b == []
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 2
    assert "<b>evil</b>" in page.locator("#s0 .legend").inner_text()
    assert "<b>evil</b> p95: " in hover(page, 0, "latency", 0.5)
    titles = page.eval_on_selector_all("#s0 path.line title", "els => els.map(e => e.textContent)")
    assert "<b>evil</b> p99" in titles
    report.assert_clean()


def test_bare_and_older_documents(open_report: Callable[..., Opened]):
    doc = result_document()
    for key in ("run_id", "env", "label", "health", "pipeline"):
        del doc[key]
    older, bare = doc["scenarios"]
    for scenario in (older, bare):
        for key in ("faults", "phases", "baseline", "health", "flow_series", "cooldown"):
            scenario.pop(key, None)
    del bare["series"]
    older["series"][5]["p95_ms"] = None  # a second without requests: the line breaks
    report = open_report(doc)
    page = report.page
    assert page.locator("#s0 figure.chart svg").count() == 3
    assert page.locator("#s0 .legend label").first.inner_text() == "(all flows)"
    d = page.get_attribute("#s0 figure[data-metric='latency'] path.line >> nth=1", "d")
    assert d and d.count("M") == 2
    assert lines(page, 0, "latency") == [60, 59, 60]
    assert page.locator("#s1 figure.chart").count() == 0
    assert page.locator("#s1 .strip .cell").count() == 0
    assert "No baseline comparison" in page.locator("#s1").inner_text()
    report.assert_clean()


def test_an_hour_of_data(open_report: Callable[..., Opened]):
    doc = result_document(seconds=3600)
    report = open_report(doc)
    page = report.page
    assert lines(page, 1, "latency") == [3600] * 6
    assert page.locator("#s1 .strip").first.locator(".cell").count() == 360
    ticks = page.locator("#s1 figure[data-metric='throughput'] .axis text").all_text_contents()
    assert "30:00" in ticks and "60:00" in ticks
    head = hover(page, 1, "latency", 0.5).splitlines()[0]
    assert re.fullmatch(r"t = \d+:\d\d · fault payments-slow", head), head
    report.assert_clean()


def test_a_real_runs_report(
    open_report: Callable[..., Opened], tmp_path: Path, target: Any
) -> None:
    """The report of a real `contval run` (not the synthetic sample) opens clean, with one line
    per flow and second, and health cells for every 10-second window of the load."""
    import json
    import subprocess
    import sys

    from tests.pipeline.test_suite_run import suite_text

    suite = tmp_path / "suite.yaml"
    text = suite_text(target.url, "  cooldown: 0s", {"only": "browse: p95(latency) < 2s warn 1us"})
    suite.write_text(text.replace("duration: 2s", "duration: 12s"))
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "contval", "run", str(suite), "--out", str(out), "--no-history"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    doc = json.loads((out / "result.json").read_text())
    opened = open_report(doc)
    opened.assert_clean()
    seconds = len(doc["scenarios"][0]["series"])
    assert lines(opened.page, 0, "latency") == [seconds] * 6  # 2 flows x p50/p95/p99
    cells = opened.page.eval_on_selector_all("#s0 .cell[title]", "els => els.map(e => e.className)")
    # browse is degraded (its p95 is over the 1 µs warning level), buy has no threshold
    assert cells == ["cell h-degraded"] * 2 + ["cell h-healthy"] * 2
    # cells are as wide as their windows: [0, 10) and the last, short [10, 12)
    widths = opened.page.eval_on_selector_all(
        "#s0 .cell[title]", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert widths[0] / widths[1] == pytest.approx(5, rel=0.1)
