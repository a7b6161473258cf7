#!/usr/bin/env bash
# make demo: start the fault proxy and the reference shop (its calls to Payments go through the
# proxy), run the example suite as a release gate (the `normal` scenario, then the chaos
# scenarios, with cool-downs) with live progress, print the summaries, write result.json and the
# reports (report.html, junit.xml, summary.md), and stop everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-run/demo}"
PY=.venv/bin/python
SUITE="${SUITE:-examples/contoso-shoes/suite.yaml}"
SCENARIOS="${SCENARIOS:-}"   # default: the whole suite, in its pipeline order
cleanup() {
    $PY -m contoso_shoes down --dir "$DIR" || true
    .venv/bin/contval proxy "$SUITE" --stop || true
}
$PY -m contoso_shoes down --dir "$DIR" >/dev/null 2>&1 || true
.venv/bin/contval proxy "$SUITE" --stop >/dev/null 2>&1 || true
trap cleanup EXIT
.venv/bin/contval validate "$SUITE"
.venv/bin/contval proxy "$SUITE" --detach
$PY -m contoso_shoes up --dir "$DIR" --port 8000 --payments-port 9100 \
    --payments-url http://127.0.0.1:9101 --detach
args=()
for s in $SCENARIOS; do args+=(--scenario "$s"); done
.venv/bin/contval run "$SUITE" "${args[@]}" --out "$DIR/results"
