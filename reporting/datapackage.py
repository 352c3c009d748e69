"""``datapackage.json``: a Frictionless Tabular Data Package descriptor of a dataset's CSV
files, rendered from the table declarations of ``reporting.schema``."""

from __future__ import annotations

import json
from pathlib import Path

from reporting.columns import DATE_FORMATS, Column, Table
from reporting.schema import TABLES


def _field(table: Table, column: Column, date_format: str) -> dict:
    field = {"name": column.name, "type": column.kind.frictionless, "description": column.doc}
    if column.kind.is_date:
        layout = DATE_FORMATS[date_format]
        field["format"] = "default" if layout == DATE_FORMATS["iso"] else layout
    constraints: dict = {"required": not column.nullable}
    if table.is_unique(column):
        constraints["unique"] = True
    if column.values is not None:
        constraints["enum"] = list(column.values)
    if column.kind.pattern:
        constraints["pattern"] = column.kind.pattern
    return {**field, "constraints": constraints}


def _resource(table: Table, path: str, date_format: str, tables: list[str]) -> dict:
    foreign_keys = []
    for column in table.columns:
        if column.referenced and column.referenced[0] in tables:
            other, key = column.referenced
            reference = {"resource": other, "fields": [key]}
            foreign_keys.append({"fields": [column.name], "reference": reference})
    schema = {
        "fields": [_field(table, c, table.csv_date_format(date_format)) for c in table.columns],
        "primaryKey": list(table.key),
        "missingValues": [""],
    }
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return {
        "name": table.name,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": table.description,
        "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True},
        "schema": schema,
    }


def datapackage(
    tables: list[str], file_names: dict[str, str], date_format: str, metadata: dict
) -> dict:
    """A Frictionless Tabular Data Package descriptor of a dataset's CSV files.

    ``tables`` are the tables written, ``file_names`` their CSV file names (relative to the
    descriptor), ``date_format`` the run's (``slash`` or ``iso``, as ``--date-format``; a
    table that fixes its own, ``Table.date_format``, keeps it) and
    ``metadata`` the run's facts (seed, dates, version...), kept under ``run``.
    """
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"no declaration for {sorted(unknown)}")
    return {
        "profile": "tabular-data-package",
        "name": "hospital-synth",
        "title": "Synthetic hospital dataset (hospital-synth)",
        "description": "All data are synthetic. Column meanings: docs/data_dictionary.md.",
        "run": dict(metadata),
        "resources": [
            _resource(table, file_names[name], date_format, tables)
            for name, table in TABLES.items()
            if name in tables
        ],
    }


def write_datapackage(
    path: Path, tables: list[str], file_names: dict[str, str], date_format: str, metadata: dict
) -> None:
    """Write ``datapackage(...)`` as ``path`` (``datapackage.json`` beside the CSV files)."""
    descriptor = datapackage(tables, file_names, date_format, metadata)
    Path(path).write_text(json.dumps(descriptor, indent=2) + "\n", encoding="utf-8")
