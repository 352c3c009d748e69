"""docs/data_dictionary.md is the rendering of the declarations and lists exactly the columns
written, in file order."""

from __future__ import annotations

import re
from pathlib import Path

from reporting.dictionary import data_dictionary_markdown
from reporting.schema import TABLE_COLUMNS

DICTIONARY = Path(__file__).resolve().parents[1] / "docs" / "data_dictionary.md"


def test_the_dictionary_is_the_rendering_of_the_declarations():
    assert DICTIONARY.read_text(encoding="utf-8") == data_dictionary_markdown(), (
        "docs/data_dictionary.md is out of date: run python scripts/render_data_dictionary.py"
    )


def documented_columns() -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    current = None
    for line in DICTIONARY.read_text().splitlines():
        heading = re.fullmatch(r"## (\w+)", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
        elif current and line.startswith("| ") and not line.startswith(("| column", "|---")):
            tables[current].append(line.split("|")[1].strip())
    return tables


def test_the_dictionary_lists_exactly_the_columns_written(tmp_path):
    from reporting.app.cli import main

    assert (
        main(
            [
                "--patients",
                "60",
                "--today",
                "2025-06-30",
                "--outdir",
                str(tmp_path),
                "--quiet",
                "--census",
                "--event-log",
            ]
        )
        == 0
    )
    documented = documented_columns()
    assert set(documented) == set(TABLE_COLUMNS)
    for table, columns in documented.items():
        header = (tmp_path / f"{table}.csv").read_text().splitlines()[0]
        assert columns == header.replace('"', "").split(","), table
        assert columns == list(TABLE_COLUMNS[table]), table
