"""Doctors' working lives on the timeline: absences, departures and replacements.

Each doctor takes absences (vacation, leave) at ``doctor_absence_rate`` per year, each lasting
``doctor_absence_days``, and leaves for good (retirement, moving) at ``doctor_departure_rate``
per year; waiting times are exponential. A departed doctor is replaced after
``replacement_delay_days`` by a new doctor of the same specialty at the same hospitals (at
once when the departure left a hospital without any doctor).
One process per region plays this out: the changes of the doctors on staff at the start are
drawn at once as arrays, those of doctors who join later one at a time.
"""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np

from entities import Doctor
from sim.events import EventLog
from sim.refdata import load_names
from sim.scenario import Scenario
from sim.world import RegionWorld, doctor_names

ABSENCE, DEPARTURE, ARRIVAL = range(3)


class Staffing:
    """The staffing process of a region.

    The working lives of the doctors on staff at the start are drawn at once, as arrays (a
    realistic roster has thousands of doctors per region); the few doctors who join later
    get theirs one change at a time, in a queue merged with the arrays.
    """

    def __init__(
        self, world: RegionWorld, scenario: Scenario, log: EventLog, rng: np.random.Generator
    ) -> None:
        self.world = world
        self.scenario = scenario
        self.log = log
        self.rng = rng
        self._queue: list[tuple[int, int, int, int, int]] = []
        self._order = itertools.count()
        self._planned = self._initial_changes(len(world.doctors))

    def _initial_changes(self, count: int) -> list[tuple[int, int, int, int]]:
        """(day, kind, doctor, last day of absence + 1) of every absence and departure of the
        first ``count`` doctors up to the horizon, in time order: exponential waits between
        absences counted from each return, as ``_plan`` does for one doctor."""
        scenario, rng = self.scenario, self.rng
        horizon = scenario.horizon
        changes = []
        rate = scenario.doctor_departure_rate
        if rate > 0 and count:
            day = np.maximum(1, np.ceil(rng.exponential(365.25 / rate, count))).astype(np.int64)
            for doctor in np.flatnonzero(day <= horizon).tolist():
                changes.append((int(day[doctor]), DEPARTURE, doctor, 0))
        rate = scenario.doctor_absence_rate
        if rate > 0 and count:
            low, high = scenario.doctor_absence_days
            width = max(4, math.ceil(2 * horizon * rate / 365.25) + 4)
            doctors = np.arange(count)
            back = np.zeros(count, dtype=np.int64)
            while len(doctors):
                gap = np.maximum(1, np.ceil(rng.exponential(365.25 / rate, (len(doctors), width))))
                length = rng.integers(low, high + 1, (len(doctors), width))
                returns = back[:, None] + np.cumsum(gap + length, axis=1).astype(np.int64)
                starts = returns - length
                for row, column in zip(*np.nonzero(starts <= horizon)):
                    changes.append(
                        (int(starts[row, column]), ABSENCE, int(doctors[row]),
                         int(returns[row, column]))
                    )  # fmt: skip
                more = starts[:, -1] <= horizon  # rare: more absences than columns drawn
                doctors, back = doctors[more], returns[more, -1]
        changes.sort()
        return changes

    def _after(self, day: int, rate: float) -> int | None:
        if rate <= 0:
            return None
        return day + max(1, math.ceil(self.rng.exponential(365.25 / rate)))

    def _push(self, day: int | None, kind: int, doctor: int, back: int = 0) -> None:
        if day is not None and day <= self.scenario.horizon:
            heapq.heappush(self._queue, (day, next(self._order), kind, doctor, back))

    def _plan(self, doctor: Doctor, day: int) -> None:
        self._push(self._after(day, self.scenario.doctor_absence_rate), ABSENCE, doctor.index)
        self._push(self._after(day, self.scenario.doctor_departure_rate), DEPARTURE, doctor.index)

    def process(self, env):
        """The SimPy process: wait for the next change, make it, repeat."""
        planned, queue, position = self._planned, self._queue, 0
        while position < len(planned) or queue:
            if queue and (position == len(planned) or queue[0][0] < planned[position][0]):
                day, _, kind, index, back = heapq.heappop(queue)
            else:
                day, kind, index, back = planned[position]
                position += 1
            if day > env.now:
                yield env.timeout(day - env.now)
            doctor = self.world.doctors[index]
            if kind == ABSENCE and doctor.active:
                self._absence(doctor, day, back)
            elif kind == DEPARTURE and doctor.active:
                self._departure(doctor, day)
            elif kind == ARRIVAL:
                self._arrival(doctor, day)

    def _absence(self, doctor: Doctor, day: int, back: int) -> None:
        """An absence until ``back``; a doctor who joined later draws its length now and
        plans the next absence from their return."""
        if not back:
            low, high = self.scenario.doctor_absence_days
            back = day + int(self.rng.integers(low, high + 1))
            self._push(self._after(back, self.scenario.doctor_absence_rate), ABSENCE, doctor.index)
        doctor.absent_until = back
        self.log.doctor_absent((day, doctor.index, back))

    def _departure(self, doctor: Doctor, day: int) -> None:
        doctor.active = False
        doctor.left_day = day
        for hospital in doctor.hospitals:
            self.world.hospitals[hospital].release_doctor(doctor.index, doctor.specialty)
        self.log.doctor_left((day, doctor.index))
        low, high = self.scenario.replacement_delay_days
        delay = int(self.rng.integers(low, high + 1))
        if any(not self.world.hospitals[h].doctors for h in doctor.hospitals):
            delay = 0  # a hospital is never left without a doctor: a locum starts at once
        heapq.heappush(self._queue, (day + delay, next(self._order), ARRIVAL, doctor.index, 0))

    def _arrival(self, departed: Doctor, day: int) -> None:
        scenario = self.scenario
        name = doctor_names(self.rng, 1, load_names(), self.world.doctor_names_taken)[0]
        style = _clipped(self.rng.normal(0, scenario.doctor_style_sd), scenario.doctor_style_clip)
        prescribing = _clipped(
            self.rng.normal(0, scenario.prescribing_bias_sd), scenario.prescribing_bias_clip
        )
        doctor = Doctor(
            index=len(self.world.doctors),
            name=name,
            hospitals=departed.hospitals,
            specialty=departed.specialty,
            style=style,
            prescribing_bias=prescribing,
            replaces=departed.index,
            joined_day=day,
        )
        self.world.doctors.append(doctor)
        for hospital in doctor.hospitals:
            self.world.hospitals[hospital].hire(doctor.index, doctor.specialty)
        self.log.doctor_joined((day, doctor.index, departed.index))
        self._plan(doctor, day)


def _clipped(value: float, bound: float) -> float:
    """``value`` within [-bound, bound] (``np.clip`` costs microseconds on a scalar)."""
    return min(max(float(value), -bound), bound)
