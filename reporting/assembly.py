"""The final step of a run whose regions ran as tasks: the dataset assembled from the tasks'
part files, one task (or, for day-ordered tables, some weeks) at a time.

Regions are taken in key order; each region's IDs are offset by the rows of the regions before
it and its doctors and hospitals get the dataset's names (``Numbering``), exactly as the
in-memory recorder numbers them, so the files do not depend on how many workers ran. The
per-patient tables are written task by task while later tasks still run
(``RegionTablesWriter``); the census and the event log, ordered by day, are assembled after
all tasks, some weeks at a time. Memory holds one task's rows of one table (or some weeks of
census or events) at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import attrs
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reporting.census import finish_census, globalize_census
from reporting.eventlog import finish_events, globalize_events
from reporting.parts import read_part, read_part_windows, window_count
from reporting.recorder import Numbering, Tables, concatenate

REGION_TABLES = ("patients", "visits", "billing", "continuity")


@attrs.frozen
class TaskNumbers:
    """A task's place in the dataset: its first region's index among all regions, where its
    IDs start, and its regions' doctor and hospital names, joined in region order."""

    first_region: int
    patient_offset: int
    visit_offset: int
    doctors: list[str]
    hospitals: list[str]


def next_task_numbers(numbering: Numbering, result) -> TaskNumbers:
    """The numbers of the task after those ``numbering`` has seen (tasks in key order)."""
    regions = [
        numbering.region(
            facts.key,
            facts.doctor_names,
            [h.name for h in facts.hospitals],
            result.rows["patients"] if index == 0 else 0,  # a task's rows follow its first region
            result.rows["visits"] if index == 0 else 0,
        )
        for index, facts in enumerate(result.facts)
    ]
    return TaskNumbers(
        first_region=regions[0].index,
        patient_offset=regions[0].patient_offset,
        visit_offset=regions[0].visit_offset,
        doctors=[name for region in regions for name in region.doctors],
        hospitals=[name for region in regions for name in region.hospitals],
    )


def task_numbers(results: list) -> list[TaskNumbers]:
    """The numbers of every task (``GroupResult``s in key order)."""
    numbering = Numbering()
    return [next_task_numbers(numbering, result) for result in results]


ID_OFFSETS = {  # which offset each ID column of a task's tables gets
    "patients": {"patient_id": "patient"},
    "visits": {"visit_id": "visit", "patient_id": "patient"},
    "billing": {"billing_id": "visit", "visit_id": "visit", "patient_id": "patient"},
    "continuity": {"patient_id": "patient"},
}


def globalize_table(
    table: str,
    rows: pa.Table,
    patient_offset: int,
    visit_offset: int,
    doctor_names: list[str],
    hospital_names: list[str],
) -> pa.Table:
    """A task's rows of ``table`` (patients, visits, billing, continuity) with the dataset's
    IDs (offsets added) and doctor and hospital names (the task's names replaced, in order)."""
    offsets = {"patient": patient_offset, "visit": visit_offset}
    renamed = {"doctor": doctor_names, "hospital": hospital_names} if table == "visits" else {}
    columns = []
    for name, column in zip(rows.column_names, rows.columns):
        if name in ID_OFFSETS[table]:
            column = pc.add(column, pa.scalar(offsets[ID_OFFSETS[table][name]], column.type))
        elif name in renamed:
            labels = pa.array(renamed[name], type=column.type.value_type)
            column = pa.chunked_array(
                [pa.DictionaryArray.from_arrays(chunk.indices, labels) for chunk in column.chunks],
                type=column.type,
            )
        columns.append(column)
    return pa.table(columns, schema=rows.schema)


def task_rows(result, table: str, numbers: TaskNumbers) -> pa.Table:
    """One task's rows of ``table`` (patients, visits, billing, continuity), as in the dataset."""
    return globalize_table(
        table,
        read_part(result.folder, table),
        numbers.patient_offset,
        numbers.visit_offset,
        numbers.doctors,
        numbers.hospitals,
    )


class RegionTablesWriter:
    """Hands each task's rows of the per-patient tables to ``write(table, rows)`` as soon as
    every task before it (in key order) has been handed on, so the dataset is assembled while
    later tasks still run; tasks may arrive in any order."""

    def __init__(
        self, task_keys: list[str], tables: list[str], write: Callable[[str, pa.Table], None]
    ) -> None:
        self._waiting_for = sorted(task_keys)
        self._tables = tables
        self._write = write
        self._arrived: dict[str, object] = {}
        self._numbering = Numbering()

    def add(self, result) -> None:
        """A task finished: write it and any tasks after it that were waiting for it."""
        self._arrived[result.facts[0].key] = result
        while self._waiting_for and self._waiting_for[0] in self._arrived:
            ready = self._arrived.pop(self._waiting_for.pop(0))
            numbers = next_task_numbers(self._numbering, ready)
            for table in self._tables:
                rows = task_rows(ready, table, numbers)
                check_ids(table, rows, numbers)
                self._write(table, rows)

    @property
    def complete(self) -> bool:
        """Whether every task has been written."""
        return not self._waiting_for


FIRST_IDS = {"patients": "patient_id", "visits": "visit_id", "billing": "billing_id"}


def check_ids(table: str, rows: pa.Table, numbers: TaskNumbers) -> None:
    """The written IDs must run on from the previous task's (validation checks each task's
    own numbering; this checks the dataset's). A failure is a bug, not bad input."""
    column = FIRST_IDS.get(table)
    if column is None or rows.num_rows == 0:
        return
    offset = numbers.patient_offset if table == "patients" else numbers.visit_offset
    bounds = pc.min_max(rows[column])
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if (low, high) != (offset + 1, offset + rows.num_rows):
        raise RuntimeError(
            f"{table}: IDs {low}..{high} of a task do not follow ID {offset} of the one before"
        )


def census_slices(results: list, days: int) -> Iterator[pa.Table]:
    """The census some weeks at a time, in its final order."""
    numbers = task_numbers(results)
    for windows in window_ranges(results, "census", days):
        census = finish_census(
            [
                globalize_census(read_part_windows(r.folder, "census", windows), n.hospitals)
                for r, n in zip(results, numbers)
            ]
        )
        yield pa.Table.from_pandas(census, preserve_index=False)


def event_slices(results: list, days: int, start: dt.date) -> Iterator[pa.Table]:
    """The event log some weeks at a time, in its final order and numbering."""
    numbers = task_numbers(results)
    next_id = 1
    for windows in window_ranges(results, "events", days):
        frames = [
            globalize_events(
                read_part_windows(r.folder, "events", windows),
                n.first_region,
                n.patient_offset,
                n.visit_offset,
                n.doctors,
                n.hospitals,
            )
            for r, n in zip(results, numbers)
        ]
        events = finish_events(pd.concat(frames, ignore_index=True), start, first_id=next_id)
        next_id += len(events)
        yield pa.Table.from_pandas(events, preserve_index=False)


SLICE_ROWS = 500_000  # about this many rows of a day-ordered table are assembled at once


def window_ranges(results: list, table: str, days: int) -> list[range]:
    """Consecutive windows taken together so that a slice holds about ``SLICE_ROWS`` rows
    (the rows are assumed spread evenly over the days)."""
    count = window_count(days)
    rows = sum(result.rows[table] for result in results)
    step = max(1, int(SLICE_ROWS * count / max(rows, 1)))
    return [range(low, min(low + step, count)) for low in range(0, count, step)]


def table_slices(results: list, table: str, days: int, start: dt.date) -> Iterator[pa.Table]:
    """Any table of the dataset as a stream of Arrow slices in final order."""
    if any(table not in result.rows for result in results):
        raise ValueError(f"the tasks did not write {table} parts: ask for it in PartOptions")
    if table == "census":
        return census_slices(results, days)
    if table == "events":
        return event_slices(results, days, start)
    return (
        task_rows(result, table, numbers) for result, numbers in zip(results, task_numbers(results))
    )


def whole_table(results: list, table: str, days: int, start: dt.date) -> pd.DataFrame:
    """One table of the dataset in memory (for the Python API)."""
    return pa.concat_tables(list(table_slices(results, table, days, start))).to_pandas()


def tables_from_parts(results: list) -> Tables:
    """The patients, visits and billing tables in memory (for the Python API)."""
    groups = [
        Tables(
            *(
                task_rows(result, table, numbers).to_pandas()
                for table in ("patients", "visits", "billing")
            )
        )
        for result, numbers in zip(results, task_numbers(results))
    ]
    return concatenate(groups)
