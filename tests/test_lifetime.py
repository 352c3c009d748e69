"""How a run ends: SIGTERM is handled like Ctrl-C (one line, exit 143, nothing written), and
worker processes die with the run that started them, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,  # each test starts real processes and waits for them
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux signals and prctl"),
]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, only not yet reaped
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_sigterm_stops_a_run_like_ctrl_c(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "run_sim.py"), "--patients", "30000", "--workers",
               "2", "--today", "2025-06-30", "--outdir", str(out)]  # fmt: skip
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # imported and simulating
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 143, stderr
    assert stderr.strip().splitlines() == ["run_sim.py: terminated; nothing was written"]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no staging or part folder left


def test_workers_die_when_their_run_is_killed(tmp_path):
    """A parent with a pool of the command line's kind is SIGKILLed while its worker sleeps
    in a task: the worker is gone within seconds instead of living on as an orphan."""
    script = textwrap.dedent(
        f"""
        import os, sys, time
        from concurrent.futures import ProcessPoolExecutor
        sys.path.insert(0, {str(ROOT)!r})
        from reporting.app.lifetime import die_with_parent

        pool = ProcessPoolExecutor(1, initializer=die_with_parent, initargs=(os.getpid(),))
        pool.submit(time.sleep, 600)
        print(next(iter(pool._processes)), flush=True)  # the worker's pid
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    assert alive(worker)
    parent.kill()
    parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)
