"""Python's cyclic garbage collector while a region's clock runs.

A region's world (residents, doctors, hospitals, plans, the encounter plan) is built once and
lives through the whole run, while the timeline makes and drops millions of small objects
(SimPy events and processes, claims, bills). With the default thresholds the collector walks
the whole long-lived world again at every older-generation pass: 7-10% of the timeline's
time at 6,000 and 20,000 patients, against 2-3% with this setting. ``long_lived_world`` moves
what exists when the clock starts out of the collector's sight (``gc.freeze``) and collects
the young generation less often; both are undone when the clock stops, so a caller's own
program sees the interpreter as it was. Output does not depend on when the collector runs.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Objects allocated (less those freed) before a young-generation pass: the default 700 is
# passed within a few simulated hours of a large region. The older generations keep their
# default ratios. (A task frees its finished regions itself: see reporting.app.tasks.)
YOUNG_GENERATION_THRESHOLD = 50_000

_lock = threading.Lock()
_runs = 0  # clocks running now (a Dask worker may run tasks in several threads)
_saved: tuple[tuple[int, ...], bool] = ((), False)  # the thresholds before, and who froze


@contextmanager
def long_lived_world() -> Iterator[None]:
    """Run the body with the objects that exist now frozen and a higher young-generation
    threshold; thaw and restore the thresholds afterwards (also on an error). A program that
    has frozen objects of its own keeps them frozen: then nothing is frozen or thawed here.
    Clocks run at once in several threads share one setting, undone when the last ends."""
    global _runs, _saved
    with _lock:
        if _runs == 0:
            thresholds = gc.get_threshold()
            freeze = gc.get_freeze_count() == 0
            if freeze:
                gc.freeze()
            gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
            _saved = (thresholds, freeze)
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:
                thresholds, froze = _saved
                gc.set_threshold(*thresholds)
                if froze:
                    gc.unfreeze()
