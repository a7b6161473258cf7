#!/usr/bin/env bash
# make demo: start the reference shop, show its health, follow one order to fulfilment, stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-run/demo}"
PY=.venv/bin/python
$PY -m contoso_shoes down --dir "$DIR" >/dev/null 2>&1 || true
$PY -m contoso_shoes up --dir "$DIR" --port "${SHOP_PORT:-8000}" --payments-port "${PAYMENTS_PORT:-9100}" --detach
trap '$PY -m contoso_shoes down --dir "$DIR"' EXIT
$PY -m contoso_shoes tour --dir "$DIR"
