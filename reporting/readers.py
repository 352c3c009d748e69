"""Reading a written dataset back into typed tables (for validation, tests and analysis).

CSV and Parquet files read to the same frames, with the dtypes the declarations give
(``Column.dtype`` in ``reporting.schema``):

- dates as ``datetime64[s]``. Parquet stores them as ``date32``, which a plain
  ``pd.read_parquet`` turns into Python ``date`` objects; the reader converts them;
- text, including ZIP codes, phone numbers and policy numbers, as the nullable ``string``
  dtype, leading zeros kept (a plain ``pd.read_parquet`` keeps them as text as well);
- categories as pandas categoricals with the declared categories in their declared order;
  doctors and hospitals, whose names come from the run, get their names sorted. The Y/N
  flag ``follow_up_required`` stays ``Y``/``N`` (categories ``N``, ``Y``), as written;
- integers as ``int64``, or ``Int64`` where a column may be empty (``events.patient_id``);
  decimals as ``float64``.

A value outside a column's declared categories raises ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from reporting.columns import Column
from reporting.recorder import Tables
from reporting.schema import TABLES
from reporting.writers import table_file_name

FORMATS = ("csv", "parquet")


def _typed(values: pd.Series, column: Column, path: Path) -> pd.Series:
    if not column.kind.is_category:
        return values.astype(column.dtype)
    text = values.astype("string")
    present = set(text.dropna().unique())
    declared = column.values
    if declared is None:
        return text.astype(pd.CategoricalDtype(sorted(present)))
    unknown = sorted(present - set(declared))
    if unknown:
        raise ValueError(f"{path}: {column.name} has undeclared values {unknown[:5]}")
    return text.astype(pd.CategoricalDtype(list(declared)))


def _read_csv(path: Path, table: str) -> pd.DataFrame:
    columns = TABLES[table].columns
    as_text = {c.name: "string" for c in columns if c.kind.is_category or c.kind.is_date}
    dtypes = {c.name: as_text.get(c.name, c.dtype) for c in columns}
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    for column in columns:
        if column.kind.is_date:
            text = frame[column.name].str.replace("/", "-")
            frame[column.name] = pd.to_datetime(text, format="%Y-%m-%d")
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas(date_as_object=False)


def read_table(path: Path, table: str, format: str | None = None) -> pd.DataFrame:
    """One table from its CSV or Parquet file (``format`` "csv" or "parquet"; by default
    from the file's suffix), typed as declared, columns in the declared order."""
    path = Path(path)
    format = format or path.suffix.lstrip(".")
    if format not in FORMATS:
        raise ValueError(f"{path}: unknown format {format!r} (csv or parquet)")
    frame = _read_csv(path, table) if format == "csv" else _read_parquet(path)
    declared = TABLES[table].columns
    missing = [c.name for c in declared if c.name not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    return pd.DataFrame({c.name: _typed(frame[c.name], c, path) for c in declared})


def read_tables(folder: Path, prefix: str | None = None, format: str | None = None) -> Tables:
    """The patients, visits and billing tables of a dataset folder written by ``run_sim.py``,
    and its problem list (``conditions``) and coverage spells (``coverage``) when the folder
    has them, from the CSV files
    (``format="csv"``) or the Parquet files (``"parquet"``); by default CSV when the folder
    has ``patients.csv``, else Parquet. The tables' ``as_of`` is the run's ``--today`` from
    the folder's ``validation_summary.json`` (None without one)."""
    folder = Path(folder)
    if format is None:
        format = "csv" if (folder / table_file_name("patients", prefix)).exists() else "parquet"

    def path(name: str) -> Path:
        return folder / table_file_name(name, prefix, f".{format}")

    return Tables(
        **{
            name: read_table(path(name), name, format) for name in ("patients", "visits", "billing")
        },
        **{
            name: read_table(path(name), name, format) if path(name).exists() else None
            for name in ("conditions", "coverage")
        },
        as_of=run_today(folder),
    )


def run_today(folder: Path) -> dt.date | None:
    """The ``--today`` a dataset folder was made with (from its summary), if it says."""
    try:
        summary = json.loads((Path(folder) / "validation_summary.json").read_text("utf-8"))
        return dt.date.fromisoformat(summary["run"]["today"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
