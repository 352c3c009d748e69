"""How a run ends when it is told to: SIGTERM (sent by `timeout`, container stops and service
managers) is handled like Ctrl-C, a signal while the program starts ends it without a
traceback, and worker processes never outlive the run that started them, even when the run
is killed with SIGKILL.

This module imports nothing heavy: the entry points install ``exit_quietly_on_interrupt``
before they import the rest of the program.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies (Linux)


class Terminated(KeyboardInterrupt):
    """The run received SIGTERM; it unwinds like Ctrl-C (nothing half-written is kept)."""


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated()


def program_name() -> str:
    """The name the program was invoked by: ``run_sim.py``, ``hospital-synth``, or
    ``python -m reporting.app`` / ``python -m run_sim``."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None:  # python -m ...
        return f"python -m {spec.name.removesuffix('.__main__')}"
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "hospital-synth"


def exit_quietly_on_interrupt() -> None:
    """Until ``interrupts`` takes over: Ctrl-C or SIGTERM ends the program at once with one
    line and status 130 or 143 (nothing has been written yet), instead of a traceback from
    the middle of an import."""

    def stop(signum: int, frame) -> None:
        what = "interrupted" if signum == signal.SIGINT else "terminated"
        os.write(2, f"{program_name()}: {what}; nothing was written\n".encode())
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """Within the block, in the main thread, Ctrl-C raises ``KeyboardInterrupt`` and SIGTERM
    ``Terminated`` (elsewhere nothing changes); the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_terminated),
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


def die_with_parent(parent: int) -> None:
    """A worker process's initializer: ask the kernel to send SIGKILL when the process that
    started it dies (Linux), and stop at once if that has already happened."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a process pool's workers and shut it down without waiting for their running tasks
    (a task keeps nothing but its part files, which the run removes anyway)."""
    for process in list((pool._processes or {}).values()):  # no public way before Python 3.14
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)
