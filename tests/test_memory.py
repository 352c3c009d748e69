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

# 2,000 heap blocks of 100 kB (below malloc's mmap threshold), then one small block above them
# that stays, so that freeing them cannot shrink the heap from its top.
SCRIPT = textwrap.dedent(
    """
    import os, numpy as np
    from reporting.app.memory import release_free_memory

    def rss_mb():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    before = rss_mb()
    blocks = [np.ones(12_800) for _ in range(2_000)]
    keeper = np.ones(1_000)
    del blocks
    held = rss_mb()
    release_free_memory()
    print(before, held, rss_mb())
    """
)


def test_freed_heap_memory_goes_back_to_the_system():
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, held, released = map(float, run.stdout.split())
    assert held - before > 100, "the heap should have kept most of the 200 MB freed"
    assert released - before < 30, (before, held, released)
