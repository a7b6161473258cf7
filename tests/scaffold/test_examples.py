"""examples/ci holds exactly what the commands in its README generate, so it cannot drift."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from tests.scaffold.workflows import init

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "ci"


def documented_commands() -> list[list[str]]:
    """The `contval init` commands in examples/ci/README.md's shell blocks, as arguments."""
    text = (EXAMPLES / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    commands = [shlex.split(block.replace("\\\n", " ")) for block in blocks]
    assert all(c[:2] == ["contval", "init"] for c in commands), commands
    return [c[2:] for c in commands]


def test_readme_documents_one_command_per_example() -> None:
    commands = documented_commands()
    files = sorted(c[c.index("--ci-file") + 1] for c in commands)
    assert files == ["examples/ci/azure-pipelines.yml", "examples/ci/github/contval.yml"]
    on_disk = sorted(
        str(p.relative_to(ROOT)) for p in EXAMPLES.rglob("*.yml") if p.name != "README.md"
    )
    assert files == on_disk


def test_examples_are_what_init_generates(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "contoso-shoes", tmp_path / "examples" / "contoso-shoes")
    for args in documented_commands():
        code, _, err = init(*args, str(tmp_path))
        assert (code, err) == (0, ""), err
        ci_file = args[args.index("--ci-file") + 1]
        generated = (tmp_path / ci_file).read_text()
        assert generated == (ROOT / ci_file).read_text(), (
            f"{ci_file} differs from what its command in examples/ci/README.md generates; "
            "run that command from the repository's root"
        )
        assert not (tmp_path / "contval.yaml").exists()  # the example suite was used as is
        header = re.search(r"#   Made by: (.*?)\n# Exit codes", generated, flags=re.DOTALL)
        assert header is not None
        made_by = shlex.split(re.sub(r"\\\n#\s+", " ", header[1]))
        assert made_by == ["contval", "init", *(a for a in args if a != "--force")]
