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

import pyarrow as pa


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
