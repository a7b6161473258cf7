#!/usr/bin/env bash
# make demo: start the reference shop, run the `normal` scenario of the example suite against it
# (about a minute, with live progress), print the summary, write results, stop the shop.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-run/demo}"
PY=.venv/bin/python
SUITE=examples/contoso-shoes/suite.yaml
$PY -m contoso_shoes down --dir "$DIR" >/dev/null 2>&1 || true
$PY -m contoso_shoes up --dir "$DIR" --port "${SHOP_PORT:-8000}" --payments-port "${PAYMENTS_PORT:-9100}" --detach
trap '$PY -m contoso_shoes down --dir "$DIR"' EXIT
.venv/bin/contval validate "$SUITE"
.venv/bin/contval run "$SUITE" --scenario normal --out "$DIR/results" \
    --target "shop=http://127.0.0.1:${SHOP_PORT:-8000}"
