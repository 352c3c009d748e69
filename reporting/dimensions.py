"""The dimension tables: ``doctors`` and ``hospitals``, one row per doctor who ever worked in
the run and per hospital, with the IDs and names ``visits`` uses (``reporting.naming``).

A doctor works at one to three hospitals of one state: ``hospital_id`` is the primary one,
``hospital_ids`` lists all of them (primary first, separated by ``;``), so that the table
stays one row per doctor. ``start_date`` is ``--start`` for doctors on staff when the history
begins; ``end_date`` is empty while the doctor is still on staff; ``replaces_doctor_id`` is
the departed doctor a replacement (or locum) took over from.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from reporting.naming import RegionNames
from reporting.schema import DOCTOR_COLUMNS, HOSPITAL_COLUMNS
from sim.facts import RegionFacts
from sim.geography import AREA_NAMES

PROFILE_DECIMALS = 4
FRACTION_DECIMALS = 6


def doctors_table(
    regions: list[RegionFacts], names: list[RegionNames], start: dt.date
) -> pd.DataFrame:
    """Every doctor of the run (regions in key order, with their ``dataset_names``)."""
    rows = []
    for facts, named in zip(regions, names):
        hospital_ids = [named.hospital_offset + 1 + h for h in range(len(facts.hospitals))]
        for index, doctor in enumerate(facts.staff):
            works_at = [hospital_ids[h] for h in doctor.hospitals]
            rows.append(
                {
                    "doctor_id": named.doctor_offset + 1 + index,
                    "name": named.doctors[index],
                    "specialty": doctor.specialty,
                    "hospital_id": works_at[0],
                    "hospital_ids": ";".join(str(h) for h in works_at),
                    "state": facts.hospitals[doctor.hospitals[0]].state,
                    "start_date": doctor.joined_day,
                    "end_date": doctor.left_day,
                    "replaces_doctor_id": named.doctor_offset + 1 + doctor.replaces
                    if doctor.replaces >= 0
                    else None,
                }
            )
    frame = pd.DataFrame(rows, columns=list(DOCTOR_COLUMNS))
    first_day = np.datetime64(start, "D")
    for column in ("start_date", "end_date"):
        days = frame[column].to_numpy(dtype=np.int64)
        frame[column] = np.where(days >= 0, first_day + days, np.datetime64("NaT")).astype(
            "datetime64[s]"
        )
    frame["doctor_id"] = frame["doctor_id"].astype(np.int64)
    frame["hospital_id"] = frame["hospital_id"].astype(np.int64)
    frame["replaces_doctor_id"] = frame["replaces_doctor_id"].astype("Int64")
    for column in ("name", "specialty", "hospital_ids", "state"):
        frame[column] = frame[column].astype("string")
    return frame


def hospitals_table(regions: list[RegionFacts], names: list[RegionNames]) -> pd.DataFrame:
    """Every hospital of the run (regions in key order, with their ``dataset_names``)."""
    rows = [
        {
            "hospital_id": named.hospital_offset + 1 + index,
            "name": named.hospitals[index],
            "city": hospital.city,
            "state": hospital.state,
            "zipcode": hospital.zipcode,
            "rooms": hospital.rooms,
            "rurality": AREA_NAMES[hospital.area],
            "teaching": "Y" if hospital.teaching else "N",
            "people_served": round(hospital.people_served),
            "sampling_fraction": round(hospital.sampling_fraction, FRACTION_DECIMALS),
            "same_day_bias": round(hospital.same_day_bias, PROFILE_DECIMALS),
            "late_payment_multiplier": round(hospital.late_payment_multiplier, PROFILE_DECIMALS),
            "charge_multiplier": round(hospital.charge_multiplier, PROFILE_DECIMALS),
        }
        for facts, named in zip(regions, names)
        for index, hospital in enumerate(facts.hospitals)
    ]
    frame = pd.DataFrame(rows, columns=list(HOSPITAL_COLUMNS))
    for column in ("hospital_id", "rooms", "people_served"):
        frame[column] = frame[column].astype(np.int64)
    for column in (
        "sampling_fraction",
        "same_day_bias",
        "late_payment_multiplier",
        "charge_multiplier",
    ):
        frame[column] = frame[column].astype(np.float64)
    for column in ("rurality", "teaching"):
        frame[column] = frame[column].astype("category")
    for column in ("name", "city", "state", "zipcode"):
        frame[column] = frame[column].astype("string")
    return frame
