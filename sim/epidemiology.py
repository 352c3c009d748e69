"""How often residents need a hospital, by condition, age, sex and season.

The figures are national and sourced (``sim/data/epidemiology`` and ``sim/data/demography``,
each row with its source in the folder's ``sources.csv``); this module turns them into arrays
the planner draws from: per catalog condition and sex (``sim.population`` codes), a value per
single year of age 0..100 (100 = 100 and over), and per simulated day a seasonal weight.
"""

from __future__ import annotations

import datetime as dt
import functools

import attrs
import numpy as np

from sim.population import FEMALE, GENDERS, MALE
from sim.refdata import Catalog, read_csv, weekday_factors

TOP_AGE = 100
DELIVERY_CONDITION = "Childbirth"  # its stays are deliveries: births by the mother's age
SEXES = {"Male": (MALE,), "Female": (FEMALE,), "All": (MALE, FEMALE)}
assert set(GENDERS) <= set(SEXES)


@attrs.frozen
class RateTables:
    """Per catalog condition (``Condition.code``): how often, by sex and single year of age."""

    stays: np.ndarray  # (condition, sex, age) inpatient stays per person-year
    emergency: np.ndarray  # ED visits treated and released per person-year
    prevalence: np.ndarray  # share of residents who have a chronic condition (0 otherwise)
    clinic: np.ndarray  # (condition,) clinic visits per year for those who have it
    chronic: np.ndarray  # (condition,) bool
    season: tuple[str, ...]  # per condition: its seasonal series ("" = all admissions)


@functools.lru_cache(maxsize=1)
def population_figures() -> dict[str, float]:
    """National figures of the population by name (``readmission_other_hospital_share``, ...)."""
    table = read_csv("demography/figures.csv")
    return {row.figure: float(row.value) for row in table.itertuples(index=False)}


@functools.lru_cache(maxsize=1)
def weekend_discharge_move() -> tuple[float, ...]:
    """Per weekday (0 = Monday): the chance that a stay due to end that day ends on a weekday
    instead. Weekdays move none; a weekend day moves what its discharges fall short of the
    weekday mean (``demography/weekdays.csv``, series ``discharges``)."""
    factor = weekday_factors("discharges")
    weekday_mean = sum(factor[:5]) / 5
    return tuple(0.0 if day < 5 else max(0.0, 1.0 - factor[day] / weekday_mean) for day in range(7))


def load_rate_tables(catalog: Catalog) -> RateTables:
    """The rate tables of the catalog's conditions (every condition must have its rows)."""
    return _load_rate_tables(catalog.conditions)


@functools.lru_cache(maxsize=4)
def _load_rate_tables(conditions: tuple) -> RateTables:
    rates = read_csv("epidemiology/rates.csv")
    kinds = read_csv("epidemiology/conditions.csv").set_index("condition")["kind"]
    seasons = read_csv("epidemiology/seasons.csv").set_index("condition")["series"]
    shape = (len(conditions), 2, TOP_AGE + 1)
    arrays = {m: np.zeros(shape) for m in ("inpatient_per_1000", "ed_per_1000", "prevalence")}
    clinic = np.zeros(len(conditions))
    for condition in conditions:
        rows = rates[rates["condition"] == condition.name]
        if rows.empty:
            raise ValueError(f"epidemiology/rates.csv has no rows for {condition.name}")
        for row in rows.itertuples(index=False):
            if row.measure == "clinic_visits_per_year":
                clinic[condition.code] = row.value
                continue
            scale = 1000.0 if row.measure.endswith("_per_1000") else 1.0
            for sex in SEXES[row.sex]:
                ages = slice(int(row.age_low), min(int(row.age_high), TOP_AGE) + 1)
                arrays[row.measure][condition.code, sex, ages] = row.value / scale
    deliveries = [c for c in conditions if c.name == DELIVERY_CONDITION]
    if deliveries:  # by five-year maternal age (NCHS), finer than the stays' bands
        code = deliveries[0].code
        arrays["inpatient_per_1000"][code] = 0.0
        for row in read_csv("demography/fertility.csv").itertuples(index=False):
            ages = slice(int(row.age_low), min(int(row.age_high), TOP_AGE) + 1)
            arrays["inpatient_per_1000"][code, FEMALE, ages] = row.births_per_1000_women / 1000
    return RateTables(
        stays=arrays["inpatient_per_1000"],
        emergency=arrays["ed_per_1000"],
        prevalence=arrays["prevalence"],
        clinic=clinic,
        chronic=np.array([kinds.get(c.name) == "chronic" for c in conditions]),
        season=tuple(str(seasons.get(c.name, "")) for c in conditions),
    )


@functools.lru_cache(maxsize=8)
def day_weights(season: tuple[str, ...], start: dt.date, horizon: int) -> np.ndarray:
    """(condition, day 0..horizon): each day's weight for new encounters of conditions with
    these seasonal series (``RateTables.season``), mean about 1 over a year (the season's
    factor of the month; COVID-19 the wave of the month). Cached: the result is shared."""
    days = np.datetime64(start, "D") + np.arange(horizon + 1)
    month_index = days.astype("datetime64[M]")
    month = month_index.astype(np.int64) % 12  # 0 = January
    table = read_csv("demography/seasonality.csv")
    by_series = {
        name: group.sort_values("month")["factor"].to_numpy(dtype=float)
        for name, group in table.groupby("series")
    }
    waves = read_csv("demography/covid_waves.csv")
    wave_months = waves["month"].to_numpy(dtype="datetime64[M]")
    wave = np.zeros(len(days))
    known = np.searchsorted(wave_months, month_index)
    found = (known < len(wave_months)) & (
        wave_months[np.minimum(known, len(wave_months) - 1)] == month_index
    )
    factor = waves["factor"].to_numpy(dtype=float)
    # COVID-19 rates (rates.csv) are those of 2021: a month's weight is its wave over 2021's mean
    in_2021 = (wave_months >= np.datetime64("2021-01")) & (wave_months <= np.datetime64("2021-12"))
    wave[found] = factor[known[found]] / factor[in_2021].mean()
    weights = np.empty((len(season), len(days)))
    for code, series in enumerate(season):
        if series == "covid":
            weights[code] = wave
        else:
            weights[code] = by_series[series or "all_admissions"][month]
    return weights
