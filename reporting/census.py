"""The daily census: per day and hospital, rooms occupied at the end of the day, admissions,
discharges and diversions (patients sent elsewhere for want of a room), from the event log."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reporting.recorder import unique_labels
from reporting.schema import CENSUS_COLUMNS


def _per_day(day: np.ndarray, hospital: np.ndarray, days: int, hospitals: int) -> np.ndarray:
    """Counts of events per (day, hospital) as a days x hospitals array."""
    keep = day < days
    flat = np.bincount(day[keep] * hospitals + hospital[keep], minlength=days * hospitals)
    return flat.reshape(days, hospitals)


def census_table(simulation) -> pd.DataFrame:
    """Every hospital on every day from ``--start`` to the last day run."""
    days = simulation.day + 1
    start = np.datetime64(simulation.scenario.start, "D")
    regions = sorted(simulation.regions, key=lambda r: r.world.key)
    names = unique_labels(
        [[h.name for h in r.world.hospitals] for r in regions], [r.world.key for r in regions]
    )
    frames = []
    for region, labels in zip(regions, names):
        log, count = region.log, len(region.world.hospitals)
        admitted = log.columns("Admitted")
        discharged = log.columns("Discharged")
        diverted = log.columns("Diverted")
        hospital_of_visit = np.full(region.next_visit, -1, dtype=np.int64)
        hospital_of_visit[admitted["visit"]] = admitted["hospital"]

        admissions = _per_day(admitted["day"], admitted["hospital"], days, count)
        discharges = _per_day(
            discharged["day"], hospital_of_visit[discharged["visit"]], days, count
        )
        diversions = _per_day(diverted["day"], diverted["from_hospital"], days, count)
        occupied = np.cumsum(admissions, axis=0) - np.cumsum(discharges, axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "date": np.repeat(start + np.arange(days), count).astype("datetime64[s]"),
                    "hospital": np.tile(np.array(labels, dtype=object), days),
                    "rooms": np.tile([h.rooms.capacity for h in region.world.hospitals], days),
                    "occupied_rooms": occupied.ravel(),
                    "admissions": admissions.ravel(),
                    "discharges": discharges.ravel(),
                    "diversions": diversions.ravel(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CENSUS_COLUMNS)
    table = table.sort_values(["date", "hospital"], kind="stable").reset_index(drop=True)
    table["hospital"] = table["hospital"].astype("string")
    return table[list(CENSUS_COLUMNS)]
