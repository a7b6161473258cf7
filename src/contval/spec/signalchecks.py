"""References of server-side signals: a source's target, a signal's source, and the signals
thresholds name as `signal(NAME)`.

A misspelt name would otherwise surface only at run time, as a signal nobody read and a
threshold that fails with `no data`; here it is a located error with the closest name. Reads
the threshold parser's AST by attribute (`.aggregate.kind/.subject`), so the spec package
does not import the threshold package.
"""

from __future__ import annotations

import re

from contval.spec.chaoschecks import ParsedThreshold
from contval.spec.errors import SuiteError, did_you_mean
from contval.spec.models import Suite
from contval.spec.source import SourceDocument
from contval.spec.thresholdpos import threshold_position

_TIME_VALUE = re.compile(r"(?:<=|>=|==|!=|<|>|\bwarn)\s*(\d+(?:\.\d+)?[a-zµ][a-z0-9.]*)")


def check_signals(suite: Suite, doc: SourceDocument) -> list[SuiteError]:
    """Every source names a declared target; every signal a declared source."""
    errors: list[SuiteError] = []
    for name, source in suite.metrics_sources.items():
        if source.scrape is None:
            continue
        target = source.scrape.target
        if target not in suite.targets:
            hint = did_you_mean(target, suite.targets) or (
                f"; the targets are {', '.join(f'`{t}`' for t in suite.targets)}"
            )
            message = f"target `{target}` is not declared under `targets`{hint}"
            errors.append(doc.error(("metrics_sources", name, "scrape", "target"), message))
    for name, signal in suite.signals.items():
        declared = suite.metrics_sources.get(signal.source)
        if declared is not None:
            mismatch = _kind_mismatch(signal.kind, signal.source, declared.prometheus is not None)
            if mismatch is not None:
                errors.append(doc.error(("signals", name, signal.kind), mismatch, at_key=True))
            continue
        hint = did_you_mean(signal.source, suite.metrics_sources) or (
            f"; the sources are {', '.join(f'`{s}`' for s in suite.metrics_sources)}"
            if suite.metrics_sources
            else "; declare it under `metrics_sources`, e.g. "
            f"`{signal.source}: {{scrape: {{target: TARGET, path: /metrics}}}}`"
        )
        message = f"metrics source `{signal.source}` is not declared under `metrics_sources`{hint}"
        errors.append(doc.error(("signals", name, "source"), message))
    return errors


def _kind_mismatch(kind: str, source: str, prometheus: bool) -> str | None:
    """`query` is PromQL, for a prometheus source; the others read an exposition contval
    scrapes itself."""
    if prometheus and kind != "query":
        return (
            f"metrics source `{source}` is a Prometheus server: write the signal as "
            f"`query: PROMQL` (e.g. `query: sum(METRIC)`), not `{kind}`"
        )
    if not prometheus and kind == "query":
        return (
            f"metrics source `{source}` is scraped by contval: `query` needs a prometheus "
            "source; use `gauge`, `rate` or `histogram_quantile`"
        )
    return None


def check_threshold_signals(
    suite: Suite, doc: SourceDocument, parsed: list[ParsedThreshold]
) -> list[SuiteError]:
    """`signal(NAME)` and `recovery_time(signal(NAME))` must name a declared signal; a
    duration compares only with a signal in seconds (a recovery time is always one)."""
    errors: list[SuiteError] = []
    for threshold in parsed:
        aggregate = getattr(threshold.ast, "aggregate", None)
        kind = getattr(aggregate, "kind", None)
        name = str(getattr(aggregate, "subject", None) or "")
        if kind != "signal" and not (kind == "recovery_time" and name):
            continue
        signal = suite.signals.get(name)
        if signal is None:
            hint = did_you_mean(name, suite.signals) or (
                f"; the signals are {', '.join(f'`{s}`' for s in suite.signals)}"
                if suite.signals
                else "; declare it under `signals`, e.g. "
                f"`{name}: {{source: SOURCE, gauge: METRIC}}`"
            )
            message = (
                f"threshold names signal `{name}`, which is not declared under `signals`{hint}"
            )
            offset = threshold.text.find(name, threshold.text.find("signal("))
            position = threshold_position(doc, threshold.path, offset if offset >= 0 else None)
            errors.append(SuiteError(str(doc.path), position, message))
            continue
        duration = _TIME_VALUE.search(threshold.text) if kind == "signal" else None
        if duration is not None and signal.unit != "s":
            unit = f"its unit is `{signal.unit}`" if signal.unit else "it declares no unit"
            message = (
                f"threshold compares signal `{name}` with the duration `{duration.group(1)}`, "
                f"but {unit}: write a plain number, or give the signal `unit: s`"
            )
            position = threshold_position(doc, threshold.path, duration.start(1))
            errors.append(SuiteError(str(doc.path), position, message))
    return errors
