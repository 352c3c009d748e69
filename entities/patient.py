"""Patients: who they are to the simulation, what they remember, and what they decide.

Demographics (name, address, birth date, ...) live in the region's columnar registry; the
Patient object carries what changes during the run and the decisions that depend on it.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import attrs
import simpy


class EpisodeRules(Protocol):
    """What a patient needs to know of a condition to decide whether an episode may begin
    (the catalog's ``Condition`` has these fields)."""

    code: int
    max_episodes_per_year: int | None
    max_episodes_per_patient: int | None
    min_days_between_episodes: int | None


@attrs.define(slots=True, eq=False)
class Patient:
    """A patient of a region."""

    index: int
    birth_day: int  # simulation day of birth (negative: before --start)
    hospital_preference: tuple[int, ...]  # hospitals within reach, nearest first
    continuity_preference: float  # chance of going back to the usual source of care
    usual_source_draw: float = 0.0  # has a usual source of care while below the day's share
    usual: dict = attrs.field(factory=dict)  # usual doctor key -> (doctor, hospital)
    last_doctor: int = -1
    last_hospital: int = -1
    in_stay: bool = False
    dead: bool = False
    waiting: deque = attrs.field(factory=deque)
    active_conditions: set = attrs.field(factory=set)
    episode_days: dict = attrs.field(
        factory=dict
    )  # condition code -> first-visit days, for capped conditions
    episodes_per_year: dict = attrs.field(factory=dict)

    def age_at(self, day: int) -> int:
        """Age in whole years on simulation day ``day`` (to within a day of the birthday)."""
        return int((day - self.birth_day) // 365.2425)

    def accepts_episode(self, condition: EpisodeRules, day: int, year: int) -> bool:
        """Whether a new episode of ``condition`` can begin for this patient on ``day``.

        A patient already under care for the condition carries on with that episode, and the
        catalog's caps (episodes per year, per lifetime, spacing) are kept exactly.
        """
        code = condition.code
        if code in self.active_conditions:
            return False
        yearly_cap = condition.max_episodes_per_year
        if yearly_cap is not None and self.episodes_per_year.get((code, year), 0) >= yearly_cap:
            return False
        earlier = self.episode_days.get(code, ())
        lifetime_cap = condition.max_episodes_per_patient
        if lifetime_cap is not None and len(earlier) >= lifetime_cap:
            return False
        spacing = condition.min_days_between_episodes
        return not (spacing is not None and earlier and day - earlier[-1] < spacing)

    def expect_episode(self, condition: EpisodeRules) -> None:
        """An episode of ``condition`` was accepted and waits for its first admission: no other
        episode of it may begin meanwhile. Its caps count from the admission
        (``begin_episode``), the day the tables show as its start."""
        self.active_conditions.add(condition.code)

    def begin_episode(self, condition: EpisodeRules, day: int, year: int) -> None:
        """Remember that an episode of ``condition`` began (first admission) on ``day``."""
        self.active_conditions.add(condition.code)
        if condition.max_episodes_per_year is not None:
            key = (condition.code, year)
            self.episodes_per_year[key] = self.episodes_per_year.get(key, 0) + 1
        if condition.max_episodes_per_patient is not None or condition.min_days_between_episodes:
            self.episode_days.setdefault(condition.code, []).append(day)

    def end_episode(self, condition: EpisodeRules) -> None:
        self.active_conditions.discard(condition.code)

    def wait_until_free(self, env: simpy.Environment, first: bool = False) -> simpy.Event:
        """An event that succeeds when this patient's current stay (and earlier waiters, unless
        ``first``) end."""
        event = env.event()
        if first:
            self.waiting.appendleft(event)
        else:
            self.waiting.append(event)
        return event

    def stop_waiting(self, event: simpy.Event) -> None:
        """Withdraw a ``wait_until_free`` event that has not succeeded (the admission was
        given up), so that the stay passes to the next waiter instead."""
        self.waiting.remove(event)

    def leave(self) -> None:
        """End the current stay; the next waiting admission of this patient may go ahead."""
        if self.waiting:
            self.waiting.popleft().succeed()  # the stay passes straight to the waiter
        else:
            self.in_stay = False

    def remember(self, doctor: int, hospital: int, usual_key: str | None, new_usual: bool) -> None:
        """Record the provider of a visit. A clinic visit of a patient with a usual source of
        care has a ``usual_key`` (primary care, or a specialty): the first doctor seen for it
        becomes the usual one, until ``new_usual`` (the usual doctor left) replaces them."""
        if usual_key is not None and (new_usual or usual_key not in self.usual):
            self.usual[usual_key] = (doctor, hospital)
        self.last_doctor = doctor
        self.last_hospital = hospital
