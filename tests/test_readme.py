"""Contract: every command and code block of README.md runs as written.

The blocks run in order in one scratch folder (a later block may read what an earlier one
wrote), with ``run_sim.py`` linked into it and a ZIP pool file written by the test under the
name the README uses. A block preceded by ``<!-- readme-test: skip (reason) -->`` is not run:
the install commands, the test suite itself, and examples that need a server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import attrs

from sim.geography import load_zip_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b[^>]*-->\s*$")
POOL_FILE = "us_zip_pool_10k_with_state.csv"


@attrs.frozen
class Block:
    language: str
    code: str
    line: int  # where the block starts in README.md
    skipped: bool


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with their language and skip marks."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append(
            Block(
                language=match.group(1),
                code=match.group(2),
                line=text.count("\n", 0, match.start()) + 1,
                skipped=bool(SKIP.search(before)),
            )
        )
    return blocks


def runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.language in ("bash", "python") and not b.skipped]


def write_pool_file(folder: Path) -> None:
    """A ZIP pool like the users' own: every 12th known ZIP plus Midtown Manhattan's, with
    their state."""
    zips = load_zip_table()
    keep = [z for i, z in enumerate(zips.zipcode) if i % 12 == 0 or z == "10036"]
    state = dict(zip(zips.zipcode, zips.state))
    lines = ["zipcode,state", *(f"{z},{state[z]}" for z in keep)]
    (folder / POOL_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_block_parser_sees_languages_and_skip_marks():
    text = (
        "x\n<!-- readme-test: skip (installs) -->\n```bash\npip install x\n```\n\n"
        "```python\nprint(1)\n```\n"
    )
    blocks = readme_blocks(text)
    assert [(b.language, b.skipped, b.line) for b in blocks] == [
        ("bash", True, 3),
        ("python", False, 7),
    ]
    assert runnable(blocks) == [blocks[1]]


def test_the_readme_has_runnable_blocks_and_marks_only_what_cannot_run():
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    assert len(runnable(blocks)) >= 5
    assert all(b.language in ("bash", "python", "text", "") for b in blocks)


def environment() -> dict[str, str]:
    """The test's Python first on PATH (``python`` is this interpreter), the checkout importable."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env.pop("CI", None)
    return env


def test_every_readme_block_runs_as_written(tmp_path):
    """The blocks in README order, in one folder, so a later block may use an earlier one's
    files (one test, so that parallel test runs keep the order)."""
    (tmp_path / "run_sim.py").symlink_to(ROOT / "run_sim.py")
    write_pool_file(tmp_path)
    for block in runnable(readme_blocks(README.read_text(encoding="utf-8"))):
        if block.language == "bash":
            command = ["bash", "-euo", "pipefail", "-c", block.code]
        else:
            command = [sys.executable, "-c", block.code]
        result = subprocess.run(
            command, cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, (
            f"README.md line {block.line} failed:\n{block.code}\n{result.stdout[-2000:]}"
            f"\n{result.stderr[-2000:]}"
        )
