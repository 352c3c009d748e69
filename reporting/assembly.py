"""The final step of a run whose regions ran as tasks: the dataset assembled from the tasks'
part files, some rows at a time, after every task has finished.

Each task numbered its rows in the dataset's order (``reporting.ordering``) and sent back
their sort keys; ``Layout`` merges those small keys into the dataset's IDs and names the
doctors and hospitals (``reporting.naming``), so the files do not depend on how many workers
ran or how regions were grouped into tasks. A slice of the dataset's order is a contiguous
range of rows of every task's part, so a table is written slice by slice: the ranges are read
(only the part's batches holding them), their IDs and names replaced, and the rows put in
order. Memory holds the sort keys (a few bytes per row) and one slice at a time. The census
and the event log, ordered by day, are assembled some weeks at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from reporting.census import finish_census, globalize_census
from reporting.dimensions import doctors_table, hospitals_table
from reporting.eventlog import finish_events, globalize_events
from reporting.naming import RegionNames, dataset_names
from reporting.ordering import KeyOrder
from reporting.parts import read_part_rows, read_part_windows, window_count
from reporting.recorder import Tables

SLICE_ROWS = 500_000  # about this many rows of a table are assembled at once

ID_KINDS = {  # which numbering each ID column of a task's tables follows
    "patients": {"patient_id": "patients", "mother_patient_id": "patients"},
    "visits": {"visit_id": "visits", "episode_id": "visits", "patient_id": "patients"},
    "billing": {"billing_id": "visits", "visit_id": "visits", "patient_id": "patients"},
    "conditions": {"patient_id": "patients", "episode_id": "visits"},
    "coverage": {"patient_id": "patients"},
    "continuity": {"patient_id": "patients"},
}
PER_PATIENT_ROWS = {
    "continuity": "continuity_rows",
    "conditions": "condition_rows",
    "coverage": "coverage_rows",
}
NUMBERED_HERE = {"conditions": "condition_id", "coverage": "coverage_id"}
ORDERED_BY = {"patients": "patient_id", "visits": "visit_id", "billing": "billing_id"}


class Layout:
    """The dataset's numbering of the tasks' rows (``GroupResult``s in key order): their
    patients' and visits' IDs, and their doctors' and hospitals' IDs and names."""

    def __init__(self, results: list) -> None:
        self.results = results
        self.facts = [facts for result in results for facts in result.facts]
        self.names = dataset_names(self.facts)
        first_regions = np.cumsum([0, *(len(r.facts) for r in results)])[:-1].tolist()
        self.first_regions = first_regions
        self.tasks = [
            _task_names(self.names[f : f + len(r.facts)]) for r, f in zip(results, first_regions)
        ]
        self.doctors = pa.array([n for names in self.names for n in names.doctors], pa.string())
        self.hospitals = pa.array([n for names in self.names for n in names.hospitals], pa.string())
        self.orders = {
            "patients": KeyOrder([r.patient_keys for r in results], first_regions),
            "visits": KeyOrder([r.visit_keys for r in results], first_regions),
        }

    def globalize(self, table: str, task: int, rows: pa.Table) -> pa.Table:
        """A task's rows of ``table`` with the dataset's IDs and doctor and hospital names."""
        names = self.tasks[task]
        offsets = {"doctor": names.doctor_offset, "hospital": names.hospital_offset}
        dictionaries = {"doctor": self.doctors, "hospital": self.hospitals}
        columns = []
        for name, column in zip(rows.column_names, rows.columns):
            if name in ID_KINDS[table]:
                id_map = self.orders[ID_KINDS[table][name]].id_map(task)
                ids = pa.chunked_array(column).combine_chunks()
                present = ids.is_valid().to_numpy(zero_copy_only=False)
                values = ids.fill_null(1).to_numpy()
                column = pa.array(id_map[values - 1], pa.int64(), mask=~present)
            elif name in ("doctor_id", "hospital_id"):
                column = pa.array(column.to_numpy() + offsets[name[: -len("_id")]], pa.int64())
            elif name in dictionaries:
                indices = pa.chunked_array(column).combine_chunks().indices.to_numpy()
                column = pa.DictionaryArray.from_arrays(
                    pa.array(indices.astype(np.int32) + offsets[name], pa.int32()),
                    dictionaries[name],
                )
            columns.append(column)
        return pa.table(columns, schema=_schema_of(rows, columns))


def _task_names(regions: list[RegionNames]) -> RegionNames:
    """A task's regions' names joined, as the task's own codes number them."""
    return RegionNames(
        doctor_offset=regions[0].doctor_offset,
        hospital_offset=regions[0].hospital_offset,
        doctors=[name for region in regions for name in region.doctors],
        hospitals=[name for region in regions for name in region.hospitals],
    )


def _schema_of(rows: pa.Table, columns: list) -> pa.Schema:
    fields = [field.with_type(column.type) for field, column in zip(rows.schema, columns)]
    return pa.schema(fields, metadata=rows.schema.metadata)


def region_table_slices(layout: Layout, table: str) -> Iterator[pa.Table]:
    """A per-patient table in the dataset's order, ``SLICE_ROWS`` rows of its numbering at a
    time; every slice is checked to hold exactly the next IDs. The problem list's rows (in
    order of patient, then as its task ordered them) and the coverage spells are numbered
    here."""
    per_patient = PER_PATIENT_ROWS.get(table)
    order = layout.orders["visits" if table in ("visits", "billing") else "patients"]
    numbered = 0
    for low, ranges in order.slices(SLICE_ROWS):
        rows = _ordered_slice(layout, table, per_patient, ranges)
        if table in NUMBERED_HERE:
            column = NUMBERED_HERE[table]
            ids = pa.array(np.arange(numbered + 1, numbered + 1 + rows.num_rows), pa.int64())
            rows = rows.set_column(rows.schema.get_field_index(column), column, ids)
            numbered += rows.num_rows
        if table in ORDERED_BY:
            check_ids(table, rows, low)
        yield rows


def _ordered_slice(layout: Layout, table: str, per_patient: str | None, ranges: list) -> pa.Table:
    """Each task's range of rows of ``table`` (ranges of patients for a per-patient table),
    with the dataset's IDs, in the dataset's order; the parts' batches read for it are freed
    on return, before the slice is written."""
    pieces = []
    for task, (result, (first, last)) in enumerate(zip(layout.results, ranges)):
        if per_patient is not None:
            counts = getattr(result, per_patient)
            starts = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
            first, last = int(starts[first]), int(starts[last])
        rows = read_part_rows(result.folder, table, first, last)
        pieces.append(layout.globalize(table, task, rows))
    rows = pa.concat_tables(pieces)
    key = rows[ORDERED_BY.get(table, "patient_id")].to_numpy()
    return rows.take(pa.array(np.argsort(key, kind="stable")))


def check_ids(table: str, rows: pa.Table, low: int) -> None:
    """A slice of a table must hold exactly IDs ``low`` + 1, ``low`` + 2, ... in order, so
    that the written IDs are 1..N. A failure is a bug, not bad input."""
    ids = rows[ORDERED_BY[table]].to_numpy()
    if not np.array_equal(ids, np.arange(low + 1, low + 1 + len(ids))):
        raise RuntimeError(f"{table}: the IDs of rows {low + 1}.. are not consecutive")


def census_slices(layout: Layout, days: int) -> Iterator[pa.Table]:
    """The census some weeks at a time, in its final order."""
    for windows in window_ranges(layout.results, "census", days):
        census = finish_census(
            [
                globalize_census(
                    read_part_windows(r.folder, "census", windows), n.hospitals, n.hospital_offset
                )
                for r, n in zip(layout.results, layout.tasks)
            ]
        )
        yield pa.Table.from_pandas(census, preserve_index=False)


def event_slices(layout: Layout, days: int, start: dt.date) -> Iterator[pa.Table]:
    """The event log some weeks at a time, in its final order and numbering."""
    next_id = 1
    for windows in window_ranges(layout.results, "events", days):
        frames = [
            globalize_events(
                read_part_windows(r.folder, "events", windows),
                first_region,
                layout.orders["patients"].id_map(task),
                layout.orders["visits"].id_map(task),
                names,
            )
            for task, (r, first_region, names) in enumerate(
                zip(layout.results, layout.first_regions, layout.tasks)
            )
        ]
        events = finish_events(pd.concat(frames, ignore_index=True), start, first_id=next_id)
        next_id += len(events)
        yield pa.Table.from_pandas(events, preserve_index=False)


def window_ranges(results: list, table: str, days: int) -> list[range]:
    """Consecutive windows taken together so that a slice holds about ``SLICE_ROWS`` rows
    (the rows are assumed spread evenly over the days)."""
    count = window_count(days)
    rows = sum(result.rows[table] for result in results)
    step = max(1, int(SLICE_ROWS * count / max(rows, 1)))
    return [range(low, min(low + step, count)) for low in range(0, count, step)]


def table_slices(layout: Layout, table: str, days: int, start: dt.date) -> Iterator[pa.Table]:
    """Any table of the dataset as a stream of Arrow slices in final order."""
    if table == "doctors":
        return iter([_arrow(doctors_table(layout.facts, layout.names, start))])
    if table == "hospitals":
        return iter([_arrow(hospitals_table(layout.facts, layout.names))])
    if any(table not in result.rows for result in layout.results):
        raise ValueError(f"the tasks did not write {table} parts: ask for it in PartOptions")
    if table == "census":
        return census_slices(layout, days)
    if table == "events":
        return event_slices(layout, days, start)
    return region_table_slices(layout, table)


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def whole_table(layout: Layout, table: str, days: int, start: dt.date) -> pd.DataFrame:
    """One table of the dataset in memory (for the Python API)."""
    return pa.concat_tables(list(table_slices(layout, table, days, start))).to_pandas()


def tables_from_parts(layout: Layout, days: int, start: dt.date) -> Tables:
    """The patients, visits, billing, conditions and coverage tables in memory (for the
    Python API)."""
    names = ("patients", "visits", "billing")
    frames = [whole_table(layout, table, days, start) for table in names]
    return Tables(
        *frames,
        conditions=whole_table(layout, "conditions", days, start),
        coverage=whole_table(layout, "coverage", days, start),
        as_of=start + dt.timedelta(days=days - 1),
    )
