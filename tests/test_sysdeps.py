"""scripts/sysdeps.sh: `make demo` and `make test` install their Debian packages, or say how.

The script is run for real by bash with a PATH built for each case: a folder holding only the
programs the case says are present (small executables named like them), so "missing" is real
for the script. The non-root case drops to user `nobody` with setpriv, as a developer's shell.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "sysdeps.sh"
MAKEFILE = ROOT / "Makefile"


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder user `nobody` can read (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="contval-sysdeps-"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _bin(tmp: Path, present: list[str]) -> Path:
    """A PATH folder with `id`, `python` and the `present` programs (stand-ins that exit 0).

    The `python` stand-in answers the script's "can you make a venv?" probe with yes.
    """
    folder = tmp / "bin"
    folder.mkdir(mode=0o755)
    real_id = shutil.which("id")
    assert real_id is not None
    (folder / "id").symlink_to(real_id)
    for name in ["python", *present]:
        stub = folder / name
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return folder


def _run(folder: Path, want: str, *, as_nobody: bool) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(folder), "PYTHON": "python", "HOME": "/"}
    prefix: list[str] = []
    if as_nobody:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("setpriv (util-linux) is needed to run the script as a non-root user")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [*prefix, bash, str(SCRIPT), want],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_not_root_stops_at_once_with_the_exact_command(tmp_path: Path) -> None:
    done = _run(_bin(tmp_path, []), "test", as_nobody=True)
    assert done.returncode == 1
    assert "not installed: procps stress-ng chromium prometheus" in done.stderr
    # no apt-get on this PATH: the message still names the Debian command
    assert "apt-get install -y procps stress-ng chromium prometheus" in done.stderr


def test_demo_needs_no_browser(tmp_path: Path) -> None:
    done = _run(_bin(tmp_path, ["pgrep"]), "demo", as_nobody=True)
    assert done.returncode == 1
    assert "not installed: stress-ng\n" in done.stderr
    assert "chromium" not in done.stderr
    assert "prometheus" not in done.stderr


def test_a_python_without_venv_needs_python3_venv(tmp_path: Path) -> None:
    folder = _bin(tmp_path, ["pgrep", "stress-ng"])
    (folder / "python").write_text("#!/bin/sh\nexit 1\n")  # like Debian's python3 alone
    done = _run(folder, "demo", as_nobody=True)
    assert done.returncode == 1
    assert "not installed: python3-venv\n" in done.stderr


def test_nothing_missing_installs_nothing(tmp_path: Path) -> None:
    # apt-get is present but must not run: it would fail loudly (exit 9) if called
    folder = _bin(tmp_path, ["pgrep", "stress-ng", "chromium", "prometheus"])
    (folder / "apt-get").write_text("#!/bin/sh\necho apt-get was called >&2\nexit 9\n")
    (folder / "apt-get").chmod(0o755)
    done = _run(folder, "test", as_nobody=False)
    assert (done.returncode, done.stderr) == (0, "")


def test_root_installs_what_is_missing_with_apt_get(tmp_path: Path) -> None:
    """As root, the missing packages go to apt-get install (here a recording stand-in for it)."""
    folder = _bin(tmp_path, ["pgrep"])
    log = tmp_path / "apt.log"
    # The stand-in records its arguments and "installs" by creating the programs.
    (folder / "apt-get").write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {log}\n'
        'case "$1" in install)'
        f' for p in stress-ng chromium prometheus; do printf "#!/bin/sh\\n" > {folder}/$p;'
        f" chmod 755 {folder}/$p; done;; esac\n"
    )
    (folder / "apt-get").chmod(0o755)
    (folder / "sh").symlink_to(shutil.which("sh") or "/bin/sh")
    (folder / "printf").symlink_to(shutil.which("printf") or "/usr/bin/printf")
    (folder / "chmod").symlink_to(shutil.which("chmod") or "/bin/chmod")
    if os.geteuid() != 0:
        pytest.skip("the install branch runs only as root")
    done = _run(folder, "test", as_nobody=False)
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        "update -qq",
        "install -y -qq stress-ng chromium prometheus",
    ]


def test_the_make_targets_check_first() -> None:
    """demo, smoke and test run the check before anything else; CI installs nothing itself."""
    text = MAKEFILE.read_text()
    assert "\ndemo: sysdeps-demo " in text
    assert "\nsmoke: sysdeps-demo " in text
    assert "\ntest: sysdeps-test " in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get" not in ci
    assert "make test" in ci and "make smoke" in ci
