"""Making the next item of a stream while the caller uses this one: the final step reads and
orders a table's next slice in a thread while this one is written. Both are mostly Arrow and
numpy work that releases the GIL, so on two cores they overlap."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` in order, each made in a background thread while the caller
    works on the one before (at most one waits ready, so memory holds at most three). An
    error in the thread is raised here; if the caller stops early (an error, Ctrl-C, a
    ``break``), the thread stops after the item it is making."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(ready, (item, None), stop):
                    return
            _put(ready, (_DONE, None), stop)
        except BaseException as error:  # handed to the caller, who raises it
            _put(ready, (_DONE, error), stop)

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _put(ready: queue.Queue, entry: tuple, stop: threading.Event) -> bool:
    """Hand ``entry`` over unless the caller has stopped; False when it has."""
    while not stop.is_set():
        try:
            ready.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
