"""Reading a written dataset back into typed tables (for validation, tests and analysis)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reporting.recorder import Tables
from reporting.schema import DATE_COLUMNS, TABLE_COLUMNS
from reporting.writers import table_file_name

TEXT_COLUMNS = {
    "patients": ("zipcode", "phone_number", "insurance_policy_number"),
    "visits": ("hospital_zipcode",),
    "billing": (),
    "doctors": ("hospital_ids",),
    "hospitals": ("zipcode",),
    "continuity": (),
    "census": ("hospital",),
    "events": ("event_type", "doctor", "hospital", "detail"),
}


def read_table(path: Path, table: str) -> pd.DataFrame:
    """One CSV table with dates parsed and identifier-like text kept as text."""
    dtypes = dict.fromkeys(TEXT_COLUMNS[table], "string")
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    for column in DATE_COLUMNS.get(table, ()):
        frame[column] = pd.to_datetime(frame[column].str.replace("/", "-"), format="%Y-%m-%d")
    missing = [c for c in TABLE_COLUMNS[table] if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    return frame


def read_tables(folder: Path, prefix: str | None = None) -> Tables:
    """The three tables of a dataset folder written by ``run_sim.py``."""
    folder = Path(folder)
    return Tables(
        **{
            name: read_table(folder / table_file_name(name, prefix), name)
            for name in ("patients", "visits", "billing")
        }
    )
