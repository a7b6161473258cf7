#!/usr/bin/env bash
# The Debian packages a make target needs, installed by the target itself on a fresh machine.
#
#   bash scripts/sysdeps.sh demo   # stress-ng (the cpu-pressure scenario), procps
#   bash scripts/sysdeps.sh test   # the same, plus chromium (report.html is opened in a browser)
#                                  # and prometheus (the signals tests start a real server)
#
# As root with apt-get, missing packages are installed (one `apt-get update`, only when something
# is missing). Otherwise it stops at once, naming each missing package and the exact command to
# run, so `make demo` never fails half-way through on a missing binary. SKIP_SYSDEPS=1 skips the
# check (for machines that provide the programs some other way).
set -euo pipefail
want="${1:-test}"
[ "${SKIP_SYSDEPS:-0}" = "1" ] && exit 0

# package:program it provides (looked up on PATH)
needs=(procps:pgrep stress-ng:stress-ng)
if [ "$want" = "test" ]; then
    needs+=(chromium:chromium prometheus:prometheus)
fi

have() {
    command -v "$1" >/dev/null 2>&1
}

missing=()
for pair in "${needs[@]}"; do
    have "${pair#*:}" || missing+=("${pair%%:*}")
done
# Debian's own python3 makes virtual environments only with python3-venv installed.
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages for 'make $want': ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 || {
        echo "error: $PYTHON still cannot create virtual environments" >&2
        exit 1
    }
    for pair in "${needs[@]}"; do
        if ! have "${pair#*:}"; then
            echo "error: ${pair%%:*} was installed but '${pair#*:}' is still not found" >&2
            exit 1
        fi
    done
    exit 0
fi

echo "error: 'make $want' needs these system packages, which are not installed: ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
    echo "install them with:  sudo apt-get install -y ${missing[*]}" >&2
else
    echo "install them with your package manager (Debian/Ubuntu: apt-get install -y ${missing[*]})" >&2
fi
echo "(or set SKIP_SYSDEPS=1 if your machine provides these programs some other way)" >&2
exit 1
