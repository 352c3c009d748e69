"""Dates as integer days, vectorised: the simulation never builds a datetime per row.

Two kinds of day numbers appear: simulation days (0 = ``--start``) and calendar days
(``numpy.datetime64[D]``). Conversion happens once per column.
"""

from __future__ import annotations

import datetime as dt

import numpy as np


def to_datetime64(day: dt.date) -> np.datetime64:
    return np.datetime64(day, "D")


def years_before(day: dt.date, years: np.ndarray) -> np.ndarray:
    """``day`` moved back by each number of whole years (29 February becomes 28 February)."""
    distinct = np.unique(years)
    table = {}
    for y in distinct.tolist():
        try:
            table[y] = day.replace(year=day.year - y)
        except ValueError:
            table[y] = day.replace(year=day.year - y, day=28)
    lookup = np.array([np.datetime64(table[y], "D") for y in distinct.tolist()])
    return lookup[np.searchsorted(distinct, years)]


def add_years(days: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """Each date moved forward by whole years; 29 February becomes 1 March in other years, so
    that ``age_on(birth, add_years(birth, n)) == n`` always holds."""
    days = np.asarray(days, dtype="datetime64[D]")
    months = days.astype("datetime64[M]")
    offset = days - months.astype("datetime64[D]")
    return (months + 12 * np.asarray(years)).astype("datetime64[D]") + offset


def split_dates(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day of month of datetime64[D] values."""
    days = np.asarray(days, dtype="datetime64[D]")
    months = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    return year, month, day


def age_on(birth: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whole years from ``birth`` to ``day``, birthday-exact (a birthday on ``day`` counts)."""
    by, bm, bd = split_dates(birth)
    dy, dm, dd = split_dates(day)
    before_birthday = (dm * 100 + dd) < (bm * 100 + bd)
    return dy - by - before_birthday.astype(np.int64)


def date_keys(days: np.ndarray) -> np.ndarray:
    """Dates as integers yyyymmdd: ``(later - earlier) // 10000`` is the age in whole years,
    as ``age_on`` counts it."""
    year, month, day = split_dates(days)
    return year * 10000 + month * 100 + day


def year_of_sim_day(start: dt.date, horizon: int) -> np.ndarray:
    """Calendar year of each simulation day 0..horizon."""
    days = to_datetime64(start) + np.arange(horizon + 1)
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


def weekday_of_days(start: dt.date, first: int, last: int) -> np.ndarray:
    """Weekday (0 = Monday) of simulation days ``first..last`` (may be negative)."""
    days = np.datetime64(start, "D") + np.arange(first, last + 1)
    return (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
