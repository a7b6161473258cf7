#!/usr/bin/env bash
# make smoke: the demo, end to end, cut to about a minute: the example suite's `normal` scenario
# (20 s instead of 1 m) then one chaos scenario (payments-slow), through the same script as
# `make demo`. Fails unless the gate passes and every report was written.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-run/smoke}"
rm -rf "$DIR"
mkdir -p "$DIR"
cp examples/contoso-shoes/customers.csv "$DIR/"
sed 's/^    duration: 1m$/    duration: 20s/' examples/contoso-shoes/suite.yaml > "$DIR/suite.yaml"
grep -q '^    duration: 20s$' "$DIR/suite.yaml"
CONTVAL_STORE="$DIR/history.db" SUITE="$DIR/suite.yaml" SCENARIOS="normal payments-slow" \
    bash scripts/demo.sh "$DIR/system"
.venv/bin/python - "$DIR/system/results" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
doc = json.loads((out / "result.json").read_text())
names = [(s["name"], s["verdict"]) for s in doc["scenarios"]]
assert names == [("normal", "pass"), ("payments-slow", "pass")], names
assert doc["exit_code"] == 0 and doc["complete"], doc["verdict"]
assert doc["scenarios"][1]["cooldown"]["settled"] is True, doc["scenarios"][1]["cooldown"]
for name in ("report.html", "junit.xml", "summary.md"):
    assert (out / name).stat().st_size > 1000, name
print(f"smoke: PASS ({', '.join(n for n, _ in names)}; reports in {out})")
PY
