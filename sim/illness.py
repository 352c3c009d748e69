"""When residents need a hospital: each resident's encounters, drawn from national rates.

For every condition of the catalog and every resident, encounters come as Poisson counts over
the days the condition's gating allows, at the rates of the resident's sex and age (the age in
the middle of those days), spread over the days by the condition's season. Three kinds:

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
"""

from __future__ import annotations

import attrs
import numpy as np

from sim.calendar import add_years
from sim.epidemiology import TOP_AGE, RateTables
from sim.population import FEMALE, MALE
from sim.refdata import Catalog

ED_ARRIVAL, DIRECT_STAY, CLINIC_REVIEW = range(3)
NEWBORN_CONDITION = "Newborn"  # a resident born in the window has one birth stay, that day
DAYS_PER_YEAR = 365.25


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
) -> EpisodePlan:
    """Draw the residents' encounters over simulation days 0..horizon (see the module);
    ``clinic_share`` of the clinic reviews of chronic conditions take place in the system."""
    n = len(birth)
    first, last = onset_windows(catalog, birth, gender, start, horizon)
    first = np.maximum(first, 0)
    born = (np.asarray(birth, dtype="datetime64[D]") - start).astype(np.int64)
    weights = rates.day_weights(start.astype(object), horizon)
    cumulative = np.concatenate([np.zeros((len(weights), 1)), np.cumsum(weights, axis=1)], axis=1)
    sex = np.asarray(gender, dtype=np.int64)
    parts = []
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
        open_ = hi >= lo
        middle = (lo + hi) // 2
        age = np.clip((middle - born) / DAYS_PER_YEAR, 0, TOP_AGE).astype(np.int64)
        # the national stays include readmissions, which the timeline adds to the first stays
        stays = rates.stays[code, sex, age] / (1.0 + condition.readmission)
        # a condition that is never sent home from the ED has no visits treated and released
        emergency = rates.emergency[code, sex, age] * condition.same_day_ok
        clinic = np.zeros(n)
        if rates.chronic[code]:
            prevalence = rates.prevalence[code, sex, age]
            has = rng.random(n) < prevalence
            share = np.where(has, 1.0 / np.maximum(prevalence, 1e-12), 0.0)
            stays, emergency = stays * share, emergency * share
            clinic = np.where(has, rates.clinic[code] * clinic_share, 0.0)
        through_ed = stays * condition.ed_admit_share
        arrivals = emergency + through_ed
        release = np.divide(emergency, arrivals, out=np.zeros(n), where=arrivals > 0)
        span = cumulative[code]
        lo, hi = np.where(open_, lo, 0), np.where(open_, hi, -1)
        exposure = span[hi + 1] - span[lo]
        exposure /= DAYS_PER_YEAR
        for kind, rate in (
            (ED_ARRIVAL, arrivals),
            (DIRECT_STAY, stays - through_ed),
            (CLINIC_REVIEW, clinic),
        ):
            count = rng.poisson(np.maximum(rate, 0.0) * exposure)
            who = np.repeat(np.arange(n), count)
            low, total = span[lo[who]], exposure[who] * DAYS_PER_YEAR
            target = low + rng.random(len(who)) * total
            day = np.searchsorted(span, target, side="right") - 1
            day = np.clip(day, lo[who], hi[who])
            parts.append((who, np.full(len(who), code), day, np.full(len(who), kind), release[who]))
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
    return plan.subset(order)
