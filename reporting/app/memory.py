"""Handing freed memory back to the system between tasks.

Neither allocator a task uses returns much of what it frees on its own: glibc's malloc keeps
freed heap pages for reuse (its mmap threshold grows after the first large numpy arrays are
freed, so later ones come from the heap too), and Arrow's pool keeps its own. A worker that
has finished a 25,000-patient task would hold about 600 MB while it waits for the next task
or for the run to end, at the moment the main process is at its own peak.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import pyarrow as pa

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Return the memory this process has freed to the system (a few ms): Arrow's unused
    pool memory, then the C heap's free pages (``malloc_trim``, glibc only)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def releasing_memory(task: Callable[P, R]) -> Callable[P, R]:
    """``task``, then ``release_free_memory`` once its locals are gone (also after an error).
    The wrapper keeps the task's name, so process pools and Dask still send it by name."""

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return task(*args, **kwargs)
        finally:
            release_free_memory()

    return run
