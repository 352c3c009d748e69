"""Loading a dataset into DuckDB or PostgreSQL, with the constraints of ``schema.sql``.

Both loads are all-or-nothing: DuckDB is written to a temporary file moved into place at the
end; PostgreSQL gets every table in one transaction, so a failed load leaves nothing behind.
Neither touches what the user made: an existing DuckDB file is replaced only when it holds
nothing but tables this run writes again, and ``--pg-replace`` drops only this run's tables,
never with CASCADE, refusing when anything else depends on them.
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
    foreign = _duckdb_foreign_objects(duckdb, path, tables) if path.exists() else []
    if foreign:
        raise DatabaseError(
            f"refusing to replace --duckdb {path}: it holds {', '.join(foreign)}"
            " (remove it first or choose another path)"
        )
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


def _duckdb_foreign_objects(duckdb, path: Path, tables: list[str]) -> list[str]:
    """What in the existing file at ``path`` this run would not write again: other tables
    (an older run's ``events`` too), views, sequences, macros, types, indexes and schemas.
    An empty file holds nothing; one DuckDB cannot open (not a database, in use) is refused."""
    if path.stat().st_size == 0:
        return []
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            rows = connection.execute(DUCKDB_OBJECTS).fetchall()
    except duckdb.Error as error:
        message = str(error).splitlines()[0]
        raise DatabaseError(f"refusing to replace --duckdb {path}: {message}") from None
    own = {("table", f"main.{name}") for name in tables}
    return [f"{kind} {name}" for kind, name in rows if (kind, name) not in own]


DUCKDB_OBJECTS = """
    SELECT 'table', schema_name || '.' || table_name FROM duckdb_tables()
        WHERE database_name = current_database()
    UNION ALL SELECT 'view', schema_name || '.' || view_name FROM duckdb_views()
        WHERE database_name = current_database() AND NOT internal
    UNION ALL SELECT 'sequence', schema_name || '.' || sequence_name FROM duckdb_sequences()
        WHERE database_name = current_database()
    UNION ALL SELECT 'macro', schema_name || '.' || function_name FROM duckdb_functions()
        WHERE database_name = current_database() AND NOT internal
    UNION ALL SELECT 'type', schema_name || '.' || type_name FROM duckdb_types()
        WHERE database_name = current_database() AND NOT internal
    UNION ALL SELECT 'index', schema_name || '.' || index_name FROM duckdb_indexes()
        WHERE database_name = current_database()
    UNION ALL SELECT 'schema', schema_name FROM duckdb_schemas()
        WHERE database_name = current_database() AND NOT internal
    ORDER BY 1, 2
"""


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
        _check_target(connection, schema, tables, replace)


def _check_target(connection, schema: str, tables: list[str], replace: bool) -> None:
    """Refuse to overwrite without ``replace``, and to replace what is not one of ``tables``
    or what other objects (views, foreign keys, functions, ...) depend on."""
    existing = dict(connection.execute(EXISTING, (schema, tables)).fetchall())
    if existing and not replace:
        raise DatabaseError(
            f"--postgres: {schema} already has {', '.join(sorted(existing))} (use --pg-replace)"
        )
    others = sorted((name, kind) for name, kind in existing.items() if kind != "table")
    if others:
        named = (f"{schema}.{name} is a {kind}, not a table" for name, kind in others)
        raise DatabaseError(f"refusing --pg-replace: {'; '.join(named)}")
    dependents = connection.execute(DEPENDENTS, {"schema": schema, "tables": tables}).fetchall()
    if dependents:
        named = (
            f"{kind} {name} depends on {', '.join(sorted(on, key=LOAD_ORDER.index))}"
            for kind, name, on in dependents
        )
        raise DatabaseError(
            f"refusing --pg-replace: {'; '.join(named)}"
            " (drop or change them first, or load into another --pg-schema)"
        )


EXISTING = """
    SELECT c.relname, (pg_identify_object('pg_class'::regclass, c.oid, 0)).type
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relname = ANY(%s)
"""

# What DROP TABLE without CASCADE would refuse to drop: the objects with a normal dependency
# (pg_depend) on a replaced table, its row type (and that type's array) or its indexes (which
# foreign keys point to), each named by the relation it belongs to (a view for its rule, a
# table for its constraint), leaving out the replaced tables' own foreign keys to each other.
DEPENDENTS = """
WITH replaced AS (
    SELECT c.oid, c.relname, c.reltype FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
), parts (classid, objid, relname) AS (
    SELECT 'pg_class'::regclass, oid, relname FROM replaced
    UNION ALL SELECT 'pg_type'::regclass, reltype, relname FROM replaced
    UNION ALL SELECT 'pg_type'::regclass, t.typarray, r.relname
        FROM pg_type t JOIN replaced r ON t.oid = r.reltype
    UNION ALL SELECT 'pg_class'::regclass, i.indexrelid, r.relname
        FROM pg_index i JOIN replaced r ON i.indrelid = r.oid
), dependents AS (
    SELECT d.classid, d.objid, p.relname, CASE d.classid
        WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid)
        WHEN 'pg_constraint'::regclass
            THEN (SELECT nullif(conrelid, 0) FROM pg_constraint WHERE oid = d.objid)
        WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
        WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = d.objid)
        WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid)
        WHEN 'pg_class'::regclass THEN d.objid
    END AS owner
    FROM pg_depend d JOIN parts p ON d.refclassid = p.classid AND d.refobjid = p.objid
    WHERE d.deptype = 'n'
)
SELECT o.type, o.identity, array_agg(DISTINCT dependents.relname)
FROM dependents, LATERAL pg_identify_object(
    CASE WHEN owner IS NULL THEN classid ELSE 'pg_class'::regclass END, coalesce(owner, objid), 0
) o
WHERE owner IS NULL OR owner NOT IN (SELECT oid FROM replaced)
GROUP BY 1, 2 ORDER BY 1, 2
"""


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
                _check_target(connection, schema, names, replace)
                if replace:  # no CASCADE: a dependent object appearing since the check fails it
                    tables = ", ".join(f'"{schema}"."{name}"' for name in reversed(names))
                    connection.execute(f"DROP TABLE IF EXISTS {tables}")
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
