"""When residents need a hospital: each resident's encounters, drawn from national rates.

For every condition of the catalog and every resident, encounters come as Poisson counts over
the days the condition's gating allows, at the rates of the resident's sex and of the age on
each encounter's day (drawn at the highest rate of the ages lived, then thinned to the day's
age, so that rates rise as residents grow older in the window), spread over the days
by the condition's season and by the weekday pattern of the kind (``demography/weekdays.csv``:
ED visits peak on Mondays, urgent stays dip at weekends, clinic reviews are booked on weekdays).
Three kinds:

- an *ED arrival* (treated and released, or admitted through the ED: the ED's release share of
  the resident's age is kept with it);
- a *direct stay* (planned or urgent, not through the ED);
- a *clinic review* of a chronic condition the resident has.

A resident born in the window has a birth stay (the ``Newborn`` condition) on their birthday;
``sim.catchment`` links it to the mother's delivery, which replaces the Childbirth encounters
drawn here.

Chronic conditions come from their prevalence first: only a resident who has the condition has
its encounters, at the population's rates divided by the prevalence. Whether an encounter
happens as planned, and everything after, is decided on the simulation timeline.

Who has a chronic condition is kept (``Prevalent``): each such resident gets a diagnosis day
(``diagnosis_days``), which may lie before ``--start``, for the problem list; the simulation
logs it on that day (``log_diagnoses``), at registration when it is earlier.
"""

from __future__ import annotations

import attrs
import numpy as np

from sim.calendar import add_years, age_on, weekday_of_days
from sim.epidemiology import TOP_AGE, RateTables
from sim.population import FEMALE, MALE
from sim.refdata import Catalog, weekday_factors

ED_ARRIVAL, DIRECT_STAY, CLINIC_REVIEW = range(3)
NEWBORN_CONDITION = "Newborn"  # a resident born in the window has one birth stay, that day
DAYS_PER_YEAR = 365.25
# the weekday pattern each kind's days follow (a planned stay is then booked by the pattern of
# planned admissions on the timeline: sim.processes)
WEEKDAY_SERIES = {
    ED_ARRIVAL: "ed_visits",
    DIRECT_STAY: "urgent_admissions",
    CLINIC_REVIEW: "clinic_visits",
}


@attrs.frozen
class Prevalent:
    """The residents who have a chronic condition (one element per resident and condition),
    and the age at which the prevalence drawn them was read."""

    patient: np.ndarray
    condition: np.ndarray
    age: np.ndarray  # whole years: the age in the middle of the condition's days

    def __len__(self) -> int:
        return len(self.patient)

    def subset(self, keep: np.ndarray) -> Prevalent:
        """The elements where ``keep`` holds."""
        return Prevalent(self.patient[keep], self.condition[keep], self.age[keep])


@attrs.frozen
class Diagnoses:
    """The day (simulation day, negative before ``--start``) on which each patient's chronic
    condition is diagnosed, one element per patient and condition."""

    patient: np.ndarray
    condition: np.ndarray
    day: np.ndarray

    def __len__(self) -> int:
        return len(self.patient)


@attrs.frozen
class EpisodePlan:
    """Encounters of a region's residents, sorted by (day, resident, condition)."""

    patient: np.ndarray
    condition: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # ED_ARRIVAL, DIRECT_STAY or CLINIC_REVIEW
    release: np.ndarray  # an ED arrival's chance of going home the same day (national)

    def __len__(self) -> int:
        return len(self.day)

    def subset(self, keep: np.ndarray) -> EpisodePlan:
        """The plan's items where ``keep`` holds."""
        return EpisodePlan(*(getattr(self, f.name)[keep] for f in attrs.fields(EpisodePlan)))


# Episodes of an age-limited condition must begin this many days before the patient passes
# the maximum age, so that waiting for a room or for another stay to end cannot push the
# admission past it.
MAX_AGE_MARGIN_DAYS = 30


def onset_windows(
    catalog: Catalog, birth: np.ndarray, gender: np.ndarray, start: np.datetime64, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """First and last simulation day on which each (patient, condition) episode may begin.

    Days follow the condition's gating: after birth, from the minimum age (18 when adult-only)
    and, for an age range, up to the day before the patient turns one year older than the
    maximum age (minus a margin). A window whose first day is after its last is empty.
    """
    birth = np.asarray(birth, dtype="datetime64[D]")
    first = np.zeros((len(birth), len(catalog.conditions)), dtype=np.int64)
    last = np.full_like(first, horizon)
    for condition in catalog.conditions:
        reach = (add_years(birth, condition.min_age) - start).astype(np.int64)
        first[:, condition.code] = np.maximum(reach, 0)
        if condition.max_age is not None:
            passes = (add_years(birth, condition.max_age + 1) - start).astype(np.int64)
            last[:, condition.code] = np.minimum(horizon, passes - 1 - MAX_AGE_MARGIN_DAYS)
        if condition.sex is not None:
            wrong_sex = gender != (FEMALE if condition.sex == "Female" else MALE)
            last[wrong_sex, condition.code] = -1
    return first, last


def plan_encounters(
    rng: np.random.Generator,
    catalog: Catalog,
    rates: RateTables,
    *,
    birth: np.ndarray,
    gender: np.ndarray,
    start: np.datetime64,
    horizon: int,
    min_gap: int,
    clinic_share: float,
    utilisation: np.ndarray | None = None,
    pregnancy_utilisation: np.ndarray | None = None,
    written_from: int = 0,
) -> tuple[EpisodePlan, Prevalent]:
    """Draw the residents' encounters over simulation days 0..horizon (see the module);
    ``clinic_share`` of the clinic reviews of chronic conditions take place in the system;
    ``utilisation`` (per resident, mean 1) scales their stays and ED visits (poorer and
    disabled residents need a hospital more often: ``sim.coverage.utilisation_factor``);
    ``pregnancy_utilisation`` replaces it for the conditions of pregnancy (women only), which
    follow income but not disability. ``written_from`` is the first day written (the days
    before it are the burn-in).
    Also returns who has each chronic condition, whether or not they have an encounter."""
    n = len(birth)
    first, last = onset_windows(catalog, birth, gender, start, horizon)
    first = np.maximum(first, 0)
    born = (np.asarray(birth, dtype="datetime64[D]") - start).astype(np.int64)
    birthdays = Birthdays.of(birth, start, horizon)
    weights = rates.day_weights(start.astype(object), horizon)
    weekday = weekday_of_days(start.astype(object), 0, horizon)
    cumulative = {
        kind: np.concatenate(
            [
                np.zeros((len(weights), 1)),
                np.cumsum(weights * np.asarray(weekday_factors(series))[weekday], axis=1),
            ],
            axis=1,
        )
        for kind, series in WEEKDAY_SERIES.items()
    }
    sex = np.asarray(gender, dtype=np.int64)
    parts = []
    prevalent = []
    for condition in catalog.conditions:
        code = condition.code
        if condition.name == NEWBORN_CONDITION:
            who = np.flatnonzero((born >= 0) & (born <= horizon))
            ones = np.ones(len(who))
            parts.append(
                (who, np.full(len(who), code), born[who], np.full(len(who), DIRECT_STAY), 0 * ones)
            )
            continue
        lo, hi = first[:, code], last[:, code]
        # who has a chronic condition: the prevalence at the age in the middle of the days
        # written (from ``written_from``), or of all the days when none is
        written_lo = np.where(np.maximum(lo, written_from) <= hi, np.maximum(lo, written_from), lo)
        middle = (written_lo + hi) // 2
        age = np.clip((middle - born) / DAYS_PER_YEAR, 0, TOP_AGE).astype(np.int64)
        share = np.ones(n)
        clinic = np.zeros(n)
        if rates.chronic[code]:
            prevalence = rates.prevalence[code, sex, age]
            has = rng.random(n) < prevalence
            held = np.flatnonzero(has)
            prevalent.append((held, np.full(len(held), code), age[held]))
            share = np.where(has, 1.0 / np.maximum(prevalence, 1e-12), 0.0)
            clinic = np.where(has, rates.clinic[code] * clinic_share, 0.0)
        factor = pregnancy_utilisation if condition.sex == "Female" else utilisation
        scale = share if factor is None else share * factor
        # the national stays include readmissions, which the timeline adds to the first stays;
        # a condition never sent home from the ED has no visits treated and released
        stays = rates.stays[code] / (1.0 + condition.readmission)
        emergency = rates.emergency[code] * condition.same_day_ok
        through_ed = stays * condition.ed_admit_share
        arrivals = emergency + through_ed
        release = np.divide(emergency, arrivals, out=np.zeros_like(arrivals), where=arrivals > 0)
        lo, hi = np.where(hi >= lo, lo, 0), np.where(hi >= lo, hi, -1)
        first_age = birthdays.age_on(lo)
        for kind, by_age in (
            (ED_ARRIVAL, arrivals),
            (DIRECT_STAY, stays - through_ed),
            (CLINIC_REVIEW, None),
        ):
            span = cumulative[kind][code]
            exposure = (span[hi + 1] - span[lo]) / DAYS_PER_YEAR
            if by_age is None:  # reviews: the same rate at every age
                bound = clinic
            else:  # the highest rate of the ages lived, thinned below to each day's age
                bound = scale * _highest_ahead(by_age, birthdays.years)[sex, first_age]
            count = rng.poisson(np.maximum(bound, 0.0) * exposure)
            who = np.repeat(np.arange(n), count)
            low, total = span[lo[who]], exposure[who] * DAYS_PER_YEAR
            target = low + rng.random(len(who)) * total
            day = np.searchsorted(span, target, side="right") - 1
            day = np.clip(day, lo[who], hi[who])
            if by_age is None:
                chance = np.zeros(len(who))
            else:
                age = birthdays.age_on(day, who)
                accept = rng.random(len(who)) * bound[who] < scale[who] * by_age[sex[who], age]
                who, day, age = who[accept], day[accept], age[accept]
                chance = release[sex[who], age]
            parts.append((who, np.full(len(who), code), day, np.full(len(who), kind), chance))
    patient, condition_code, day, kind, release = (np.concatenate(c) for c in zip(*parts))

    order = np.lexsort((kind, day, condition_code, patient))
    patient, condition_code, day, kind, release = (
        a[order] for a in (patient, condition_code, day, kind, release)
    )
    too_close = np.zeros(len(day), dtype=bool)
    same_pair = (patient[1:] == patient[:-1]) & (condition_code[1:] == condition_code[:-1])
    too_close[1:] = same_pair & (np.diff(day) < min_gap)
    plan = EpisodePlan(patient, condition_code, day, kind, release).subset(~too_close)
    order = np.lexsort((plan.condition, plan.patient, plan.day))
    held = Prevalent(
        *(np.concatenate([part[i] for part in prevalent]) for i in range(3))
        if prevalent
        else (np.empty(0, dtype=np.int64),) * 3
    )
    return plan.subset(order), held


@attrs.frozen
class Birthdays:
    """Each resident's age on day 0 (``first_age``, negative for one born later) and the
    days on which they turn each age after it: column ``k`` of ``days`` begins the days lived
    at ``first_age + k`` (column 0 is open to the past)."""

    first_age: np.ndarray
    days: np.ndarray  # (resident, k)

    @classmethod
    def of(cls, birth: np.ndarray, start: np.datetime64, horizon: int) -> Birthdays:
        """The birthdays of residents born on ``birth`` over simulation days 0..horizon."""
        birth = np.asarray(birth, dtype="datetime64[D]")
        first_age = age_on(birth, np.full(len(birth), start))
        steps = int(horizon // 365) + 2
        days = np.empty((len(birth), steps + 1), dtype=np.int64)
        days[:, 0] = np.iinfo(np.int64).min // 2
        for k in range(1, steps + 1):
            days[:, k] = (add_years(birth, first_age + k) - start).astype(np.int64)
        return cls(first_age, days)

    @property
    def years(self) -> int:
        """How many birthdays the days hold at most."""
        return self.days.shape[1] - 1

    def age_on(self, day: np.ndarray, resident: np.ndarray | None = None) -> np.ndarray:
        """The age (clipped to the rate tables') of each resident (or of ``resident[i]``) on
        simulation ``day[i]``."""
        rows = self.days if resident is None else self.days[resident]
        first = self.first_age if resident is None else self.first_age[resident]
        passed = (rows[:, 1:] <= np.asarray(day)[:, None]).sum(axis=1)
        return np.clip(first + passed, 0, TOP_AGE)


def _highest_ahead(table: np.ndarray, years: int) -> np.ndarray:
    """(sex, age): the highest of ``table``'s values from that age to ``years`` later."""
    highest = table.copy()
    for step in range(1, years + 1):
        highest[:, :-step] = np.maximum(highest[:, :-step], table[:, step:])
    return highest


def diagnosis_days(
    rng: np.random.Generator,
    catalog: Catalog,
    rates: RateTables,
    prevalent: Prevalent,
    *,
    birth: np.ndarray,
    gender: np.ndarray,
    plan: EpisodePlan,
    start: np.datetime64,
    horizon: int,
) -> np.ndarray:
    """The simulation day (negative before ``--start``) on which each prevalent resident's
    condition was diagnosed.

    The age at diagnosis is drawn from the resident's own prevalence curve (sex, by single
    year of age): each age from the condition's minimum age up to the age at which the
    prevalence was read weighs what the prevalence gains at that age; the day is uniform within
    that year of age. It is never after the resident's first planned encounter for the
    condition (the encounter that finds it, then) nor before birth, and not after ``horizon``
    unless the prevalence was read before the minimum age (then the condition is found at that
    age, which may lie after ``horizon``: not diagnosed in the run).
    """
    count = len(prevalent)
    birth = np.asarray(birth, dtype="datetime64[D]")[prevalent.patient]
    sex = np.asarray(gender, dtype=np.int64)[prevalent.patient]
    u, within = rng.random(count), rng.random(count)
    age = np.zeros(count, dtype=np.int64)
    reached = np.zeros(count)
    for condition in catalog.conditions:
        mine = prevalent.condition == condition.code
        if not mine.any():
            continue
        curve = rates.prevalence[condition.code].copy()  # (sex, age)
        curve[:, : condition.min_age] = 0.0
        gains = np.maximum(np.diff(curve, axis=1, prepend=0.0), 0.0)
        cumulative = np.cumsum(gains, axis=1)
        for s in (MALE, FEMALE):
            who = np.flatnonzero(mine & (sex == s))
            reached[who] = cumulative[s, prevalent.age[who]]
            age[who] = np.searchsorted(cumulative[s], u[who] * reached[who], side="right")
    first_day = add_years(birth, age)
    span = (add_years(birth, age + 1) - first_day).astype(np.int64)
    day = (first_day - start).astype(np.int64) + (within * span).astype(np.int64)
    first_encounter = np.full(count, np.iinfo(np.int64).max)
    if len(plan):
        key = prevalent.patient * len(catalog.conditions) + prevalent.condition
        planned = plan.patient * len(catalog.conditions) + plan.condition
        order = np.lexsort((plan.day, planned))
        planned, earliest = planned[order], plan.day[order]
        at = np.searchsorted(planned, key)
        found = at < len(planned)
        found[found] = planned[at[found]] == key[found]
        first_encounter[found] = earliest[at[found]]
    day = np.minimum(day, first_encounter)
    day = np.where(reached > 0, np.minimum(day, horizon), day)
    return np.maximum(day, (birth - start).astype(np.int64))


def log_diagnoses(env, diagnosed, patients: list, diagnoses: Diagnoses):
    """A SimPy process: each chronic diagnosis is logged (``diagnosed``) on its day, or at the
    start for one made before it, unless the patient died first."""
    logged = np.maximum(diagnoses.day, 0)
    order = np.lexsort((diagnoses.condition, diagnoses.patient, logged))
    for day, patient, condition, on in zip(
        logged[order].tolist(),
        diagnoses.patient[order].tolist(),
        diagnoses.condition[order].tolist(),
        diagnoses.day[order].tolist(),
    ):
        if day > env.now:
            yield env.timeout(day - env.now)
        if not patients[patient].dead:
            diagnosed((day, patient, condition, on))
