"""A region's catchment population and the patients drawn from it.

Residents are drawn in blocks (ZIP, age, sex, family income and disability); their encounters
are planned at national rates (``sim.illness.plan_encounters``), more often for poorer and
disabled residents (``sim.coverage.utilisation_factor``, keeping the national rates);
residents are taken in order until the region's number of patients (residents with at least
one encounter in the window) is reached. Encounters are planned from the burn-in's first day
(``Scenario.clock_start``), so that the patients' episodes begun before ``--start`` bring their
follow-ups into the window; a resident whose only encounters fall in the burn-in is no patient.
The patients' chronic conditions get their diagnosis days (``sim.illness.diagnosis_days``, from
a stream of their own, so that no other draw moves). The residents without an encounter are
counted, never simulated: the population figures below let rates per 1,000 residents be
computed from the written tables.

Every resident drawn may die outside hospital in the window, at the US life table's rate for
their sex and age (times the calendar year's trend) times the share of deaths that happen
outside hospital: deaths in hospital come from the stays on the timeline. A resident's
encounters planned on or after that day are dropped before the patients are chosen, so a
resident whose only encounters would come after death is no patient.

Each resident born in the window is given a mother among the block's women who can deliver
that day (``assign_mothers``): her delivery on the birthday replaces the deliveries drawn at
the fertility rates, the newborn lives at her ZIP, and mother and newborns are taken as
patients together (``take_families``), so that ``--patients N`` stays exact.
"""

from __future__ import annotations

import functools
import math

import attrs
import numpy as np

from sim.calendar import add_years, age_on, date_keys, to_datetime64
from sim.coverage import draw_disability, draw_incomes, utilisation_factor
from sim.epidemiology import DELIVERY_CONDITION, TOP_AGE, load_rate_tables, population_figures
from sim.illness import (
    CLINIC_REVIEW,
    DIRECT_STAY,
    NEWBORN_CONDITION,
    Diagnoses,
    EpisodePlan,
    diagnosis_days,
    plan_encounters,
)
from sim.population import FEMALE, GENDERS, MALE, NO_MOTHER, Residents, draw_residents
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
# A mother's ED visits and direct stays planned in the weeks before her delivery are dropped,
# so that she is not in another stay on the day (the delivery is never put off).
PRE_DELIVERY_DAYS = 42


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
) -> tuple[Residents, EpisodePlan, Diagnoses, Population]:
    """The region's ``wanted`` patients (as residents), their encounters, their chronic
    conditions' diagnoses and the population."""
    rates = load_rate_tables(catalog)
    start = to_datetime64(scenario.clock_start)  # simulation day 0: the burn-in's first
    patients: list[Residents] = []
    plans: list[EpisodePlan] = []
    diagnoses: list[Diagnoses] = []
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
        income = draw_incomes(
            stream(scenario.seed, key, f"income-{block}"),
            zips.poverty[residents.zip_row],
            residents.age,
        )
        disabled = draw_disability(stream(scenario.seed, key, f"disability-{block}"), residents.age)
        residents = attrs.evolve(
            residents,
            death=draw_deaths(
                stream(scenario.seed, key, f"deaths-{block}"),
                residents.birth,
                residents.gender,
                to_datetime64(scenario.start),
                to_datetime64(scenario.today),
            ),
            income=income,
            disabled=disabled,
        )
        mother = assign_mothers(
            stream(scenario.seed, key, f"mothers-{block}"), residents, catalog, rates, start
        )
        residents = _with_mothers(residents, mother)  # a newborn shares the mother's means
        income, disabled = residents.income, residents.disabled
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
            written_from=scenario.first_day,
        )
        death_day = _sim_days(residents.death, start, scenario.horizon + 1)
        plan = plan.subset(plan.day < death_day[plan.patient])
        plan = _deliveries_from_births(plan, residents, catalog, start)
        written = plan.day >= scenario.first_day
        has = np.bincount(plan.patient[written], minlength=size) > 0
        used_rows = take_families(has, residents.mother, wanted - found)
        chosen = used_rows[has[used_rows]]
        number = np.full(size, -1, dtype=np.int64)
        number[chosen] = found + np.arange(len(chosen))
        # a linked newborn's birth stay comes with the mother's delivery on the timeline
        newborn = catalog.by_name[NEWBORN_CONDITION].code
        linked_birth = (plan.condition == newborn) & (residents.mother[plan.patient] >= 0)
        kept = plan.subset((number[plan.patient] >= 0) & ~linked_birth)
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
        chosen_residents = residents.subset(chosen)
        linked = chosen_residents.mother >= 0
        patients.append(
            attrs.evolve(
                chosen_residents,
                mother=np.where(linked, number[np.maximum(chosen_residents.mother, 0)], NO_MOTHER),
            )
        )
        used.append(attrs.evolve(residents.subset(used_rows), mother=np.full(len(used_rows), -1)))
        used_patients.append(has[used_rows])
        found += len(chosen)
        drawn += int(used_rows.max(initial=-1)) + 1
        block += 1
    everyone = _joined(used)
    plan = _joined(plans)
    plan = plan.subset(np.lexsort((plan.condition, plan.patient, plan.day)))
    population = population_of(everyone, scenario, np.concatenate(used_patients))
    return _joined(patients), plan, _joined(diagnoses), population


def assign_mothers(
    rng: np.random.Generator,
    residents: Residents,
    catalog: Catalog,
    rates,
    start: np.datetime64,
) -> np.ndarray:
    """For each resident born in the window (in birth order), the position of their mother
    among the block's women, -1 when none can be found: a woman alive that day, of the
    delivery's ages (18-50), with fewer than its most deliveries and the last one long enough
    before (the catalog's Childbirth rules), drawn by her age's fertility rate (NCHS), higher
    the poorer she is (``sim.coverage.utilisation_factor`` of her income, when known)."""
    condition = catalog.by_name[DELIVERY_CONDITION]
    fertility = rates.stays[condition.code, FEMALE]
    birth = np.asarray(residents.birth, dtype="datetime64[D]")
    mother = np.full(len(birth), NO_MOTHER, dtype=np.int64)
    born = np.flatnonzero(birth >= start)
    born = born[np.argsort(birth[born], kind="stable")]
    women = np.flatnonzero((residents.gender == FEMALE) & (birth < start))
    if not len(born) or not len(women):
        return mother
    youngest, oldest = condition.min_age, condition.max_age
    days = birth[born].astype(np.int64)  # days as integers (since 1970)
    keys = date_keys(birth[born])
    death = np.asarray(residents.death[women], dtype="datetime64[D]")
    until = np.where(np.isnat(death), np.iinfo(np.int64).max, death.astype(np.int64))
    their_birth = date_keys(birth[women])
    # only the women of the delivery's ages on some birthday of the block, alive on the first,
    # can be drawn (and the last woman, whom a draw at the very top of the total falls on):
    # the others weigh nothing, and leaving them out of the running total changes no sum
    candidates = (
        (their_birth <= keys[-1] - youngest * 10000)
        & (their_birth > keys[0] - (oldest + 1) * 10000)
        & (until > days[0])
    )
    candidates[-1] = True
    women, their_birth, until = women[candidates], their_birth[candidates], until[candidates]
    means = (
        1.0
        if residents.income is None
        else utilisation_factor(residents.income[women], residents.age[women])
    )
    # a woman can deliver from ``ready`` (her last delivery the spacing before) to the day
    # before ``until`` (her death, or her last delivery once she has had the most)
    spacing = condition.min_days_between_episodes or 0
    never_before = np.datetime64("1900-01-01", "D").astype(np.int64)
    ready = np.full(len(women), never_before + spacing)
    deliveries = np.zeros(len(women), dtype=np.int64)
    most = condition.max_episodes_per_patient or len(born)
    draws = rng.random(len(born))
    for child, u, day, key in zip(born.tolist(), draws.tolist(), days.tolist(), keys.tolist()):
        age = (key - their_birth) // 10000  # never negative: she was born before the window
        weight = np.where(
            (age >= youngest) & (age <= oldest) & (ready <= day) & (day < until),
            fertility[np.minimum(age, TOP_AGE)] * means,
            0.0,
        )
        cumulative = np.cumsum(weight)
        if cumulative[-1] <= 0:
            continue
        pick = min(
            int(np.searchsorted(cumulative, u * cumulative[-1], side="right")), len(women) - 1
        )
        mother[child] = women[pick]
        deliveries[pick] += 1
        ready[pick] = day + spacing
        if deliveries[pick] >= most:  # the births come in date order: none later
            until[pick] = day
    return mother


def _with_mothers(residents: Residents, mother: np.ndarray) -> Residents:
    """The residents with their mothers, each linked newborn living at the mother's ZIP with
    the family's income."""
    linked = mother >= 0
    zip_row = residents.zip_row.copy()
    zip_row[linked] = residents.zip_row[mother[linked]]
    income = residents.income
    if income is not None:
        income = income.copy()
        income[linked] = income[mother[linked]]
    return attrs.evolve(residents, zip_row=zip_row, mother=mother, income=income)


def _deliveries_from_births(
    plan: EpisodePlan, residents: Residents, catalog: Catalog, start: np.datetime64
) -> EpisodePlan:
    """The plan with one delivery per linked birth (the mother's, on the birthday) instead of
    the deliveries drawn at the fertility rates, and without the mother's other ED visits and
    direct stays in the weeks before it (she is not admitted for anything else then)."""
    delivery = catalog.by_name[DELIVERY_CONDITION].code
    child = np.flatnonzero(residents.mother >= 0)
    mother = residents.mother[child]
    day = (np.asarray(residents.birth[child], dtype="datetime64[D]") - start).astype(np.int64)
    span = int(max(day.max(initial=0), plan.day.max(initial=0))) + 1
    keys = np.sort(mother * span + day)
    # each item's days to its patient's next delivery (on or after its day)
    item = plan.patient * span + plan.day
    ahead = np.full(len(plan), span)
    if len(keys):
        ahead = keys[np.minimum(np.searchsorted(keys, item), len(keys) - 1)] - item
    near_term = (ahead >= 0) & (ahead <= PRE_DELIVERY_DAYS) & (plan.kind != CLINIC_REVIEW)
    plan = plan.subset((plan.condition != delivery) & ~near_term)
    count = len(child)
    births = EpisodePlan(
        mother, np.full(count, delivery), day, np.full(count, DIRECT_STAY), np.zeros(count)
    )
    joined = _joined([plan, births])
    return joined.subset(np.lexsort((joined.condition, joined.patient, joined.day)))


def take_families(has: np.ndarray, mother: np.ndarray, wanted: int) -> np.ndarray:
    """The rows of a block's residents taken (in order) so that exactly ``wanted`` of them have
    encounters (or all of them, when fewer do), a mother and her linked newborns together: a
    family is taken at its mother's place, and one that would overshoot is left out."""
    family = np.where(mother >= 0, mother, np.arange(len(has)))
    patients = np.bincount(family, weights=has, minlength=len(has)).astype(np.int64)
    total = np.cumsum(patients)
    if total[-1] <= wanted:
        return np.arange(len(has))
    last = int(np.searchsorted(total, wanted))  # the first family reaching the number
    left_out = []
    got = int(total[last])
    if got > wanted:  # a family too large for the rest: later single patients instead
        left_out.append(last)
        got = int(total[last - 1]) if last else 0
        while got < wanted and last + 1 < len(has):
            last += 1
            if got + patients[last] <= wanted:
                got += int(patients[last])
            else:
                left_out.append(last)
    families = (family <= last) & ~np.isin(family, left_out)
    return np.flatnonzero(families)


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
    birthday = add_years(birth, age)
    for step in range(math.ceil(longest / DAYS_PER_YEAR) + 2):
        lo = np.maximum(birthday, begin)
        birthday = add_years(birth, age + step + 1)
        hi = np.minimum(birthday, end)
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
    birthday = add_years(birth, age)
    for step in range(math.ceil(int((end - start).astype(np.int64)) / DAYS_PER_YEAR) + 2):
        lo = np.maximum(birthday, first)
        birthday = add_years(birth, age + step + 1)
        hi = np.minimum(birthday, end)
        calendar_year = lo.astype("datetime64[Y]")
        year = calendar_year.astype(np.int64) + 1970
        new_year = (calendar_year + 1).astype("datetime64[D]")
        at = np.minimum(age + step, TOP_AGE)
        first_year = int(year.min())
        hazard = np.stack([yearly_death_hazard(y) for y in range(first_year, int(year.max()) + 2)])
        # the year of age in its two calendar years
        for piece_lo, piece_hi, piece_year in (
            (lo, np.minimum(hi, new_year), year),
            (np.maximum(lo, new_year), hi, year + 1),
        ):
            days = np.maximum((piece_hi - piece_lo).astype(np.int64), 0)
            by_year = hazard[piece_year - first_year, gender, at]
            rate = np.where(alive, by_year / DAYS_PER_YEAR, 0.0)
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
