"""The daily census: per day and hospital, rooms occupied at the end of the day (all of them,
and those of the dataset's stays), the dataset's admissions, discharges and diversions
(patients sent elsewhere for want of a room), from the event log and the unwritten load."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from reporting.naming import dataset_names
from reporting.schema import CENSUS_COLUMNS
from sim.facts import own_room, region_facts


def _per_day(day: np.ndarray, hospital: np.ndarray, days: int, hospitals: int) -> np.ndarray:
    """Counts of events per (day, hospital) as a days x hospitals array."""
    keep = day < days
    flat = np.bincount(day[keep] * hospitals + hospital[keep], minlength=days * hospitals)
    return flat.reshape(days, hospitals)


def census_table(simulation) -> pd.DataFrame:
    """Every hospital on every day from ``--start`` to the last day run (regions stepped
    in this process)."""
    days = simulation.day + 1
    regions = sorted(simulation.regions, key=lambda r: r.world.key)
    names = dataset_names([region_facts(region, simulation.day) for region in regions])
    frames = [
        globalize_census(
            region_census(region, days, simulation.scenario.clock_start),
            region_names.hospitals,
            region_names.hospital_offset,
        )
        for region, region_names in zip(regions, names)
    ]
    return finish_census(frames)


def region_census(region, days: int, start: dt.date) -> pd.DataFrame:
    """One region's hospitals (as the region's codes) on each simulation day from the first
    written to ``days - 1`` (``start``: the date of day 0). The burn-in's stays count in the
    beds occupied on the first days."""
    log, count = region.log, len(region.world.hospitals)
    first = min(region.scenario.first_day, days)
    admitted = log.all_columns("Admitted")
    discharged = log.all_columns("Discharged")
    diverted = log.all_columns("Diverted")
    hospital_of_visit = np.full(region.next_visit, -1, dtype=np.int64)
    hospital_of_visit[admitted["visit"]] = admitted["hospital"]

    # only stays in a room of their own (inpatient, observation) are admissions; ED and clinic
    # visits are not, nor is a newborn rooming in with its mother
    in_room = own_room(admitted)
    hospital_of_visit[admitted["visit"][~in_room]] = -1
    admissions = _per_day(admitted["day"][in_room], admitted["hospital"][in_room], days, count)
    left = hospital_of_visit[discharged["visit"]]
    discharges = _per_day(discharged["day"][left >= 0], left[left >= 0], days, count)
    diversions = _per_day(diverted["day"], diverted["from_hospital"], days, count)
    occupied = (np.cumsum(admissions, axis=0) - np.cumsum(discharges, axis=0))[first:]
    written = days - first
    return pd.DataFrame(
        {
            "date": np.repeat(np.datetime64(start, "D") + np.arange(first, days), count).astype(
                "datetime64[s]"
            ),
            "hospital": np.tile(np.arange(count, dtype=np.int64), written),
            "rooms": np.tile([h.rooms.capacity for h in region.world.hospitals], written),
            "occupied_rooms": (occupied + region.load.history[first:days]).ravel(),
            "sample_occupied_rooms": occupied.ravel(),
            "admissions": admissions[first:].ravel(),
            "discharges": discharges[first:].ravel(),
            "diversions": diversions[first:].ravel(),
        }
    )


def group_census(regions: list, days: int, start: dt.date) -> pd.DataFrame:
    """The census of regions recorded together, day by day, with the group's hospital codes."""
    frames = []
    offset = 0
    for region in regions:
        frame = region_census(region, days, start)
        frame["hospital"] += offset
        offset += len(region.world.hospitals)
        frames.append(frame)
    census = pd.concat(frames, ignore_index=True)
    return census.sort_values("date", kind="stable", ignore_index=True)


def globalize_census(
    frame: pd.DataFrame, hospital_names: list[str], hospital_offset: int
) -> pd.DataFrame:
    """A region's (or task's) census with the dataset's hospital IDs and names; the
    dataset's IDs of its hospitals follow ``hospital_offset``."""
    named = frame.copy()
    codes = frame["hospital"].to_numpy()
    named["hospital_id"] = codes + hospital_offset + 1
    named["hospital"] = np.array(hospital_names, dtype=object)[codes]
    return named


def finish_census(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Globalized census rows of some days in order: by date, then hospital ID."""
    if not frames:
        return pd.DataFrame(columns=list(CENSUS_COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    table = table.sort_values(["date", "hospital_id"], kind="stable").reset_index(drop=True)
    table["hospital"] = table["hospital"].astype("string")
    return table[list(CENSUS_COLUMNS)]
