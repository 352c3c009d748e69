"""A region's catchment population and the patients drawn from it.

Residents are drawn in blocks (ZIP, age, sex only); their encounters are planned at national
rates (``sim.illness.plan_encounters``); residents are taken in order until the region's number
of patients (residents with at least one encounter in the window) is reached. The residents
without an encounter are counted, never simulated: the population figures below let rates per
1,000 residents be computed from the written tables.

Every resident drawn may die outside hospital in the window, at the US life table's rate for
their sex and age (times the calendar year's trend) times the share of deaths that happen
outside hospital: deaths in hospital come from the stays on the timeline. A resident's
encounters planned on or after that day are dropped before the patients are chosen, so a
resident whose only encounters would come after death is no patient.
"""

from __future__ import annotations

import functools
import math

import attrs
import numpy as np

from sim.calendar import add_years, age_on, to_datetime64
from sim.epidemiology import TOP_AGE, load_rate_tables, population_figures
from sim.illness import EpisodePlan, plan_encounters
from sim.population import FEMALE, GENDERS, MALE, Residents, draw_residents
from sim.refdata import Catalog, Demography, read_csv
from sim.rng import stream
from sim.scenario import Scenario

# The first block of residents is this many times the patients still wanted (most residents
# have an encounter in a few years); later blocks are sized by the share found so far (with
# this margin), until enough are found.
FIRST_BLOCK_FACTOR = 1.6
LATER_BLOCK_MARGIN = 1.2
MIN_BLOCK = 200
MAX_BLOCK = 2_000_000
DAYS_PER_YEAR = 365.25


@attrs.frozen
class Population:
    """What the region's residents add up to (all residents drawn, patients or not)."""

    residents: int
    births: int  # residents born in the window
    # residents who are not patients and die (outside hospital) in the window; the patients'
    # deaths are events of the timeline
    other_deaths: int
    # (sex, age 0..100): years lived in the window, up to the day of death drawn here (the
    # patients' deaths on the timeline correct it: ``sim.facts``)
    person_years: np.ndarray
    residents_by_year: dict[int, int]  # calendar year -> residents alive in it


def draw_catchment(
    scenario: Scenario,
    key: str,
    zips,
    residence_weights: np.ndarray,
    wanted: int,
    catalog: Catalog,
    demography: Demography,
) -> tuple[Residents, EpisodePlan, Population]:
    """The region's ``wanted`` patients (as residents), their encounters and the population."""
    rates = load_rate_tables(catalog)
    start = to_datetime64(scenario.start)
    patients: list[Residents] = []
    plans: list[EpisodePlan] = []
    used: list[Residents] = []
    used_patients: list[np.ndarray] = []
    found = 0
    block = 0
    drawn = 0
    while found < wanted:
        if drawn and not found:  # nobody yet (a very short window): four times as many
            size = 4 * drawn
        else:
            hit_rate = found / drawn if drawn else 1.0 / FIRST_BLOCK_FACTOR
            size = math.ceil((wanted - found) / hit_rate * LATER_BLOCK_MARGIN)
        size = min(max(MIN_BLOCK, size), MAX_BLOCK)
        residents = draw_residents(
            stream(scenario.seed, key, f"residents-{block}"),
            size,
            zips,
            residence_weights,
            scenario.today,
            demography,
        )
        residents = attrs.evolve(
            residents,
            death=draw_deaths(
                stream(scenario.seed, key, f"deaths-{block}"),
                residents.birth,
                residents.gender,
                start,
                to_datetime64(scenario.today),
            ),
        )
        plan = plan_encounters(
            stream(scenario.seed, key, f"illness-{block}"),
            catalog,
            rates,
            birth=residents.birth,
            gender=residents.gender,
            start=start,
            horizon=scenario.horizon,
            min_gap=scenario.min_days_between_same_condition_episodes,
            clinic_share=scenario.clinic_review_share,
        )
        death_day = _sim_days(residents.death, start, scenario.horizon + 1)
        plan = plan.subset(plan.day < death_day[plan.patient])
        has = np.bincount(plan.patient, minlength=size) > 0
        taken = np.cumsum(has)
        cut = (
            size if taken[-1] <= wanted - found else int(np.searchsorted(taken, wanted - found)) + 1
        )
        chosen = np.flatnonzero(has[:cut])
        number = np.full(size, -1, dtype=np.int64)
        number[chosen] = found + np.arange(len(chosen))
        in_plan = number[plan.patient] >= 0
        kept = plan.subset(in_plan)
        plans.append(attrs.evolve(kept, patient=number[kept.patient]))
        patients.append(residents.subset(chosen))
        used.append(residents.subset(np.arange(cut)))
        used_patients.append(has[:cut])
        found += len(chosen)
        drawn += cut
        block += 1
    everyone = _joined(used)
    plan = _joined(plans)
    plan = plan.subset(np.lexsort((plan.condition, plan.patient, plan.day)))
    population = population_of(everyone, scenario, np.concatenate(used_patients))
    return _joined(patients), plan, population


def population_of(residents: Residents, scenario: Scenario, patients: np.ndarray) -> Population:
    """Person-years by sex and age, births, deaths of the residents who are not
    ``patients`` (a mask) and residents per year of the window."""
    start, today = to_datetime64(scenario.start), to_datetime64(scenario.today)
    end = today + np.timedelta64(1, "D")
    birth = np.asarray(residents.birth, dtype="datetime64[D]")
    death = np.asarray(residents.death, dtype="datetime64[D]")
    alive_until = np.where(np.isnat(death), end, np.minimum(death, end))
    years = range(scenario.start.year, scenario.today.year + 1)
    by_year = {
        year: int(
            (
                (birth <= np.datetime64(f"{year}-12-31"))
                & (alive_until > np.datetime64(f"{year}-01-01"))
            ).sum()
        )
        for year in years
    }
    died = ~np.isnat(death) & (death >= start) & (death < end)
    return Population(
        residents=len(residents),
        births=int(((birth >= start) & (birth < end)).sum()),
        other_deaths=int((died & ~patients).sum()),
        person_years=person_years(birth, residents.gender, start, alive_until),
        residents_by_year=by_year,
    )


def person_years(
    birth: np.ndarray, gender: np.ndarray, begin: np.datetime64 | np.ndarray, end: np.ndarray
) -> np.ndarray:
    """(sex, age 0..100): the years each person lives from ``begin`` (or birth) to the day
    before ``end``, by the age at which they are lived."""
    birth = np.asarray(birth, dtype="datetime64[D]")
    begin = np.maximum(np.asarray(begin, dtype="datetime64[D]"), birth)
    end = np.asarray(end, dtype="datetime64[D]")
    result = np.zeros((2, TOP_AGE + 1))
    if not len(birth):
        return result
    longest = int((end - begin).astype(np.int64).max(initial=0))
    age = age_on(birth, begin)
    for step in range(math.ceil(longest / DAYS_PER_YEAR) + 2):
        lo = np.maximum(add_years(birth, age + step), begin)
        hi = np.minimum(add_years(birth, age + step + 1), end)
        days = np.maximum((hi - lo).astype(np.int64), 0)
        np.add.at(result, (gender, np.minimum(age + step, TOP_AGE)), days / DAYS_PER_YEAR)
    return result


@functools.lru_cache(maxsize=1)
def _death_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The probability of dying outside hospital within a year of age, by (sex, age 0..100):
    the life table's ``qx`` times the share of deaths not in hospital; and the calendar years
    of the mortality trend with their factors."""
    table = read_csv("demography/life_table.csv")
    qx = np.zeros((2, TOP_AGE + 1))
    for code, sex in enumerate(GENDERS):
        rows = table[table["sex"] == sex].sort_values("age")
        qx[code, rows["age"].to_numpy(dtype=np.int64)] = rows["qx"].to_numpy(dtype=float)
    elsewhere = 1.0 - population_figures()["in_hospital_share_of_deaths"]
    trend = read_csv("demography/mortality_trend.csv").sort_values("year")
    return (
        qx * elsewhere,
        trend["year"].to_numpy(dtype=np.int64),
        trend["factor"].to_numpy(dtype=float),
    )


@functools.lru_cache(maxsize=64)
def yearly_death_hazard(year: int) -> np.ndarray:
    """(sex, age 0..100): the hazard (per year) of dying outside hospital in a calendar year.

    A year before the trend's first year takes the first year's factor, a year after its
    last the last year's."""
    qx, years, factors = _death_tables()
    factor = factors[min(int(np.searchsorted(years, year)), len(years) - 1)]
    return -np.log1p(-np.minimum(qx * factor, 1.0 - 1e-12))


def draw_deaths(
    rng: np.random.Generator,
    birth: np.ndarray,
    gender: np.ndarray,
    start: np.datetime64,
    today: np.datetime64,
) -> np.ndarray:
    """The day each person dies outside hospital in ``[start, today]``, NaT for none.

    The hazard is constant within each year of age and calendar year
    (``yearly_death_hazard``); one exponential draw per person is the cumulative hazard
    they die at. A newborn is exposed from the day after birth (the birth stay comes first).
    """
    birth = np.asarray(birth, dtype="datetime64[D]")
    count = len(birth)
    end = today + np.timedelta64(1, "D")
    death = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
    if not count:
        return death
    need = rng.standard_exponential(count)
    first = np.maximum(birth + np.timedelta64(1, "D"), start)
    age = age_on(birth, first)
    alive = first < end
    for step in range(math.ceil(int((end - start).astype(np.int64)) / DAYS_PER_YEAR) + 2):
        lo = np.maximum(add_years(birth, age + step), first)
        hi = np.minimum(add_years(birth, age + step + 1), end)
        year = lo.astype("datetime64[Y]").astype(np.int64) + 1970
        new_year = (lo.astype("datetime64[Y]") + 1).astype("datetime64[D]")
        at = np.minimum(age + step, TOP_AGE)
        # the year of age in its two calendar years
        for piece_lo, piece_hi, piece_year in (
            (lo, np.minimum(hi, new_year), year),
            (np.maximum(lo, new_year), hi, year + 1),
        ):
            days = np.maximum((piece_hi - piece_lo).astype(np.int64), 0)
            rate = np.empty(count)
            for y in np.unique(piece_year[alive]).tolist():
                chosen = piece_year == y
                rate[chosen] = yearly_death_hazard(y)[gender[chosen], at[chosen]] / DAYS_PER_YEAR
            rate[~alive] = 0.0
            used = rate * days
            dies = alive & (days > 0) & (need < used)
            offset = np.floor(need[dies] / rate[dies]).astype(np.int64)
            death[dies] = piece_lo[dies] + np.minimum(offset, days[dies] - 1)
            need = need - used
            alive &= ~dies
    return death


def _sim_days(days: np.ndarray, start: np.datetime64, missing: int) -> np.ndarray:
    """Dates as simulation days, ``missing`` for NaT."""
    days = np.asarray(days, dtype="datetime64[D]")
    return np.where(np.isnat(days), missing, (days - start).astype(np.int64))


def _joined(parts: list):
    """attrs records of arrays (``Residents``, ``EpisodePlan``) joined field by field."""
    kind = type(parts[0])
    return kind(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in attrs.fields(kind)))


assert (MALE, FEMALE) == (0, 1)  # person_years rows
