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

import datetime as dt
import functools
from collections.abc import Sequence

import attrs
import numpy as np

from sim.calendar import add_years, age_on, weekday_of_days
from sim.epidemiology import TOP_AGE, RateTables, day_weights
from sim.population import FEMALE, MALE
from sim.refdata import Catalog, Condition, weekday_factors

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
# Conditions are planned a group at a time, each group of about this many (condition,
# resident) cells, so that the arrays of a large block of residents stay small.
GROUP_CELLS = 250_000
KINDS = (ED_ARRIVAL, DIRECT_STAY, CLINIC_REVIEW)


def onset_windows(
    conditions: Sequence[Condition],
    birth: np.ndarray,
    gender: np.ndarray,
    start: np.datetime64,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """First and last simulation day on which each (condition, patient) episode may begin.

    Days follow the condition's gating: after birth, from the minimum age (18 when adult-only)
    and, for an age range, up to the day before the patient turns one year older than the
    maximum age (minus a margin). A window whose first day is after its last is empty.
    """
    birth = np.asarray(birth, dtype="datetime64[D]")
    min_age = np.array([c.min_age for c in conditions], dtype=np.int64)
    max_age = np.array([c.max_age or 0 for c in conditions], dtype=np.int64)
    limited = np.array([c.max_age is not None for c in conditions])[:, None]
    first = np.maximum(_birthdays(birth, min_age, start), 0)
    passes = _birthdays(birth, max_age + 1, start)
    last = np.where(limited, np.minimum(horizon, passes - 1 - MAX_AGE_MARGIN_DAYS), horizon)
    sex = {None: -1, "Female": FEMALE}
    only = np.array([sex.get(c.sex, MALE) for c in conditions], dtype=np.int64)[:, None]
    wrong_sex = (only >= 0) & (np.asarray(gender)[None, :] != only)
    return first, np.where(wrong_sex, -1, last)


def _birthdays(birth: np.ndarray, ages: np.ndarray, start: np.datetime64) -> np.ndarray:
    """(age, person): the simulation day on which each person turns each of ``ages`` (few
    distinct ones)."""
    distinct, which = np.unique(ages, return_inverse=True)
    days = (add_years(birth[None, :], distinct[:, None]) - start).astype(np.int64)
    return days[which]


@attrs.frozen
class _KindRates:
    """Per kind and condition, by (sex, age): the rates encounters are drawn at."""

    by_age: np.ndarray  # (ED_ARRIVAL or DIRECT_STAY, condition, sex, age)
    highest: np.ndarray  # the same, the highest rate up to ``years`` ahead (_highest_ahead)
    release: np.ndarray  # (condition, sex, age): an ED arrival's chance of going home

    @classmethod
    def of(cls, catalog: Catalog, rates: RateTables, years: int) -> _KindRates:
        """The national stays exclude the readmissions, which the timeline adds to the first
        stays; a condition never sent home from the ED has no visits treated and released."""
        conditions = catalog.conditions
        readmission = np.array([c.readmission for c in conditions])[:, None, None]
        same_day_ok = np.array([c.same_day_ok for c in conditions])[:, None, None]
        through_share = np.array([c.ed_admit_share for c in conditions])[:, None, None]
        stays = rates.stays / (1.0 + readmission)
        emergency = rates.emergency * same_day_ok
        through_ed = stays * through_share
        arrivals = emergency + through_ed
        release = np.divide(emergency, arrivals, out=np.zeros_like(arrivals), where=arrivals > 0)
        by_age = np.stack([arrivals, stays - through_ed])
        return cls(by_age, _highest_ahead(by_age, years), release)


@functools.lru_cache(maxsize=8)
def _day_spans(season: tuple[str, ...], start: dt.date, horizon: int) -> np.ndarray:
    """(kind, condition, day 0..horizon + 1): the weight of a kind's new encounters of each
    condition before each day (season times the kind's weekday pattern, summed), shared."""
    weights = day_weights(season, start, horizon)
    weekday = weekday_of_days(start, 0, horizon)
    spans = np.zeros((len(KINDS), len(season), horizon + 2))
    for kind in KINDS:
        factor = np.asarray(weekday_factors(WEEKDAY_SERIES[kind]))[weekday]
        spans[kind, :, 1:] = np.cumsum(weights * factor, axis=1)
    spans.flags.writeable = False
    return spans


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
    residents = _Residents(
        birth=np.asarray(birth, dtype="datetime64[D]"),
        sex=np.asarray(gender, dtype=np.int64),
        born=(np.asarray(birth, dtype="datetime64[D]") - start).astype(np.int64),
        birthdays=Birthdays.of(birth, start, horizon),
        utilisation=np.ones(n) if utilisation is None else utilisation,
        pregnancy_utilisation=(
            np.ones(n) if pregnancy_utilisation is None else pregnancy_utilisation
        ),
    )
    planner = _Planner(
        rates=rates,
        kinds=_KindRates.of(catalog, rates, residents.birthdays.years),
        spans=_day_spans(rates.season, start.astype(object), horizon),
        start=start,
        horizon=horizon,
        clinic_share=clinic_share,
        written_from=written_from,
    )
    parts, prevalent = [], []
    for condition in catalog.conditions:
        if condition.name == NEWBORN_CONDITION:
            who = np.flatnonzero((residents.born >= 0) & (residents.born <= horizon))
            count = len(who)
            parts.append(
                (
                    who,
                    np.full(count, condition.code),
                    residents.born[who],
                    np.full(count, DIRECT_STAY),
                    np.zeros(count),
                )
            )
    planned = [c for c in catalog.conditions if c.name != NEWBORN_CONDITION]
    size = max(1, GROUP_CELLS // max(n, 1))
    for at in range(0, len(planned), size):
        group_parts, group_prevalent = planner.group(rng, planned[at : at + size], residents)
        parts.append(group_parts)
        prevalent += group_prevalent
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
class _Residents:
    """What ``plan_encounters`` knows of each resident."""

    birth: np.ndarray
    sex: np.ndarray
    born: np.ndarray  # simulation day of birth
    birthdays: Birthdays
    utilisation: np.ndarray
    pregnancy_utilisation: np.ndarray


@attrs.frozen
class _Planner:
    """What ``plan_encounters`` plans every group of conditions with."""

    rates: RateTables
    kinds: _KindRates
    spans: np.ndarray  # _day_spans
    start: np.datetime64
    horizon: int
    clinic_share: float
    written_from: int

    def group(
        self, rng: np.random.Generator, conditions: list[Condition], residents: _Residents
    ) -> tuple[tuple[np.ndarray, ...], list[tuple[np.ndarray, ...]]]:
        """The encounters of a group of conditions (patient, condition, day, kind, release),
        and who has each of its chronic conditions (patient, condition, age).

        The draws are made condition by condition, kind by kind (``_draw``); the days and
        ages of the encounters drawn are then found for the whole group at once."""
        n = len(residents.sex)
        sex, born, birthdays = residents.sex, residents.born, residents.birthdays
        codes = np.array([c.code for c in conditions], dtype=np.int64)
        lo, hi = onset_windows(conditions, residents.birth, sex, self.start, self.horizon)
        # who has a chronic condition: the prevalence at the age in the middle of the days
        # written (from ``written_from``), or of all the days when none is
        written = np.maximum(lo, self.written_from)
        middle = (np.where(written <= hi, written, lo) + hi) // 2
        age = np.clip((middle - born) / DAYS_PER_YEAR, 0, TOP_AGE).astype(np.int64)
        chronic = self.rates.chronic[codes]
        prevalence = self.rates.prevalence[codes[:, None], sex, age]
        share = np.where(chronic[:, None], 1.0 / np.maximum(prevalence, 1e-12), 1.0)
        pregnancy = np.array([c.sex == "Female" for c in conditions])[:, None]
        scale = share * np.where(pregnancy, residents.pregnancy_utilisation, residents.utilisation)
        empty = hi < lo
        lo, hi = np.where(empty, 0, lo), np.where(empty, -1, hi)
        first_age = birthdays.age_on_days(lo)
        # indices into a condition's day spans and its (sex, age) rates flattened
        last_span, first_rate = hi + 1, sex * (TOP_AGE + 1) + first_age
        clinic = self.rates.clinic[codes] * self.clinic_share
        draws, prevalent = [], []
        everyone = np.arange(n)
        for row, code in enumerate(codes.tolist()):
            among = everyone
            if chronic[row]:
                among = np.flatnonzero(rng.random(n) < prevalence[row])
                prevalent.append((among, np.full(len(among), code), age[row, among]))
            on = slice(None) if among is everyone else among
            for kind in KINDS:
                if kind == CLINIC_REVIEW and among is everyone:
                    continue  # reviews are of chronic conditions only
                span = self.spans[kind, code]
                exposure = (span.take(last_span[row, on]) - span.take(lo[row, on])) / DAYS_PER_YEAR
                if kind == CLINIC_REVIEW:
                    bound = clinic[row]
                else:
                    highest = self.kinds.highest[kind, code].ravel()
                    bound = scale[row, on] * highest.take(first_rate[row, on])
                draws.append(_draw(rng, row, kind, np.maximum(bound, 0.0) * exposure, among))
        part_row, part_kind, who, u_day, u_accept = zip(*draws)
        lengths = [len(w) for w in who]
        row, kind = np.repeat(part_row, lengths), np.repeat(part_kind, lengths)
        who, u_day, u_accept = (np.concatenate(d) for d in (who, u_day, u_accept))
        lo, hi, code = lo[row, who], hi[row, who], codes[row]
        # each encounter's day: its uniform number placed along its window's weight, as drawn
        low = self.spans[kind, code, lo]
        total = (self.spans[kind, code, hi + 1] - low) / DAYS_PER_YEAR * DAYS_PER_YEAR
        target = low + u_day * total
        day = np.empty(len(who), dtype=np.int64)
        end = np.cumsum(lengths)
        for r, k, begin, stop in zip(part_row, part_kind, end - lengths, end.tolist()):
            if stop > begin:
                found = np.searchsorted(self.spans[k, codes[r]], target[begin:stop], side="right")
                day[begin:stop] = found - 1
        day = np.clip(day, lo, hi)
        # thinned from the highest rate of the ages lived to the rate of the day's age
        keep = np.ones(len(who), dtype=bool)
        release = np.zeros(len(who))
        thinned = np.flatnonzero(kind != CLINIC_REVIEW)
        at, on = row[thinned], who[thinned]
        day_age = birthdays.age_on(day[thinned], on)
        of = (kind[thinned], code[thinned], sex[on])
        bound = scale[at, on] * self.kinds.highest[(*of, first_age[at, on])]  # as drawn
        keep[thinned] = (
            u_accept[thinned] * bound < scale[at, on] * self.kinds.by_age[(*of, day_age)]
        )
        release[thinned] = self.kinds.release[(*of[1:], day_age)]
        return (who[keep], code[keep], day[keep], kind[keep], release[keep]), prevalent


def _draw(
    rng: np.random.Generator, row: int, kind: int, mean: np.ndarray, among: np.ndarray
) -> tuple[np.ndarray, ...]:
    """One condition's encounters of one kind: Poisson counts at the ``mean`` of each of the
    residents ``among`` whom they are (all, or those who have a chronic condition: a zero
    mean would draw nothing), a uniform number placing each encounter on its day and, but
    for reviews, one thinning it by age. Returns the row and kind, then per encounter its
    resident, day number and thinning number."""
    if not mean.any():  # a zero mean draws nothing: spare the generator's checks
        return row, kind, np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
    who = np.repeat(among, rng.poisson(mean))
    count = len(who)
    u_day = rng.random(count)
    u_accept = np.full(count, np.nan) if kind == CLINIC_REVIEW else rng.random(count)
    return row, kind, who, u_day, u_accept


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

    def age_on_days(self, days: np.ndarray) -> np.ndarray:
        """``age_on`` of each resident (``days``' last axis) on each of ``days``, most of
        which are day 0."""
        at_start = self.age_on(np.zeros(len(self.first_age), dtype=np.int64))
        ages = np.tile(at_start, (len(days), 1))
        later = np.nonzero(days)
        ages[later] = self.age_on(days[later], later[1])
        return ages

    def age_on(self, day: np.ndarray, resident: np.ndarray | None = None) -> np.ndarray:
        """The age (clipped to the rate tables') of each resident (or of ``resident[i]``) on
        simulation ``day[i]``."""
        rows = self.days if resident is None else self.days[resident]
        first = self.first_age if resident is None else self.first_age[resident]
        passed = (rows[:, 1:] <= np.asarray(day)[:, None]).sum(axis=1)
        return np.clip(first + passed, 0, TOP_AGE)


def _highest_ahead(table: np.ndarray, years: int) -> np.ndarray:
    """(..., age): the highest of ``table``'s values from that age to ``years`` later."""
    highest = table.copy()
    for step in range(1, years + 1):
        highest[..., :-step] = np.maximum(highest[..., :-step], table[..., step:])
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
    curve = rates.prevalence.copy()  # (condition, sex, age)
    for condition in catalog.conditions:
        curve[condition.code, :, : condition.min_age] = 0.0
    gains = np.maximum(np.diff(curve, axis=2, prepend=0.0), 0.0)
    cumulative = np.cumsum(gains, axis=2)[prevalent.condition, sex]  # (prevalent, age)
    reached = cumulative[np.arange(count), prevalent.age]
    # the ages whose cumulative gain is at most the draw's (a search of each sorted row)
    age = (cumulative <= (u * reached)[:, None]).sum(axis=1)
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
