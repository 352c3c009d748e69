"""The order of the dataset's rows, so that any first rows of a table are a fair sample.

Visits (and their bills) are numbered by admission day, patients by the day of their first
written visit (patients without one last); ties go by region key, then by the region's own
order (admission order, registration order). Rows are numbered within a task in that order
(``ids_in_order``); the final step merges the tasks' small sort keys (``KeyOrder``) into the
dataset's numbering, so the IDs never depend on how regions were grouped into tasks.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import numpy as np

NO_VISIT_DAY = np.iinfo(np.int32).max  # the sort day of a patient without a written visit


def ids_in_order(day: np.ndarray, region: np.ndarray) -> np.ndarray:
    """1-based IDs for rows numbered by ``day``, then ``region``, then their position."""
    order = np.lexsort((region, day))
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.arange(1, len(order) + 1)
    return ids


def remap(ids: np.ndarray, id_map: np.ndarray) -> np.ndarray:
    """``id_map[id - 1]`` for each ID, and -1 where the ID is not one (-1: none)."""
    return np.append(id_map, -1)[np.where(ids > 0, ids - 1, len(id_map))]


@attrs.frozen
class RowKeys:
    """The sort keys of one task's patients or visits, in its own (already sorted) row order:
    the sort day (int32) and the row's region index within the task."""

    day: np.ndarray
    region: np.ndarray


class KeyOrder:
    """The dataset's numbering of one kind of row (patients or visits) from every task's
    ``RowKeys`` (tasks in key order, with the index of each task's first region)."""

    def __init__(self, keys: list[RowKeys], first_regions: list[int]) -> None:
        day = np.concatenate([k.day for k in keys]) if keys else np.zeros(0, np.int32)
        region = (
            np.concatenate([k.region.astype(np.int32) + f for k, f in zip(keys, first_regions)])
            if keys
            else np.zeros(0, np.int32)
        )
        ids = ids_in_order(day, region)
        bounds = np.cumsum([0, *(len(k.day) for k in keys)])
        self.ids = np.split(ids, bounds[1:-1])
        task = np.repeat(np.arange(len(keys), dtype=np.int32), np.diff(bounds))
        self._task_in_order = np.empty_like(task)
        self._task_in_order[ids - 1] = task
        self.rows = len(ids)

    def id_map(self, task: int) -> np.ndarray:
        """Task ``task``'s dataset IDs, indexed by its own ID - 1."""
        return self.ids[task]

    def slices(self, step: int) -> Iterator[tuple[int, list[tuple[int, int]]]]:
        """The dataset's rows ``step`` at a time: the first ID - 1 of each slice and each
        task's rows in it, a contiguous range of the task's own (sorted) rows."""
        tasks = len(self.ids)
        cursor = np.zeros(tasks, dtype=np.int64)
        for low in range(0, max(self.rows, 1), step):  # an empty table: one empty slice
            counts = np.bincount(self._task_in_order[low : low + step], minlength=tasks)
            yield low, list(zip(cursor.tolist(), (cursor + counts).tolist()))
            cursor += counts
