"""When patients fall ill: each patient's conditions and the days their episodes begin.

This is the patients' side of the story drawn in blocks: which (at most three) conditions a
patient has, chosen by age-dependent prevalence and gating, and when each new episode of
them begins. Whether an episode really starts, and everything after, is decided on the
simulation timeline.
"""

from __future__ import annotations

import attrs
import numpy as np

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


def eligible_conditions(
    catalog: Catalog, age_at_start: np.ndarray, age_at_end: np.ndarray, gender: np.ndarray
) -> np.ndarray:
    """Boolean (patient, condition): could the condition occur anywhere in the window?

    Gating uses the age at the start of the window for adult-only conditions and both ends
    for an age range, so that every admission in the window respects it.
    """
    allowed = np.ones((len(age_at_start), len(catalog.conditions)), dtype=bool)
    for condition in catalog.conditions:
        column = allowed[:, condition.code]
        if condition.adult_only:
            column &= age_at_start >= 18
        if condition.sex is not None:
            column &= gender == (FEMALE if condition.sex == "Female" else MALE)
        if condition.age_range is not None:
            lo, hi = condition.age_range
            column &= (age_at_start >= lo) & (age_at_end <= hi)
    return allowed


def plan_episodes(
    rng: np.random.Generator,
    catalog: Catalog,
    *,
    age_at_start: np.ndarray,
    age_at_end: np.ndarray,
    gender: np.ndarray,
    horizon: int,
    conditions_per_patient: tuple[float, ...],
    min_gap: int,
) -> EpisodePlan:
    """Draw each patient's conditions and episode onset days over simulation days 0..horizon."""
    n = len(age_at_start)
    weights = catalog.prevalence[age_band(age_at_end)]  # (patient, condition)
    weights = np.where(eligible_conditions(catalog, age_at_start, age_at_end, gender), weights, 0.0)
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

    years = (horizon + 1) / 365.25
    rates = np.array(
        [catalog.categories[c.category].episodes_per_year for c in catalog.conditions]
    )[pair_condition]
    episodes = 1 + rng.poisson(rates * max(years - 1.0, 0.0))
    patient = np.repeat(pair_patient, episodes)
    condition = np.repeat(pair_condition, episodes)
    day = rng.integers(0, horizon + 1, len(patient))

    order = np.lexsort((day, condition, patient))
    patient, condition, day = patient[order], condition[order], day[order]
    same_pair = (patient[1:] == patient[:-1]) & (condition[1:] == condition[:-1])
    too_close = np.concatenate([[False], same_pair & (np.diff(day) < min_gap)])
    patient, condition, day = patient[~too_close], condition[~too_close], day[~too_close]

    order = np.lexsort((condition, patient, day))
    return EpisodePlan(patient=patient[order], condition=condition[order], day=day[order])
