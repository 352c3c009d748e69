"""A region's catchment population and the patients drawn from it.

Residents are drawn in blocks (ZIP, age, sex, family income and disability); their encounters
are planned at national rates (``sim.illness.plan_encounters``), more often for poorer and
disabled residents (``sim.coverage.utilisation_factor``, keeping the national rates);
residents are taken in order until the region's number of patients (residents with at least
one encounter in the window) is reached. The patients' chronic conditions get their diagnosis days
(``sim.illness.diagnosis_days``, from a stream of their own, so that no other draw moves). The
residents without an encounter are counted, never simulated: the population figures below let
rates per 1,000 residents be computed from the written tables.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from sim.calendar import add_years, to_datetime64
from sim.coverage import draw_disability, draw_incomes, utilisation_factor
from sim.epidemiology import TOP_AGE, load_rate_tables
from sim.illness import Diagnoses, EpisodePlan, diagnosis_days, plan_encounters
from sim.population import FEMALE, MALE, Residents, draw_residents
from sim.refdata import Catalog, Demography
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
    person_years: np.ndarray  # (sex, age 0..100): years lived in the window
    residents_by_year: dict[int, int]  # calendar year -> residents alive in it


def draw_catchment(
    scenario: Scenario,
    key: str,
    zips,
    residence_weights: np.ndarray,
    wanted: int,
    catalog: Catalog,
    demography: Demography,
) -> tuple[Residents, EpisodePlan, Diagnoses, Population]:
    """The region's ``wanted`` patients (as residents), their encounters, their chronic
    conditions' diagnoses and the population."""
    rates = load_rate_tables(catalog)
    start = to_datetime64(scenario.start)
    patients: list[Residents] = []
    plans: list[EpisodePlan] = []
    diagnoses: list[Diagnoses] = []
    used: list[Residents] = []
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
        income = draw_incomes(
            stream(scenario.seed, key, f"income-{block}"),
            zips.poverty[residents.zip_row],
            residents.age,
        )
        disabled = draw_disability(stream(scenario.seed, key, f"disability-{block}"), residents.age)
        residents = attrs.evolve(residents, income=income, disabled=disabled)
        plan, prevalent = plan_encounters(
            stream(scenario.seed, key, f"illness-{block}"),
            catalog,
            rates,
            birth=residents.birth,
            gender=residents.gender,
            start=start,
            horizon=scenario.horizon,
            min_gap=scenario.min_days_between_same_condition_episodes,
            clinic_share=scenario.clinic_review_share,
            utilisation=utilisation_factor(income, residents.age, disabled),
            pregnancy_utilisation=utilisation_factor(income, residents.age),
        )
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
        held = prevalent.subset(number[prevalent.patient] >= 0)
        day = diagnosis_days(
            stream(scenario.seed, key, f"diagnoses-{block}"),
            catalog,
            rates,
            held,
            birth=residents.birth,
            gender=residents.gender,
            plan=plan,
            start=start,
            horizon=scenario.horizon,
        )
        diagnoses.append(Diagnoses(number[held.patient], held.condition, day))
        patients.append(residents.subset(chosen))
        used.append(residents.subset(np.arange(cut)))
        found += len(chosen)
        drawn += cut
        block += 1
    everyone = _joined(used)
    plan = _joined(plans)
    plan = plan.subset(np.lexsort((plan.condition, plan.patient, plan.day)))
    return _joined(patients), plan, _joined(diagnoses), population_of(everyone, scenario)


def population_of(residents: Residents, scenario: Scenario) -> Population:
    """Person-years by sex and age, births and residents per year of the window."""
    start, today = to_datetime64(scenario.start), to_datetime64(scenario.today)
    end = today + np.timedelta64(1, "D")
    birth = np.asarray(residents.birth, dtype="datetime64[D]")
    person_years = np.zeros((2, TOP_AGE + 1))
    years_in_window = math.ceil(int((end - start).astype(np.int64)) / DAYS_PER_YEAR)
    # a lower bound of each age at the start; the loop covers every age lived in the window
    first_age = np.maximum((start - birth).astype(np.int64) // 366 - 1, 0)
    for step in range(years_in_window + 4):
        age = first_age + step
        begin = np.maximum(add_years(birth, age), start)
        finish = np.minimum(add_years(birth, age + 1), end)
        days = np.maximum((finish - begin).astype(np.int64), 0)
        np.add.at(person_years, (residents.gender, np.minimum(age, TOP_AGE)), days / DAYS_PER_YEAR)
    years = range(scenario.start.year, scenario.today.year + 1)
    by_year = {year: int((birth <= np.datetime64(f"{year}-12-31")).sum()) for year in years}
    return Population(
        residents=len(residents),
        births=int(((birth >= start) & (birth < end)).sum()),
        person_years=person_years,
        residents_by_year=by_year,
    )


def _joined(parts: list):
    """attrs records of arrays (``Residents``, ``EpisodePlan``) joined field by field."""
    kind = type(parts[0])
    return kind(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in attrs.fields(kind)))


assert (MALE, FEMALE) == (0, 1)  # person_years rows
