"""How a run ends when it is told to: SIGTERM (sent by `timeout`, container stops and service
managers) is handled like Ctrl-C, and worker processes never outlive the run that started
them, even when the run is killed with SIGKILL."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies (Linux)


class Terminated(KeyboardInterrupt):
    """The run received SIGTERM; it unwinds like Ctrl-C (nothing half-written is kept)."""


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread (elsewhere, or where
    signals cannot be set, nothing changes); the previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
