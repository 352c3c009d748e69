"""SQL schemas of the dataset: PostgreSQL DDL (``schema.sql``) and its DuckDB twin, rendered
from the declarations in ``reporting.schema``.

Keys, foreign keys, NOT NULL where a column is never empty, and CHECK constraints for the
rules SQL can express within a row (amounts add up, discharge on or after admission, status
in its four values, insured means a policy number, ...). Loading a dataset therefore proves
those rules hold. The column and table docs become ``COMMENT ON`` statements.
"""

from __future__ import annotations

from reporting.columns import Column, Table
from reporting.schema import TABLES

DIALECTS = ("postgresql", "duckdb")


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _pattern_check(name: str, pattern: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"{name} ~ '^{pattern}$'"
    return f"regexp_full_match({name}, '{pattern}')"


def _column_line(table: Table, column: Column, dialect: str, prefix: str) -> str:
    kind = column.kind
    parts = [column.name, kind.postgresql if dialect == "postgresql" else kind.duckdb]
    if table.key == (column.name,):
        parts.append("PRIMARY KEY")
    elif not column.nullable:
        parts.append("NOT NULL")
    if column.unique:
        parts.append("UNIQUE")
    if column.referenced:
        other, key = column.referenced
        parts.append(f"REFERENCES {prefix}{other} ({key})")
    checks = [column.check] if column.check else []
    if column.values is not None:
        checks.append(f"{column.name} IN ({', '.join(_quote(v) for v in column.values)})")
    if kind.pattern:
        checks.append(_pattern_check(column.name, kind.pattern, dialect))
    parts += [f"CHECK ({check})" for check in checks]
    return " ".join(parts)


def _body(table: Table, dialect: str, prefix: str = "") -> str:
    lines = [_column_line(table, c, dialect, prefix) for c in table.columns]
    lines += [f"CHECK ({check})" for check in table.checks]
    if len(table.key) > 1:
        lines.append(f"PRIMARY KEY ({', '.join(table.key)})")
    return "".join(f"\n    {line}," for line in lines).rstrip(",")


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")


def _comments(table: Table, qualified: str) -> list[str]:
    lines = [f"COMMENT ON TABLE {qualified} IS {_quote(table.description)};"]
    lines += [f"COMMENT ON COLUMN {qualified}.{c.name} IS {_quote(c.doc)};" for c in table.columns]
    return lines


def schema_sql(tables: list[str], dialect: str = "postgresql", schema: str | None = None) -> str:
    """The DDL creating ``tables`` (a subset of the known ones, in any order), with the
    tables' and columns' docs as comments."""
    _check_dialect(dialect)
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"no SQL definition for {sorted(unknown)}")
    prefix = f"{schema}." if schema else ""
    parts = ["-- Synthetic hospital dataset (hospital-synth). All data are synthetic.", ""]
    for name, table in TABLES.items():  # load order: referenced tables first
        if name in tables:
            parts.append(f"CREATE TABLE {prefix}{name} ({_body(table, dialect, prefix)}\n);")
            parts += [*_comments(table, prefix + name), ""]
    return "\n".join(parts)
