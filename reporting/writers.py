"""Writing a dataset's files: CSV and Parquet tables slice by slice, JSON, and a single file
atomically. A whole dataset is published by ``reporting.publication``."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reporting.columns import DATE_FORMATS
from reporting.schema import TABLE_COLUMNS, TABLES


def table_file_name(table: str, prefix: str | None, suffix: str = ".csv") -> str:
    """``patients.csv`` or ``PREFIX_patients.csv`` (or ``.parquet``)."""
    return f"{prefix}_{table}{suffix}" if prefix else f"{table}{suffix}"


def as_arrow(rows: pd.DataFrame | pa.Table) -> pa.Table:
    """Rows as Arrow (a pandas frame is converted, without its index)."""
    if isinstance(rows, pa.Table):
        return rows
    return pa.Table.from_pandas(rows, preserve_index=False)


def to_typed_arrow(rows: pd.DataFrame | pa.Table, table: str) -> pa.Table:
    """The table's declared columns with their declared Arrow types (``Table.arrow_schema``):
    dates as dates, categories as dictionary columns, no pandas metadata. A missing column,
    or a null in a column that may not be empty, raises."""
    arrow = as_arrow(rows).select(list(TABLE_COLUMNS[table]))
    schema = TABLES[table].arrow_schema()
    columns = []
    for field, column in zip(schema, arrow.columns):
        if field.type == pa.date32() and column.type != pa.date32():
            column = column.cast(pa.timestamp("s"))  # pandas' datetime64 of any unit
        columns.append(column)
    return pa.table(columns, names=arrow.column_names).cast(schema)


def csv_arrow(typed: pa.Table, date_format: str) -> pa.Table:
    """A typed table (``to_typed_arrow``) as written in CSV: dates as text in the chosen
    format, categories as their text, everything else as it is."""
    columns = []
    for column in typed.columns:
        if column.type == pa.date32():
            column = format_dates(column, DATE_FORMATS[date_format])
        elif pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        columns.append(column)
    return pa.table(columns, names=typed.column_names)


def format_dates(column: pa.ChunkedArray, layout: str) -> pa.ChunkedArray:
    """Dates as text. A table has few distinct dates, so each is formatted once."""
    encoded = pc.dictionary_encode(column.cast(pa.timestamp("s")))
    chunks = [
        pa.DictionaryArray.from_arrays(
            chunk.indices, pc.strftime(chunk.dictionary, format=layout)
        ).cast(pa.string())
        for chunk in encoded.chunks
    ]
    return pa.chunked_array(chunks, type=pa.string())


CSV_BATCH_ROWS = 65_536  # rows turned into text and written at once


class TableFiles:
    """One table's CSV and/or Parquet file, written slice by slice as the slices come (an
    empty table still gets its header). Both files have the declared columns and types; CSV
    dates are in ``date_format`` unless the table fixes its own (``Table.date_format``). The
    Parquet schema carries ``metadata`` (e.g. the run's seed, dates and version) and the
    table's name."""

    def __init__(
        self,
        table: str,
        csv_path: Path | None = None,
        parquet_path: Path | None = None,
        date_format: str = "slash",
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.table = table
        self.csv_path, self.parquet_path = csv_path, parquet_path
        self.date_format = TABLES[table].csv_date_format(date_format)
        self.metadata = {"table": table, **(metadata or {})}
        self.rows = 0  # written so far
        self._csv: pacsv.CSVWriter | None = None
        self._parquet: pq.ParquetWriter | None = None

    def write(self, rows: pd.DataFrame | pa.Table) -> None:
        """Append a slice of the table's rows."""
        rows = as_arrow(rows)
        self.rows += rows.num_rows
        if self.csv_path is not None:
            # as text, rows take about twice their typed size: a part at a time
            for low in range(0, max(rows.num_rows, 1), CSV_BATCH_ROWS):
                part = to_typed_arrow(rows.slice(low, CSV_BATCH_ROWS), self.table)
                arrow = csv_arrow(part, self.date_format)
                if self._csv is None:
                    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
                    self._csv = pacsv.CSVWriter(
                        str(self.csv_path), arrow.schema, write_options=options
                    )
                self._csv.write_table(arrow)
        if self.parquet_path is not None:
            if self._parquet is None:
                schema = TABLES[self.table].arrow_schema(self.metadata)
                self._parquet = pq.ParquetWriter(str(self.parquet_path), schema, compression="zstd")
            self._parquet.write_table(to_typed_arrow(rows, self.table))

    def close(self) -> None:
        """Finish the files."""
        for writer in (self._csv, self._parquet):
            if writer is not None:
                writer.close()


def write_csv(frame: pd.DataFrame, table: str, path: Path, date_format: str) -> None:
    """One table as CSV: header, quoted only where needed, empty cells for missing values."""
    files = TableFiles(table, csv_path=path, date_format=date_format)
    files.write(frame)
    files.close()


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it in one rename when the block ends
    without error; otherwise it is removed and ``path`` is untouched."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
