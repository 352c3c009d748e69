"""A finished task hands the memory it freed back to the system (glibc's heap keeps it
otherwise): a worker waiting for its next task, or for the run to end, stays small."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")

# A task that makes 2,000 heap blocks of 100 kB (below malloc's mmap threshold) and one small
# block above them that stays, so that freeing them cannot shrink the heap from its top.
SCRIPT = textwrap.dedent(
    """
    import os, sys, numpy as np
    from reporting.app.memory import release_free_memory, releasing_memory

    def rss_mb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    kept = []

    def task():
        blocks = [np.ones(12_800) for _ in range(2_000)]
        kept.append(np.ones(1_000))
        return len(blocks)

    before = rss_mb()
    if sys.argv[1] == "decorated":
        releasing_memory(task)()
        held = None
    else:
        task()
        held = rss_mb()
        if sys.argv[1] == "released":
            release_free_memory()
    print(before, held, rss_mb())
    """
)


def run_task(how: str) -> tuple[float, float | None, float]:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, how], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, held, after = run.stdout.split()
    return float(before), None if held == "None" else float(held), float(after)


def test_freed_heap_memory_stays_with_the_process_unless_released():
    before, held, after = run_task("kept")
    assert held - before > 100 and after - before > 100  # of the 200 MB freed
    before, held, after = run_task("released")
    assert held - before > 100 and after - before < 30, (before, held, after)


def test_a_task_releases_its_memory_once_it_returns():
    before, _, after = run_task("decorated")
    assert after - before < 30, (before, after)
