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
import pyarrow as pa
import pyarrow.compute as pc

from reporting.naming import RegionNames
from reporting.schema import DOCTOR_COLUMNS, HOSPITAL_COLUMNS
from sim.facts import RegionFacts
from sim.geography import AREA_NAMES

PROFILE_DECIMALS = 4
FRACTION_DECIMALS = 6


def doctors_table(
    regions: list[RegionFacts], names: list[RegionNames], start: dt.date
) -> pd.DataFrame:
    """Every doctor of the run (regions in key order, with their ``dataset_names``), built a
    column at a time from the regions' ``Staff``."""
    parts = [_region_doctors(facts, named) for facts, named in zip(regions, names)]
    columns = {
        name: np.concatenate([part[name] for part in parts]) if parts else np.zeros(0, np.int64)
        for name in ("doctor_id", "hospital_id", "start_date", "end_date", "replaces")
    }
    first_day = np.datetime64(start, "D")
    frame = pd.DataFrame(
        {
            "doctor_id": columns["doctor_id"].astype(np.int64),
            "name": pd.array([n for named in names for n in named.doctors], dtype="string"),
            "specialty": pd.array([s for part in parts for s in part["specialty"]], dtype="string"),
            "hospital_id": columns["hospital_id"].astype(np.int64),
            "hospital_ids": pd.array(
                [s for part in parts for s in part["hospital_ids"]], dtype="string"
            ),
            "state": pd.array([s for part in parts for s in part["state"]], dtype="string"),
            **{
                column: np.where(days >= 0, first_day + days, np.datetime64("NaT")).astype(
                    "datetime64[s]"
                )
                for column in ("start_date", "end_date")
                for days in [columns[column].astype(np.int64)]
            },
            "replaces_doctor_id": pd.arrays.IntegerArray(
                np.maximum(columns["replaces"], 0).astype(np.int64), columns["replaces"] < 0
            ),
        },
        columns=list(DOCTOR_COLUMNS),
    )
    return frame


def _region_doctors(facts: RegionFacts, named: RegionNames) -> dict:
    """One region's doctors as the table's columns (IDs in the dataset's numbering; the
    replaced doctor's ID is -1 where none)."""
    staff = facts.staff
    first_id = named.doctor_offset + 1
    hospital_ids = staff.hospitals.astype(np.int64) + named.hospital_offset + 1
    listed = [
        pa.array(hospital_ids[:, k], mask=staff.hospitals[:, k] < 0).cast(pa.string())
        for k in range(staff.hospitals.shape[1])
    ]
    states = np.array([h.state for h in facts.hospitals], dtype=object)
    return {
        "doctor_id": np.arange(first_id, first_id + len(staff), dtype=np.int64),
        "specialty": np.array(staff.specialties, dtype=object)[staff.specialty].tolist(),
        "hospital_id": hospital_ids[:, 0],
        "hospital_ids": pc.binary_join_element_wise(*listed, ";", null_handling="skip").to_pylist(),
        "state": states[staff.hospitals[:, 0]].tolist() if len(staff) else [],
        "start_date": staff.joined_day,
        "end_date": staff.left_day,
        "replaces": np.where(staff.replaces >= 0, first_id + staff.replaces, -1),
    }


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
