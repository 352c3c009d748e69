"""The vocabulary of the table declarations in ``reporting.schema``: column kinds, columns and
tables.

A kind fixes, once, how a column is stored everywhere: its PostgreSQL and DuckDB types, its
Arrow type in Parquet files, its pandas dtype when read back, its Frictionless Table Schema
type, and how it is written in CSV (dates in the run's date format, or the table's own when
it fixes one, everything else as its plain value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs
import pandas as pd
import pyarrow as pa

DATE_FORMATS = {"slash": "%Y/%m/%d", "iso": "%Y-%m-%d"}


@attrs.frozen
class Kind:
    """A column type and its form in each place a table is written or read."""

    postgresql: str  # also the type the data dictionary shows
    duckdb: str
    arrow: pa.DataType
    pandas: str  # dtype when read back; nullable integers become "Int64"
    frictionless: str  # Table Schema field type
    pattern: str | None = None  # a regular expression every whole value matches
    values: tuple[str, ...] | None = None  # the only values a kind allows (Y/N flags)

    @property
    def is_date(self) -> bool:
        return self.arrow == pa.date32()

    @property
    def is_category(self) -> bool:
        return pa.types.is_dictionary(self.arrow)


# Text stays large_string (64-bit offsets) as pandas writes it: a big slice cannot overflow.
_TEXT = pa.large_string()
_LABELS = pa.dictionary(pa.int32(), pa.string())  # 32-bit indices: every slice the same type

# IDs, counts and whole-dollar amounts share a form; the names say what a column holds.
ID = Kind("integer", "INTEGER", pa.int64(), "int64", "integer")
INT = Kind("integer", "INTEGER", pa.int64(), "int64", "integer")
MONEY = Kind("integer", "INTEGER", pa.int64(), "int64", "integer")
FLOAT = Kind("double precision", "DOUBLE", pa.float64(), "float64", "number")
TEXT = Kind("text", "VARCHAR", _TEXT, "string", "string")
ZIP = Kind("char(5)", "VARCHAR", _TEXT, "string", "string", pattern="[0-9]{5}")
CATEGORY = Kind("text", "VARCHAR", _LABELS, "category", "string")
DATE = Kind("date", "DATE", pa.date32(), "datetime64[s]", "date")
FLAG = Kind("char(1)", "VARCHAR", _LABELS, "category", "string", values=("N", "Y"))
JSON = Kind("jsonb", "VARCHAR", _TEXT, "string", "object")


def CODE(length: int) -> Kind:
    """Fixed-length text such as a state code (``char(length)``)."""
    return Kind(f"char({length})", "VARCHAR", _TEXT, "string", "string")


Allowed = tuple[str, ...] | Callable[[], Iterable[str]]


@attrs.frozen
class Column:
    """One column: its kind, its meaning (``doc``) and its constraints.

    ``check`` is an SQL condition on the row (it may name other columns); ``refs`` is the
    ``table.column`` this column is a foreign key to; ``allowed`` lists a category's values,
    or is a function giving them (reference data is loaded only when asked for). A category
    without ``allowed`` takes its values from the data (doctors, hospitals).
    """

    name: str
    kind: Kind
    doc: str
    nullable: bool = False
    check: str | None = None
    refs: str | None = None
    unique: bool = False
    allowed: Allowed | None = None

    @property
    def values(self) -> tuple[str, ...] | None:
        """The allowed values, in their category order, or None when any value is."""
        if self.allowed is None:
            return self.kind.values
        values = self.allowed if isinstance(self.allowed, tuple) else self.allowed()
        return tuple(str(v) for v in values)

    @property
    def referenced(self) -> tuple[str, str] | None:
        """(table, column) of the foreign key, if any."""
        if self.refs is None:
            return None
        table, column = self.refs.split(".")
        return table, column

    @property
    def dtype(self) -> str | pd.CategoricalDtype:
        """The pandas dtype of the column read back."""
        if self.kind.is_category:
            values = self.values
            return "category" if values is None else pd.CategoricalDtype(list(values))
        if self.nullable and self.kind.pandas == "int64":
            return "Int64"
        return self.kind.pandas

    @property
    def arrow_field(self) -> pa.Field:
        """The column as a field of the Parquet schema."""
        return pa.field(self.name, self.kind.arrow, nullable=self.nullable)


@attrs.frozen
class Table:
    """One table: its columns in file order, its key and the rules between its columns.

    ``grain`` says what one row is; ``doc`` says when the table is written and anything else
    a reader needs. ``checks`` are SQL conditions on a row that name several columns.
    ``date_format`` (a key of ``DATE_FORMATS``) fixes how the table's dates are written in
    CSV whatever the run's ``--date-format`` (None: the run's format).
    """

    name: str
    grain: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    checks: tuple[str, ...] = ()
    date_format: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.date_format is not None and self.date_format not in DATE_FORMATS:
            raise ValueError(f"{self.name}: unknown date format {self.date_format!r}")
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a column is declared twice")
        if not set(self.key) <= set(names):
            raise ValueError(f"{self.name}: the key names an undeclared column")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def description(self) -> str:
        """What the table is, in one paragraph."""
        return f"{self.grain} {self.doc}".strip()

    def csv_date_format(self, run_format: str) -> str:
        """The date format of the table's CSV file in a run with ``--date-format run_format``."""
        return self.date_format or run_format

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def is_unique(self, column: Column) -> bool:
        """Whether the column alone identifies a row (declared unique, or the whole key)."""
        return column.unique or self.key == (column.name,)

    def arrow_schema(self, metadata: dict[str, str] | None = None) -> pa.Schema:
        """The table's Parquet schema, with key-value ``metadata`` if given."""
        return pa.schema([c.arrow_field for c in self.columns], metadata=metadata)
