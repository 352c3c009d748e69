"""Reading a user's ZIP pool file into a ZipTable, leniently and with clear errors.

A pool is a CSV (or tab- or semicolon-separated) file with a ZIP column named ``zipcode``,
``zip`` or ``postal_code`` (any case), and optionally ``state``/``state_id`` and ``city``.
ZIPs that lost their leading zeros are restored, ZIP+4 is cut to five digits, missing state or
city are filled from the embedded ZIP data, and the user's state wins where it disagrees with
the embedded data (counted). What cannot be used is skipped and counted by reason.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import attrs
import numpy as np
import pandas as pd

from sim.geography import ZipTable, load_zip_reference
from sim.refdata import load_demography
from sim.scenario import ScenarioError
from sim.text import neutralise_formula

ZIP_COLUMNS = ("zipcode", "zip", "postal_code", "zip_code", "postalcode", "postcode")
STATE_COLUMNS = ("state", "state_id", "state_code", "st")
CITY_COLUMNS = ("city", "primary_city")


# The embedded data have about 33,000 ZIPs: a pool file beyond this is not a ZIP pool.
MAX_POOL_BYTES = 100_000_000
UNPOPULATED_WEIGHT = 0.02  # of a state's median populated ZIP, for ZIPs where nobody lives


class PoolError(ScenarioError):
    """The ZIP pool file cannot be used; the message names the file and the problem."""


@attrs.frozen
class PoolReport:
    """What happened to the rows of a pool file (for the validation summary)."""

    file: str
    rows_read: int
    zipcodes_used: int
    duplicate_rows: int
    skipped: dict[str, int]
    state_filled_from_embedded: int
    city_filled_from_embedded: int
    city_from_nearest_known_zipcode: int
    state_disagreements: int
    city_disagreements: int
    unknown_to_embedded: int

    def as_dict(self) -> dict:
        return attrs.asdict(self)


def _decode(path: Path) -> str:
    try:
        if path.exists() and not path.is_dir() and not path.is_file():  # /dev/zero, a FIFO
            raise PoolError(f"--zip-pool-file {path}: not a regular file")
        size = path.stat().st_size
        if size > MAX_POOL_BYTES:
            raise PoolError(
                f"--zip-pool-file {path}: {size:,} bytes is too large for a ZIP pool "
                f"(at most {MAX_POOL_BYTES:,})"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PoolError(f"--zip-pool-file {path}: no such file") from None
    except IsADirectoryError:
        raise PoolError(f"--zip-pool-file {path}: is a folder, not a file") from None
    except OSError as error:
        raise PoolError(f"--zip-pool-file {path}: cannot be read ({error.strerror})") from None
    if b"\x00" in raw[:4096]:
        raise PoolError(f"--zip-pool-file {path}: not a text file (save it as CSV)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PoolError(f"--zip-pool-file {path}: unreadable encoding (save it as UTF-8 CSV)")


def _read_frame(path: Path) -> pd.DataFrame:
    text = _decode(path)
    if not text.strip():
        raise PoolError(f"--zip-pool-file {path}: the file is empty")
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(row)]
    except csv.Error as error:
        raise PoolError(f"--zip-pool-file {path}: not a readable CSV ({error})") from None
    if not rows:
        raise PoolError(f"--zip-pool-file {path}: only empty rows, no header")
    header, body = rows[0], rows[1:]
    good = [[cell.strip() for cell in row] for row in body if len(row) == len(header)]
    frame = pd.DataFrame(good, columns=header, dtype=object)
    frame.attrs["bad_lines"] = len(body) - len(good)  # rows with too many or too few fields
    frame.columns = [
        str(c).strip().strip("\ufeff").lower().replace(" ", "_") for c in frame.columns
    ]
    read = {*ZIP_COLUMNS, *STATE_COLUMNS, *CITY_COLUMNS}
    twice = sorted({c for c in frame.columns[frame.columns.duplicated()] if c in read})
    if twice:
        raise PoolError(
            f"--zip-pool-file {path}: the header names {', '.join(map(repr, twice))} more "
            "than once; keep one column of each"
        )
    return frame


def _pick(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in frame.columns), None)


def normalise_zip(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Five-digit ZIP text, and a mask of values that could not be read as a ZIP. Only the
    ASCII digits 0-9 make a ZIP (fullwidth or Arabic-Indic digits do not: see
    ``non_ascii_digits``)."""
    text = values.astype(str).str.strip()
    text = text.str.replace(r"\.0+$", "", regex=True)  # 2134.0 from a spreadsheet
    text = text.str.split("-", n=1).str[0].str.strip()  # ZIP+4
    nine = text.str.fullmatch(r"[0-9]{9}")
    text = text.where(~nine, text.str[:5])
    valid = text.str.fullmatch(r"[0-9]{1,5}") & (text.str.len() > 0)
    return text.where(~valid, text.str.zfill(5)), ~valid


def non_ascii_digits(values: pd.Series) -> pd.Series:
    """Values that hold digits other than 0-9 (fullwidth, Arabic-Indic, ...)."""
    return values.astype(str).map(lambda text: any(c.isdigit() and not c.isascii() for c in text))


def load_zip_pool(path: Path) -> tuple[ZipTable, PoolReport]:
    """The pool as a ZipTable (with embedded positions, population and ages where known)."""
    path = Path(path)
    frame = _read_frame(path)
    zip_column = _pick(frame, ZIP_COLUMNS)
    if zip_column is None:
        found = ", ".join(frame.columns) or "none"
        raise PoolError(
            f"--zip-pool-file {path}: no ZIP column (zipcode, zip or postal_code); found: {found}"
        )
    state_column = _pick(frame, STATE_COLUMNS)
    city_column = _pick(frame, CITY_COLUMNS)
    rows_read = len(frame) + frame.attrs["bad_lines"]
    skipped: dict[str, int] = {"malformed_line": frame.attrs["bad_lines"]}

    zipcode, invalid = normalise_zip(frame[zip_column])
    # ZIPs written with other digits than 0-9 are refused (not converted), and counted apart
    foreign = invalid & non_ascii_digits(frame[zip_column])
    skipped["invalid_zipcode"] = int((invalid & ~foreign).sum())
    skipped["non_ascii_digits_in_zipcode"] = int(foreign.sum())
    pool = pd.DataFrame(
        {
            "zipcode": zipcode,
            "state": frame[state_column].str.strip().str.upper() if state_column else "",
            "city": frame[city_column].str.strip() if city_column else "",
        }
    )[~invalid]

    states = load_demography().states
    by_name = dict(zip(states["state_name"].str.upper(), states["state"]))
    pool["state"] = pool["state"].map(lambda s: by_name.get(s, s))

    reference = load_zip_reference()
    known = pd.Series(np.arange(len(reference)), index=reference.zipcode)
    row = known.reindex(pool["zipcode"].to_numpy()).to_numpy(dtype=float)
    is_known = ~np.isnan(row)
    safe = np.where(is_known, row, 0).astype(np.int64)
    embedded_state = np.where(is_known, reference.state[safe].astype(object), "")
    embedded_city = np.where(is_known, reference.city[safe], "")
    user_state = pool["state"].to_numpy(dtype=object)
    user_city = pool["city"].to_numpy(dtype=object)
    has_state, has_city = user_state != "", user_city != ""

    state_filled = ~has_state & is_known
    city_filled = ~has_city & is_known
    state_disagrees = has_state & is_known & (user_state != embedded_state)
    city_disagrees = (
        has_city
        & is_known
        & (pd.Series(user_city).str.upper() != pd.Series(embedded_city).str.upper()).to_numpy()
    )
    pool["state"] = np.where(has_state, user_state, embedded_state)
    pool["row"] = row

    no_state = (pool["state"] == "").to_numpy()
    valid_state = pool["state"].isin(states["state"]).to_numpy() | no_state
    skipped["unknown_zipcode_without_state"] = int(no_state.sum())
    skipped["state_not_in_50_states_and_dc"] = int((~valid_state).sum())
    usable = ~no_state & valid_state
    # A ZIP the embedded data does not know (PO boxes, unique ZIPs) borrows city, position and
    # age mix from the numerically closest known ZIP of its state.
    borrowed = nearest_known_row(reference, pool["zipcode"].to_numpy(), pool["state"].to_numpy())
    source = np.where(is_known, row, borrowed)
    source_ok = ~np.isnan(source)
    skipped["no_known_zipcode_in_state"] = int((usable & ~source_ok).sum())
    usable &= source_ok
    pool["source"] = source
    pool["city"] = np.where(
        has_city, user_city, reference.city[np.where(source_ok, source, 0).astype(np.int64)]
    )
    flags = pd.DataFrame(
        {
            "state": state_filled,
            "city": city_filled,
            "estimated": ~has_city & ~is_known,
            "sd": state_disagrees,
            "cd": city_disagrees,
        }
    )[usable]
    pool = pool[usable]
    duplicates = pool["zipcode"].duplicated().to_numpy()
    flags = flags[~duplicates]
    pool = pool[~duplicates]
    if pool.empty:
        raise PoolError(f"--zip-pool-file {path}: no usable rows (of {rows_read} read)")

    table = _table_from_pool(pool, reference)
    report = PoolReport(
        file=str(path),
        rows_read=rows_read,
        zipcodes_used=len(table),
        duplicate_rows=int(duplicates.sum()),
        skipped={k: v for k, v in skipped.items() if v},
        state_filled_from_embedded=int(flags["state"].sum()),
        city_filled_from_embedded=int(flags["city"].sum()),
        city_from_nearest_known_zipcode=int(flags["estimated"].sum()),
        state_disagreements=int(flags["sd"].sum()),
        city_disagreements=int(flags["cd"].sum()),
        unknown_to_embedded=int(pool["row"].isna().sum()),
    )
    return table, report


def nearest_known_row(reference: ZipTable, zipcodes: np.ndarray, states: np.ndarray) -> np.ndarray:
    """For each ZIP, the reference row of the numerically closest ZIP of the same state
    (NaN when the state has none)."""
    result = np.full(len(zipcodes), np.nan)
    numbers = np.array([int(z) for z in zipcodes.tolist()], dtype=np.int64)
    for state in np.unique(states):
        rows = reference.rows_of_state(str(state))
        mask = states == state
        if len(rows) == 0 or not mask.any():
            continue
        known = np.array([int(z) for z in reference.zipcode[rows].tolist()], dtype=np.int64)
        at = (
            np.clip(np.searchsorted(known, numbers[mask]), 1, len(known) - 1)
            if len(known) > 1
            else np.zeros(mask.sum(), dtype=np.int64)
        )
        if len(known) > 1:
            left_closer = np.abs(numbers[mask] - known[at - 1]) <= np.abs(known[at] - numbers[mask])
            at = np.where(left_closer, at - 1, at)
        result[mask] = rows[at]
    return result


def _table_from_pool(pool: pd.DataFrame, reference: ZipTable) -> ZipTable:
    """A ZipTable of the pool rows. Position and age mix come from the ZIP's own or borrowed
    reference row. A ZIP where the census counts nobody (or that it does not know) gets a small
    weight, UNPOPULATED_WEIGHT of its state's median populated pool ZIP: its patients are few,
    and states keep their census shares."""
    pool = pool.sort_values(["state", "zipcode"], kind="stable").reset_index(drop=True)
    source = pool["source"].to_numpy().astype(np.int64)
    own = pool["row"].to_numpy(dtype=float)
    population = np.where(
        np.isnan(own), 0.0, reference.population[np.where(np.isnan(own), 0, own).astype(np.int64)]
    )
    populated = pd.Series(np.where(population > 0, population, np.nan))
    medians = populated.groupby(pool["state"].to_numpy()).transform("median")
    fallback = float(np.median(reference.population[reference.population > 0]))
    floor = UNPOPULATED_WEIGHT * medians.fillna(fallback).to_numpy()
    population = np.where(population > 0, population, floor)
    return ZipTable(
        zipcode=pool["zipcode"].to_numpy(dtype=object),
        state=pool["state"].to_numpy(dtype=str),
        city=np.array([neutralise_formula(str(c)) for c in pool["city"].tolist()], dtype=object),
        lat=reference.lat[source],
        lon=reference.lon[source],
        population=population.astype(float),
        share_under_18=reference.share_under_18[source],
        share_18_24=reference.share_18_24[source],
        share_65_plus=reference.share_65_plus[source],
        poverty=reference.poverty[source],
        area=reference.area[source],
        large_metro=reference.large_metro[source],
    )
