"""Loading a dataset into DuckDB or PostgreSQL, with the constraints of ``schema.sql``.

Both loads are all-or-nothing: DuckDB is written to a temporary file moved into place at the
end; PostgreSQL gets every table in one transaction, so a failed load leaves nothing behind.
The drivers (``duckdb``, ``psycopg``) are optional extras.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa

from reporting.schema import TABLES
from reporting.sql import schema_sql
from reporting.writers import to_typed_arrow

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DatabaseError(Exception):
    """A database load was refused or failed; the message is one line for the user."""


class DuckDBLoad:
    """Slices going into an open DuckDB file. The first failed insert (a broken constraint)
    is remembered in ``error`` and the rest are skipped, so that the caller can finish its
    own files and report the database failure afterwards."""

    def __init__(self, connection, error_type: type[Exception]) -> None:
        self._connection = connection
        self._error_type = error_type
        self.error: str | None = None

    def insert(self, name: str, rows: pd.DataFrame | pa.Table) -> None:
        """Append ``rows`` to table ``name`` (tables in load order: patients first)."""
        if self.error is not None:
            return
        data = to_typed_arrow(rows, name)  # noqa: F841 - read by DuckDB's replacement scan
        try:
            self._connection.execute(f"INSERT INTO {name} SELECT * FROM data")
        except self._error_type as error:
            self.error = str(error).splitlines()[0]


@contextlib.contextmanager
def duckdb_writer(path: Path, tables: list[str]) -> Iterator[DuckDBLoad]:
    """A DuckDB database file with ``tables``, their types and constraints, filled through
    the yielded ``DuckDBLoad``. The file appears only when the block ends without error and
    every insert succeeded; otherwise nothing is left behind."""
    try:
        import duckdb
    except ImportError:
        raise DatabaseError("--duckdb needs the duckdb package: pip install duckdb") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    os.unlink(partial)  # DuckDB creates the file itself
    try:
        with duckdb.connect(partial) as connection:
            connection.execute(schema_sql(sorted(tables, key=LOAD_ORDER.index), dialect="duckdb"))
            load = DuckDBLoad(connection, duckdb.Error)
            yield load
        if load.error is None:
            os.replace(partial, path)
    except duckdb.Error as error:
        raise DatabaseError(f"--duckdb {path}: {str(error).splitlines()[0]}") from None
    finally:
        for leftover in (partial, partial + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)


LOAD_ORDER = tuple(TABLES)  # a table after those its foreign keys point to


def _connect(dsn: str):
    try:
        import psycopg
    except ImportError:
        raise DatabaseError("--postgres needs psycopg: pip install 'psycopg[binary]'") from None
    try:
        return psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as error:
        raise DatabaseError(
            f"--postgres: cannot connect ({str(error).strip().splitlines()[0]})"
        ) from None


def check_postgres(dsn: str, schema: str, tables: list[str], replace: bool) -> None:
    """Fail early, before simulating, if the database cannot take the tables."""
    if not IDENTIFIER.fullmatch(schema):
        raise DatabaseError(f"--pg-schema {schema!r} is not a plain SQL name")
    with _connect(dsn) as connection:
        existing = _existing(connection, schema, tables)
    if existing and not replace:
        raise DatabaseError(
            f"--postgres: {schema} already has tables {', '.join(existing)} (use --pg-replace)"
        )


def _existing(connection, schema: str, tables: list[str]) -> list[str]:
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = %s AND table_name = ANY(%s)",
        (schema, tables),
    ).fetchall()
    return sorted(row[0] for row in rows)


def load_postgres(dsn: str, schema: str, files: dict[str, Path], replace: bool) -> dict[str, int]:
    """COPY the written CSV files into ``schema`` in one transaction; returns rows per table.

    The CSVs are read by PostgreSQL itself (dates as YYYY/MM/DD or YYYY-MM-DD, empty cells as
    NULL), so what is loaded is exactly what was written.
    """
    import psycopg

    names = sorted(files, key=LOAD_ORDER.index)
    counts = {}
    with _connect(dsn) as connection:
        try:
            with connection.transaction():
                connection.execute("SET LOCAL datestyle = 'ISO, YMD'")
                connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                if replace:  # every table of a dataset, so no older extra is left behind
                    for name in reversed(LOAD_ORDER):
                        connection.execute(f'DROP TABLE IF EXISTS "{schema}"."{name}" CASCADE')
                elif _existing(connection, schema, names):
                    raise DatabaseError(
                        f"--postgres: {schema} already has some of these tables (use --pg-replace)"
                    )
                connection.execute(schema_sql(names, dialect="postgresql", schema=f'"{schema}"'))
                for name in names:
                    with connection.cursor() as cursor:
                        columns = files[name].open(encoding="utf-8").readline().strip()
                        with (
                            cursor.copy(
                                f'COPY "{schema}"."{name}" ({columns}) FROM STDIN'
                                " WITH (FORMAT csv, HEADER true)"
                            ) as copy,
                            files[name].open("rb") as handle,
                        ):
                            while chunk := handle.read(1 << 20):
                                copy.write(chunk)
                    counts[name] = connection.execute(
                        f'SELECT count(*) FROM "{schema}"."{name}"'
                    ).fetchone()[0]
        except psycopg.Error as error:
            message = str(error).strip().splitlines()[0]
            raise DatabaseError(f"--postgres: load failed, nothing was kept ({message})") from None
    return counts
