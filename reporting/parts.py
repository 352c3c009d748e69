"""A task's part files: its regions' rows in the task's own numbering, written by the task.

Parts are Arrow IPC files (Feather v2), LZ4-compressed: typed, fast to write and read, and
readable by any Arrow tool. One folder per task, named by its first region's key, inside the
run's parts folder; that folder must be visible to every worker (shared storage on a
cluster). A task does not create the run's folder: if it is gone, the run was stopped.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from reporting.publication import private_folder, remove_leftovers

PART_SUFFIX = ".arrow"
IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


@contextlib.contextmanager
def run_parts_folder(parent: Path | str) -> Iterator[Path]:
    """A fresh hidden folder for a run's parts in ``parent`` (``--parts-dir``, else inside
    the output folder), removed when the run ends, whatever happens. Part folders that dead
    runs left there are removed first."""
    parent = Path(parent).absolute()  # absolute: workers may run elsewhere
    parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(parent, ("parts",))
    folder = private_folder(parent, "parts")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def part_path(folder: Path | str, table: str) -> Path:
    """Where a task's part of ``table`` lives in the task's ``folder``."""
    return Path(folder) / f"{table}{PART_SUFFIX}"


PART_BATCH_ROWS = 8_192  # a part is written in batches of this many rows, read by range


def write_part(frame: pd.DataFrame, folder: Path | str, table: str) -> None:
    """Write one task's rows of ``table`` (written whole, then renamed into place), in
    batches of ``PART_BATCH_ROWS`` rows so that a range of rows can be read alone."""
    path = part_path(folder, table)
    path.parent.mkdir(exist_ok=True)  # not the run's folder: gone means the run was stopped
    partial = path.with_suffix(".partial")
    # one thread: a pool's start costs more than it saves on a task's tables
    arrow = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1).combine_chunks()
    # one chunk per column, cut into batches without a copy; at least one batch, even when
    # empty: it carries the categories of dictionary columns
    batches = arrow.to_batches(max_chunksize=PART_BATCH_ROWS) or [
        pa.RecordBatch.from_arrays(
            [column.combine_chunks() for column in arrow.columns], schema=arrow.schema
        )
    ]
    with pa.ipc.new_file(str(partial), arrow.schema, options=IPC_OPTIONS) as writer:
        for batch in batches:
            writer.write_batch(batch)
    partial.replace(path)


def read_part_rows(folder: Path | str, table: str, low: int, high: int) -> pa.Table:
    """Rows ``low`` .. ``high`` - 1 of one task's part of ``table`` as Arrow, with the types it
    was written with (only the batches holding them are read)."""
    with pa.ipc.open_file(str(part_path(folder, table))) as reader:
        first = low // PART_BATCH_ROWS
        last = max(first, (high - 1) // PART_BATCH_ROWS)
        batches = [
            reader.get_batch(i) for i in range(first, min(last + 1, reader.num_record_batches))
        ]
        rows = pa.Table.from_batches(batches, schema=reader.schema)
    return rows.slice(low - first * PART_BATCH_ROWS, high - low)


WINDOW_DAYS = 7  # day-ordered tables (census, events) are assembled a week at a time


def window_count(days: int) -> int:
    """How many windows cover simulation days 0 .. days - 1."""
    return max(1, -(-days // WINDOW_DAYS))


def write_windowed_part(frame: pd.DataFrame, day: np.ndarray, days: int, folder, table) -> None:
    """Write a day-ordered part (rows sorted by ``day``) as one record batch per window of
    ``WINDOW_DAYS`` days, so the final step can read every region's rows of one window."""
    path = part_path(folder, table)
    path.parent.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    # one chunk: each window's slice of it is one batch (a 4-year run has about 200 windows)
    arrow = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    empty = _empty_batch(arrow.schema)
    bounds = np.searchsorted(day, np.arange(window_count(days) + 1) * WINDOW_DAYS)
    with pa.ipc.new_file(str(partial), arrow.schema, options=IPC_OPTIONS) as writer:
        for low, high in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            batches = arrow.slice(low, high - low).to_batches() if high > low else [empty]
            if len(batches) > 1:
                raise ValueError(f"{table}: one window's rows do not fit in one Arrow batch")
            writer.write_batch(batches[0])
    partial.replace(path)


def read_part_windows(folder: Path | str, table: str, windows: range) -> pd.DataFrame:
    """One task's rows of a windowed ``table`` in the given windows."""
    with pa.ipc.open_file(str(part_path(folder, table))) as reader:
        batches = [reader.get_batch(window) for window in windows]
        return pa.Table.from_batches(batches, schema=reader.schema).to_pandas()


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)
