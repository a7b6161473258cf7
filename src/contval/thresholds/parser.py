"""Parse a threshold expression once, at load time, into a `Threshold`.

Grammar (BNF; whitespace is free between tokens, never inside a value)::

    threshold  ::= [ scope ":" ] aggregate op right [ warning ] qualifier* [ "," "abort" ]
    scope      ::= flow [ "/" step ]            ; names may hold spaces and dashes, not ":"
    aggregate  ::= percentile "(" metric ")"
                 | ( "avg" | "min" | "max" ) "(" metric ")"
                 | "count" "(" ( "requests" | "errors" | "iterations" ) ")"
                 | "regression" "(" compared ")"
                 | "signal" "(" NAME ")" [ "max" | "min" | "avg" | "last" ]
                 | "error_rate" | "checks" | "rps" | "dropped_iterations" | "recovery_time"
    percentile ::= "p" NUMBER                   ; 0 < NUMBER <= 100, e.g. p95, p99.9
    metric     ::= "latency" | "duration"
    compared   ::= "p50" | "p95" | "p99" | "error_rate" | "rps"
    op         ::= "<" | "<=" | ">" | ">=" | "==" | "!="
    right      ::= value | baseline
    baseline   ::= "baseline" [ ( "+" | "-" ) value ]
    warning    ::= "warn" value                 ; a stricter level: pass, but `degraded`
    value      ::= NUMBER [ unit ]              ; no space between number and unit
    unit       ::= "us" | "ms" | "s" | "m" | "h" | "%" | "/s" | "/m" | "/h"
    qualifier  ::= "over" DURATION              ; whole seconds; every full window must pass
                 | ( "during" | "before" | "after" ) FAULT   ; each qualifier at most once

Units follow the aggregate: times (latency, duration, recovery_time) take durations
(`200ms`, `1m30s`); error_rate and checks take percentages; rps takes a rate (`50/s`, or a
plain number meaning per second); counts take whole numbers. Anything else is an error that
quotes the expression and points at the offending token.

A server-side signal (issue 14) is `signal(NAME)`, NAME declared under the suite's `signals`.
Without a reducer every second with data must hold (the observed value is the worst second:
the highest for `<`/`<=`, the lowest for `>`/`>=`); `max`, `min`, `avg` and `last` reduce its
seconds to one number first. Values are plain numbers in the signal's unit, or a duration
(read in seconds) for a signal in seconds: `signal(worker_lag) < 2s after worker-crash`. A
flow may name a signal (`checkout: signal(p95_server) < 1s warn 200ms`) for that flow's health;
a step may not. `recovery_time(signal(NAME))` is the signal's recovery after a fault. A signal
compared with the baseline (`signal(cpu) < baseline + 20%`) reads the baseline's per-window
mean; without a reducer its own value is the median of its windows, as the gate compares it.

Against the baseline (issue 5): only p50/p95/p99(latency), error_rate, rps and signals may take
`baseline [+|- VALUE]` on the right, the metrics the baseline comparison measures. A percent
offset is relative (`baseline + 10%` = 1.1 x baseline), except for error_rate, where it is
absolute percentage points (`baseline + 0.5%` = the baseline's rate + 0.005), which is what
people mean by it; other offsets take the aggregate's unit (`baseline + 20ms`).
`regression(compared)` is compared with a percentage (points for error_rate). Neither takes
`over` (the baseline's windows are its own 10-second ones) nor `, abort` (they are judged once
the run is over); `baseline` is a right-hand side only.

A warning level (issue 6) follows a plain value: `p95(latency) < 200ms warn 150ms`. It must be
stricter than the limit (below it for `<`/`<=`, above it for `>`/`>=`); `==`/`!=` and
thresholds against the baseline take none. A run that passes the limit but not the warning
level still passes; its state is `degraded` (see `contval.thresholds.health`).
"""

from __future__ import annotations

import difflib
import re
from typing import Final

from contval.spec.units import UnitError, parse_duration, parse_percent, parse_rate
from contval.thresholds.ast import (
    Aggregate,
    BaselineRef,
    Countable,
    Dimension,
    Kind,
    Metric,
    Op,
    Phase,
    PhaseKind,
    Scope,
    Threshold,
    format_value,
)
from contval.thresholds.errors import ThresholdSyntaxError
from contval.thresholds.lexer import Tok, Token, tokenize

AGGREGATE_HINT: Final = "expected an aggregate such as p95(latency), error_rate or rps"
_PLAIN: Final = ("error_rate", "checks", "rps", "dropped_iterations", "recovery_time")
_FUNCTIONS: Final = ("avg", "min", "max", "count")
_KNOWN: Final = (*_PLAIN, *_FUNCTIONS, "p95", "p99", "regression", "signal")
REDUCERS: Final = ("max", "min", "avg", "last")
COMPARED: Final = ("p50", "p95", "p99", "error_rate", "rps")
BASELINE_ONLY: Final = (
    "only p50/p95/p99(latency), error_rate, rps and signal(NAME) can be compared with the baseline"
)
_NO_OVER: Final = (
    "a threshold against the baseline takes no `over`: it is compared over the baseline's"
    " own 10-second windows"
)
_PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)")
_SCOPE_FORBIDDEN = re.compile(r"[()<>=!,]")
_UNITS: Final = ("us", "µs", "ms", "s", "m", "h")
_ITERATION_ONLY: Final = (Countable.ITERATIONS,)


def parse_threshold(text: str) -> Threshold:
    """Parse one expression; raises ThresholdSyntaxError (and nothing else) when malformed."""
    if not text.strip():
        raise ThresholdSyntaxError(f"empty threshold; {AGGREGATE_HINT}", text, 1)
    scope, rest = _parse_scope(text)
    return _Parser(text, tokenize(text, rest)).threshold(scope)


def _parse_scope(text: str) -> tuple[Scope, int]:
    """Split `flow/step:` off the front; returns the scope and where the rest begins."""
    colon = text.find(":")
    if colon < 0:
        return Scope(), 0
    head = text[:colon]
    bad = _SCOPE_FORBIDDEN.search(head)
    if bad is not None:
        raise ThresholdSyntaxError(
            "unexpected ':'; a scope goes first, as in `browse/list: p95(latency) < 200ms`",
            text,
            colon + 1,
        )
    flow, slash, step = head.partition("/")
    if not flow.strip():
        raise ThresholdSyntaxError("expected a flow name before ':'", text, 1)
    if slash and not step.strip():
        raise ThresholdSyntaxError("expected a step name after '/'", text, colon + 1)
    return Scope(flow.strip(), step.strip() if slash else None), colon + 1


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def error(self, message: str, token: Token | None = None) -> ThresholdSyntaxError:
        token = token or self.tok
        return ThresholdSyntaxError(message, self.text, token.start + 1, len(token.text))

    def expect(self, kind: Tok, message: str) -> Token:
        if self.tok.kind is not kind:
            raise self.error(message)
        return self.advance()

    def threshold(self, scope: Scope) -> Threshold:
        agg_token = self.tok
        aggregate = self.aggregate()
        _check_scope(self, scope, aggregate, agg_token)
        op = self.op()
        value, baseline = self.right(aggregate, agg_token)
        warn = self.warning(aggregate, op, value, baseline)
        compared = baseline is not None or aggregate.kind is Kind.REGRESSION
        window, phase = self.qualifiers(aggregate, compared)
        abort = self.abort(compared)
        if self.tok.kind is not Tok.END:
            raise self.error(
                f"unexpected {self.tok.text!r}; expected `warn`, `over`, `during`, `before`,"
                " `after`, `, abort` or the end"
            )
        return Threshold(
            scope,
            aggregate,
            op,
            value,
            window,
            phase,
            abort,
            self.text,
            baseline=baseline,
            warn=warn,
        )

    def warning(
        self, aggregate: Aggregate, op: Op, value: float, baseline: BaselineRef | None
    ) -> float | None:
        """`warn VALUE`: a level stricter than the limit, in the aggregate's units."""
        if not (self.tok.kind is Tok.WORD and self.tok.text == "warn"):
            return None
        word = self.advance()
        if baseline is not None:
            raise self.error("a threshold against the baseline takes no `warn` level", word)
        if op in (Op.EQ, Op.NE):
            raise self.error(f"`warn` needs <, <=, > or >=, not {op}", word)
        token = self.tok
        warn = self.value(aggregate)
        if (op.upper_bound and warn >= value) or (not op.upper_bound and warn <= value):
            side = "below" if op.upper_bound else "above"
            raise self.error(
                f"the warning level must be stricter than the limit: {side} "
                f"{format_value(aggregate.dimension, value)}",
                token,
            )
        return warn

    def right(self, aggregate: Aggregate, agg_token: Token) -> tuple[float, BaselineRef | None]:
        """A value, or `baseline [+|- VALUE]` (then the value is 0.0 and unused)."""
        if self.tok.kind is Tok.WORD and self.tok.text.startswith("baseline"):
            return 0.0, self.baseline(aggregate, agg_token)
        return self.value(aggregate), None

    def baseline(self, aggregate: Aggregate, agg_token: Token) -> BaselineRef:
        word = self.advance()
        if word.text != "baseline":
            raise self.error("write spaces around the sign, as in `baseline - 10%`", word)
        if aggregate.kind is Kind.REGRESSION:
            raise self.error(
                "regression(...) is already measured against the baseline; compare it with a"
                " percentage, as in regression(p99) < 15%",
                word,
            )
        if aggregate.baseline_metric is None:
            raise self.error(f"{BASELINE_ONLY}, not {aggregate.to_text()}", agg_token)
        if self.tok.kind is not Tok.SIGN:
            return BaselineRef()
        sign = self.advance()
        token = self.tok
        if token.kind is not Tok.NUMBER:
            raise self.error(f"expected a value after '{sign.text}': {_offset_hint(aggregate)}")
        self.advance()
        self.unit_apart()
        try:
            offset, relative = _offset(aggregate, token.text)
        except ValueError as exc:  # UnitError is a ValueError
            raise self.error(str(exc), token) from None
        return BaselineRef(-offset if sign.text == "-" else offset, relative)

    def unit_apart(self) -> None:
        if self.tok.kind is Tok.WORD and self.tok.text in (*_UNITS, "per"):
            raise self.error("write the unit right after the number, as in 200ms", self.tok)

    def aggregate(self) -> Aggregate:
        token = self.tok
        if token.kind is not Tok.WORD:
            raise self.error(AGGREGATE_HINT)
        name = token.text
        self.advance()
        percentile = _PERCENTILE.fullmatch(name)
        if percentile is not None:
            pct = float(percentile.group(1))
            if not 0 < pct <= 100:
                raise self.error("a percentile must be above 0 and at most 100", token)
            return Aggregate(Kind.PERCENTILE, metric=self.metric(name), percentile=pct)
        if name in ("avg", "min", "max"):
            return Aggregate(Kind(name), metric=self.metric(name))
        if name == "count":
            return Aggregate(Kind.COUNT, countable=self.countable())
        if name == "regression":
            what = "p50, p95, p99, error_rate or rps: what the baseline comparison measures"
            return Aggregate(Kind.REGRESSION, subject=self._argument(name, COMPARED, what))
        if name == "signal":
            return self.signal()
        if name == "baseline":
            raise self.error(
                "the baseline goes on the right, as in `p95(latency) < baseline + 10%`", token
            )
        if name == "recovery_time" and self.tok.kind is Tok.LPAREN:
            return self.signal_recovery()
        if name in _PLAIN:
            if self.tok.kind is Tok.LPAREN:
                raise self.error(f"{name} takes no argument")
            return Aggregate(Kind(name))
        raise self.error(_aggregate_hint(name, self.tok), token)

    def signal(self) -> Aggregate:
        """`signal(NAME) [max|min|avg|last]` (after the word `signal`)."""
        self.expect(Tok.LPAREN, "expected '(' after signal, as in signal(queue_depth)")
        name = self.expect(Tok.WORD, "expected a signal's name, as in signal(queue_depth)")
        self.expect(Tok.RPAREN, "expected ')'")
        reduce = None
        if self.tok.kind is Tok.WORD:
            word = self.tok
            if word.text not in REDUCERS:
                close = difflib.get_close_matches(word.text, REDUCERS, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise self.error(
                    f"expected max, min, avg, last or a comparison after signal(...){hint}", word
                )
            reduce = self.advance().text
        return Aggregate(Kind.SIGNAL, subject=name.text, reduce=reduce)

    def signal_recovery(self) -> Aggregate:
        """`recovery_time(signal(NAME))` (after the word `recovery_time`)."""
        hint = "as in recovery_time(signal(worker_lag))"
        self.expect(Tok.LPAREN, f"expected '(' after recovery_time, {hint}")
        word = self.tok
        if word.kind is not Tok.WORD or word.text != "signal":
            raise self.error(f"recovery_time takes a signal or no argument, {hint}")
        self.advance()
        self.expect(Tok.LPAREN, f"expected '(' after signal, {hint}")
        name = self.expect(Tok.WORD, f"expected a signal's name, {hint}")
        self.expect(Tok.RPAREN, "expected ')'")
        self.expect(Tok.RPAREN, "expected ')' to close recovery_time(...)")
        return Aggregate(Kind.RECOVERY_TIME, subject=name.text)

    def _argument(self, name: str, choices: tuple[str, ...], what: str) -> str:
        self.expect(Tok.LPAREN, f"expected '(' after {name}, as in {name}({choices[0]})")
        arg = self.tok
        if arg.kind is not Tok.WORD or arg.text not in choices:
            raise self.error(f"expected {what}")
        self.advance()
        self.expect(Tok.RPAREN, "expected ')'")
        return arg.text

    def metric(self, name: str) -> Metric:
        return Metric(self._argument(name, ("latency", "duration"), "latency or duration"))

    def countable(self) -> Countable:
        choices = ("requests", "errors", "iterations")
        return Countable(self._argument("count", choices, "requests, errors or iterations"))

    def op(self) -> Op:
        token = self.tok
        if token.kind is not Tok.OP:
            raise self.error("expected a comparison: <, <=, >, >=, == or !=")
        if token.text == "=":
            raise self.error("use == to compare for equality")
        self.advance()
        return Op(token.text)

    def value(self, aggregate: Aggregate) -> float:
        token = self.tok
        if token.kind is not Tok.NUMBER:
            raise self.error(f"expected a value: {_VALUE_HINTS[aggregate.dimension]}")
        self.advance()
        self.unit_apart()
        try:
            return _convert(aggregate, token.text)
        except UnitError as exc:
            raise self.error(str(exc), token) from None
        except ValueError as exc:
            raise self.error(str(exc), token) from None

    def qualifiers(self, aggregate: Aggregate, compared: bool) -> tuple[int | None, Phase | None]:
        window: int | None = None
        phase: Phase | None = None
        while self.tok.kind is Tok.WORD and self.tok.text in ("over", "during", "before", "after"):
            word = self.advance()
            if word.text == "over" and compared:
                raise self.error(_NO_OVER, word)
            if word.text == "over":
                if window is not None:
                    raise self.error("`over` given twice", word)
                window = self.window(aggregate, word)
            else:
                if phase is not None:
                    raise self.error("only one of during, before or after", word)
                if aggregate.kind is Kind.RECOVERY_TIME and word.text != "after":
                    raise self.error(
                        "recovery_time is measured from a fault's end; use `after FAULT`", word
                    )
                fault = self.expect(Tok.WORD, f"expected a fault name after `{word.text}`")
                phase = Phase(PhaseKind(word.text), fault.text)
        return window, phase

    def window(self, aggregate: Aggregate, word: Token) -> int:
        if aggregate.kind is Kind.RECOVERY_TIME:
            raise self.error("recovery_time is measured once per fault; it takes no `over`", word)
        token = self.expect(Tok.NUMBER, "expected a window length such as 10s after `over`")
        try:
            seconds = parse_duration(token.text)
        except UnitError as exc:
            raise self.error(str(exc), token) from None
        if seconds < 1 or not seconds.is_integer():
            raise self.error("a window is a whole number of seconds, such as 10s or 1m", token)
        return int(seconds)

    def abort(self, compared: bool) -> bool:
        if self.tok.kind is not Tok.COMMA:
            return False
        self.advance()
        word = self.expect_word("abort", "expected `abort` after ','")
        if compared:
            raise self.error(
                "a threshold against the baseline is judged once the run is over; it cannot"
                " abort the run",
                word,
            )
        return True

    def expect_word(self, word: str, message: str) -> Token:
        token = self.tok
        if token.kind is not Tok.WORD or token.text != word:
            raise self.error(message)
        return self.advance()


_VALUE_HINTS: Final = {
    Dimension.TIME: "a duration such as 200ms or 1s",
    Dimension.RATIO: "a percentage such as 1% or 99.5%",
    Dimension.RATE: "a rate such as 50/s",
    Dimension.COUNT: "a whole number such as 0 or 100",
    Dimension.SHIFT: "a percentage such as 15%",
    Dimension.SIGNAL: "a number such as 100 (or a duration such as 2s for a signal in seconds)",
}


def _offset_hint(aggregate: Aggregate) -> str:
    if aggregate.dimension is Dimension.RATIO:
        return "percentage points such as 0.5%"
    unit = "20ms" if aggregate.dimension is Dimension.TIME else "5/s"
    return f"a percentage such as 10%, or a value such as {unit}"


def _offset(aggregate: Aggregate, text: str) -> tuple[float, bool]:
    """An offset from the baseline in base units, and whether it is relative to it.

    A percent is relative for latency and rps; for error_rate, itself a percentage, it is
    absolute points, since "baseline + 0.5%" is said of a 1% rate meaning 1.5%, not 1.005%.
    """
    if not text.endswith("%"):
        return _convert(aggregate, text), False
    fraction = parse_percent(text)
    if aggregate.dimension is Dimension.RATIO:
        if fraction > 1:
            raise ValueError(f"{aggregate.to_text()} cannot exceed 100%")
        return fraction, False
    return fraction, True


def _convert(aggregate: Aggregate, text: str) -> float:
    """The value's text in base units; ValueError (or UnitError) explains a mismatch."""
    name = aggregate.to_text()
    dimension = aggregate.dimension
    is_plain = re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", text) is not None
    if dimension is Dimension.TIME:
        if text.endswith("%") or "/" in text:
            raise ValueError(f"{name} is a time, not {text!r}; use {_VALUE_HINTS[dimension]}")
        return parse_duration(text)
    if dimension is Dimension.RATIO:
        if not text.endswith("%"):
            raise ValueError(f"{name} is a percentage, not {text!r}; use e.g. 1% or 99.5%")
        fraction = parse_percent(text)
        if fraction > 1:
            raise ValueError(f"{name} cannot exceed 100%")
        return fraction
    if dimension is Dimension.RATE:
        return float(text) if is_plain else parse_rate(text)
    if dimension is Dimension.SIGNAL:
        if is_plain:
            return float(text)
        if text.endswith("%") or "/" in text:
            raise ValueError(f"{name} takes {_VALUE_HINTS[dimension]}, not {text!r}")
        return parse_duration(text)
    if dimension is Dimension.SHIFT:
        if not text.endswith("%"):
            raise ValueError(f"{name} is a percentage, not {text!r}; use e.g. 15%")
        return parse_percent(text)
    if not is_plain or "." in text:
        raise ValueError(f"{name} is a count: use a whole number, not {text!r}")
    return float(text)


def _aggregate_hint(name: str, following: Token) -> str:
    if name == "p" and following.kind is Tok.LPAREN:
        return "write the percentile into the name, as in p95(latency)"
    if name in ("latency", "duration"):
        return f"{name} needs an aggregate, as in p95({name}) or avg({name})"
    close = difflib.get_close_matches(name, _KNOWN, n=1)
    return AGGREGATE_HINT + (f" (did you mean `{close[0]}`?)" if close else "")


def _check_scope(parser: _Parser, scope: Scope, aggregate: Aggregate, token: Token) -> None:
    """Iterations belong to a flow, so iteration counts of a single step are refused. A signal
    belongs to the server: a flow may name it (for that flow's health), a step may not, and
    a signal's recovery takes no scope at all."""
    if aggregate.kind is Kind.SIGNAL and scope.step is not None:
        raise parser.error(
            "a signal is the server's, not a step's: write it without `/step` (a flow may name"
            " it, as in `checkout: signal(NAME) < 1`, for that flow's health)",
            token,
        )
    if aggregate.kind is Kind.RECOVERY_TIME and aggregate.subject and scope.flow is not None:
        raise parser.error(
            "a signal's recovery is the server's: write it without `flow:` in front", token
        )
    per_iteration = aggregate.kind is Kind.DROPPED_ITERATIONS or (
        aggregate.countable in _ITERATION_ONLY
    )
    if per_iteration and scope.step is not None:
        raise parser.error(f"{aggregate.to_text()} belongs to a flow, not to a step", token)
