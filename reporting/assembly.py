"""The final step of a run whose regions ran as tasks: the dataset assembled from the regions'
part files, one region (or, for day-ordered tables, one week) at a time.

Regions are taken in key order; each region's IDs are offset by the rows of the regions before
it and its doctors and hospitals get the dataset's names (``DatasetNames``), exactly as the
in-memory recorder numbers them, so the files do not depend on how many workers ran.
Memory holds one region's slice of one table (or one week of census or events) at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd

from reporting.census import finish_census, globalize_census
from reporting.eventlog import finish_events, globalize_events
from reporting.parts import read_part, read_part_windows, window_count
from reporting.recorder import DatasetNames, Tables, concatenate, globalize_table

REGION_TABLES = ("patients", "visits", "billing", "continuity")


def dataset_names(results: list) -> DatasetNames:
    """Offsets and names of every region run as a task (``GroupResult``s in key order); a
    group's rows count towards its first region, the others' offsets are not used."""
    regions = [facts for result in results for facts in result.facts]

    def rows(table: str) -> list[int]:
        return [
            result.rows[table] if index == 0 else 0
            for result in results
            for index in range(len(result.facts))
        ]

    return DatasetNames.of(
        [r.key for r in regions],
        [r.doctor_names for r in regions],
        [[h.name for h in r.hospitals] for r in regions],
        rows("patients"),
        rows("visits"),
    )


def group_names(results: list, names: DatasetNames) -> list[tuple[int, int, int, list, list]]:
    """Per group: its first region's index, its ID offsets and its regions' names joined."""
    groups = []
    first = 0
    for result in results:
        last = first + len(result.facts)
        groups.append(
            (
                first,
                names.patient_offsets[first],
                names.visit_offsets[first],
                [name for doctors in names.doctors[first:last] for name in doctors],
                [name for hospitals in names.hospitals[first:last] for name in hospitals],
            )
        )
        first = last
    return groups


def region_slices(results: list, table: str, names: DatasetNames) -> Iterator[pd.DataFrame]:
    """The rows of ``table`` (patients, visits, billing, continuity), group by group."""
    for result, (_, *globalized) in zip(results, group_names(results, names)):
        yield globalize_table(table, read_part(result.folder, table), *globalized)


def census_slices(results: list, names: DatasetNames, days: int) -> Iterator[pd.DataFrame]:
    """The census some weeks at a time, in its final order."""
    groups = group_names(results, names)
    for windows in window_ranges(results, "census", days):
        yield finish_census(
            [
                globalize_census(read_part_windows(r.folder, "census", windows), hospitals)
                for r, (*_, hospitals) in zip(results, groups)
            ]
        )


def event_slices(
    results: list, names: DatasetNames, days: int, start: dt.date
) -> Iterator[pd.DataFrame]:
    """The event log some weeks at a time, in its final order and numbering."""
    groups = group_names(results, names)
    next_id = 1
    for windows in window_ranges(results, "events", days):
        frames = [
            globalize_events(read_part_windows(r.folder, "events", windows), *group)
            for r, group in zip(results, groups)
        ]
        events = finish_events(pd.concat(frames, ignore_index=True), start, first_id=next_id)
        next_id += len(events)
        yield events


SLICE_ROWS = 500_000  # about this many rows of a day-ordered table are assembled at once


def window_ranges(results: list, table: str, days: int) -> list[range]:
    """Consecutive windows taken together so that a slice holds about ``SLICE_ROWS`` rows
    (the rows are assumed spread evenly over the days)."""
    count = window_count(days)
    rows = sum(result.rows[table] for result in results)
    step = max(1, int(SLICE_ROWS * count / max(rows, 1)))
    return [range(low, min(low + step, count)) for low in range(0, count, step)]


def table_slices(results: list, table: str, days: int, start: dt.date) -> Iterator[pd.DataFrame]:
    """Any table of the dataset as a stream of slices in final order."""
    names = dataset_names(results)
    if table == "census":
        return census_slices(results, names, days)
    if table == "events":
        return event_slices(results, names, days, start)
    return region_slices(results, table, names)


def tables_from_parts(results: list) -> Tables:
    """The patients, visits and billing tables in memory (for the Python API)."""
    names = dataset_names(results)
    groups = []
    for result, (_, *globalized) in zip(results, group_names(results, names)):
        frames = {
            table: globalize_table(table, read_part(result.folder, table), *globalized)
            for table in ("patients", "visits", "billing")
        }
        groups.append(Tables(**frames))
    return concatenate(groups)
