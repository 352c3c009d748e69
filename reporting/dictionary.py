"""``docs/data_dictionary.md``, rendered from the table declarations of ``reporting.schema``
(``python scripts/render_data_dictionary.py`` rewrites the file)."""

from __future__ import annotations

from reporting.columns import DATE_FORMATS, Column, Table
from reporting.schema import TABLES

DICTIONARY_INTRO = """\
# Data dictionary

<!-- Rendered from reporting/schema.py by scripts/render_data_dictionary.py: edit the
declarations there, not this file. -->

Every column of every table `run_sim.py` writes, in file order: its SQL type (as in
`schema.sql`), whether it may be empty, what it means and the rule that produces it, and its
constraints. All data are synthetic. Dates are `YYYY/MM/DD` (or `YYYY-MM-DD` with
`--date-format iso`) unless a table says otherwise; an empty cell is NULL.
"""


def _code(text: str) -> str:
    return f"`{text}`"


def _constraints(table: Table, column: Column) -> str:
    parts = []
    if table.key == (column.name,):
        parts.append("key")
    elif column.unique:
        parts.append("unique")
    if column.refs:
        parts.append(f"references {_code(column.refs)}")
    if column.values is not None:
        parts.append("one of " + ", ".join(_code(v) for v in column.values))
    if column.kind.pattern:
        parts.append(f"matches {_code(column.kind.pattern)}")
    if column.check:
        parts.append(_code(column.check))
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table_markdown(table: Table) -> list[str]:
    lines = [f"## {table.name}", "", table.description, ""]
    if table.date_format is not None:
        layout = DATE_FORMATS[table.date_format].replace("%Y", "YYYY").replace("%m", "MM")
        layout = layout.replace("%d", "DD")
        lines += [f"Dates are always `{layout}` here, whatever `--date-format`.", ""]
    if len(table.key) > 1:
        lines += [f"Key: {', '.join(_code(c) for c in table.key)}.", ""]
    lines += [
        "| column | type | empty | meaning and rule | constraints |",
        "|---|---|---|---|---|",
    ]
    for column in table.columns:
        cells = [
            column.name,
            column.kind.postgresql,
            "yes" if column.nullable else "no",
            column.doc,
            _constraints(table, column),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if table.checks:
        lines += ["", "Rules across columns:", ""]
        lines += [f"- {_code(check)}" for check in table.checks]
    return [*lines, ""]


def data_dictionary_markdown() -> str:
    """``docs/data_dictionary.md``: every table and column with its type, meaning and
    constraints, as declared here."""
    lines = [DICTIONARY_INTRO]
    for table in TABLES.values():
        lines += _table_markdown(table)
    return "\n".join(lines).rstrip("\n") + "\n"
