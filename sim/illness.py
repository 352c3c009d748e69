"""When patients fall ill: each patient's conditions and the days their episodes begin.

This is the patients' side of the story drawn in blocks: which (at most three) conditions a
patient has, chosen by age-dependent prevalence and gating, and when each new episode of
them begins. Whether an episode really starts, and everything after, is decided on the
simulation timeline.
"""

from __future__ import annotations

import attrs
import numpy as np

from sim.calendar import add_years
from sim.population import FEMALE, MALE
from sim.refdata import Catalog, age_band


@attrs.frozen
class EpisodePlan:
    """Episode onsets of a region, sorted by (day, patient, condition)."""

    patient: np.ndarray
    condition: np.ndarray
    day: np.ndarray

    def __len__(self) -> int:
        return len(self.day)


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


def plan_episodes(
    rng: np.random.Generator,
    catalog: Catalog,
    *,
    birth: np.ndarray,
    age: np.ndarray,
    gender: np.ndarray,
    start: np.datetime64,
    horizon: int,
    conditions_per_patient: tuple[float, ...],
    min_gap: int,
) -> EpisodePlan:
    """Draw each patient's conditions and episode onset days over simulation days 0..horizon.

    ``age`` (at the end of the window) picks the prevalence band; the onset windows keep every
    episode within the condition's age and sex gating.
    """
    n = len(birth)
    first, last = onset_windows(catalog, birth, gender, start, horizon)
    weights = catalog.prevalence[age_band(age)]  # (patient, condition)
    weights = np.where(last >= first, weights, 0.0)
    shares = np.asarray(conditions_per_patient, dtype=float)
    wanted = 1 + np.searchsorted(np.cumsum(shares / shares.sum()), rng.random(n), side="right")
    wanted = np.minimum(wanted, (weights > 0).sum(axis=1))

    # Weighted sampling without replacement, all patients at once (Gumbel top-k).
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(rng.random(weights.shape)))
    ranked = np.argsort(-keys, axis=1, kind="stable")
    rank_ok = np.arange(weights.shape[1])[None, :] < wanted[:, None]
    pair_patient = np.broadcast_to(np.arange(n)[:, None], ranked.shape)[rank_ok]
    pair_condition = ranked[rank_ok]
    pair_first = first[pair_patient, pair_condition]
    pair_last = last[pair_patient, pair_condition]

    years = (pair_last - pair_first + 1) / 365.25
    rates = np.array(
        [catalog.categories[c.category].episodes_per_year for c in catalog.conditions]
    )[pair_condition]
    episodes = 1 + rng.poisson(rates * np.maximum(years - 1.0, 0.0))
    patient = np.repeat(pair_patient, episodes)
    condition = np.repeat(pair_condition, episodes)
    low = np.repeat(pair_first, episodes)
    span = np.repeat(pair_last - pair_first + 1, episodes)
    day = low + np.floor(rng.random(len(patient)) * span).astype(np.int64)

    order = np.lexsort((day, condition, patient))
    patient, condition, day = patient[order], condition[order], day[order]
    same_pair = (patient[1:] == patient[:-1]) & (condition[1:] == condition[:-1])
    too_close = np.concatenate([[False], same_pair & (np.diff(day) < min_gap)])
    patient, condition, day = patient[~too_close], condition[~too_close], day[~too_close]

    order = np.lexsort((condition, patient, day))
    return EpisodePlan(patient=patient[order], condition=condition[order], day=day[order])
