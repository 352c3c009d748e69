"""The unwritten load: the stays of the people a hospital serves who are not in the dataset.

A hospital of real size serves tens of thousands of people; the dataset's patients are a
sample of them. The others are simulated in aggregate, without a SimPy process each: on every
day, at each hospital, a Poisson number of stays begin at the community-hospital admission rate
(AHA) for the hospital's unwritten population, swung by the season (all admissions' monthly
pattern) and the weekday (urgent admissions' weekday pattern); each draws a length of stay
(log-normal around AHA's community-hospital mean). A stay that finds every bed taken goes to
another hospital, outside the dataset (``turned_away``). The load starts ``WARM_UP_DAYS`` before
``--start`` so that the beds are already in use on the first day.

The whole history is drawn at once, with numpy, when the region is built; on the timeline one
process a day hands each hospital's ``RoomPool`` the beds its load holds that day, never more
than the dataset's stays leave free (so the beds are never overbooked) and after the dataset's
patients waiting for a bed have had theirs (they were first in the queue).
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import simpy

from entities import Hospital
from sim.calendar import weekday_of_days
from sim.capacity import capacity_figures
from sim.refdata import read_csv, weekday_factors

WARM_UP_DAYS = 120  # long enough for all but the longest stays to turn over
BLOCK_DAYS = 365  # days of stays drawn at once
WEEKDAY_SERIES = "urgent_admissions"  # most admissions are unplanned
SEASON_SERIES = "all_admissions"


@functools.lru_cache(maxsize=1)
def _season_factors() -> np.ndarray:
    seasons = read_csv("demography/seasonality.csv")
    season = seasons[seasons["series"] == SEASON_SERIES].sort_values("month")["factor"]
    season_factor = season.to_numpy(dtype=float)
    return season_factor / season_factor.mean()


def day_factors(start: dt.date, first: int, last: int) -> np.ndarray:
    """Admission-rate factors of days ``first..last`` (simulation days, may be negative):
    the month's factor for all admissions times the weekday's for urgent admissions."""
    days = np.datetime64(start, "D") + np.arange(first, last + 1)
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    week = np.asarray(weekday_factors(WEEKDAY_SERIES))
    return _season_factors()[month] * week[weekday_of_days(start, first, last)]


class UnwrittenLoad:
    """The unwritten stays of a region's hospitals.

    ``history[day, hospital]`` is the beds they hold at the end of each day ``0..horizon``
    (lowered on the timeline where the dataset's stays took the beds first); ``admitted`` and
    ``turned_away`` count their stays per hospital begun within the window.
    """

    def __init__(
        self,
        hospitals: list[Hospital],
        unwritten_people: np.ndarray,
        start: dt.date,
        horizon: int,
        rng: np.random.Generator,
        first_day: int = 0,
    ) -> None:
        figures = capacity_figures()
        self.pools = [h.rooms for h in hospitals]
        self.horizon = horizon
        count = len(hospitals)
        days = WARM_UP_DAYS + horizon + 1
        daily = unwritten_people * figures["community_admissions_per_1000"] / 1000.0 / 365.25
        factors = day_factors(start, -WARM_UP_DAYS, horizon)
        sigma = figures["unwritten_stay_sigma"]
        mu = np.log(figures["community_average_stay_days"]) - sigma**2 / 2.0
        longest = int(figures["longest_unwritten_stay_days"])
        capacity = np.array([pool.capacity for pool in self.pools], dtype=np.int64)
        # by day from the warm-up's first, and hospital; stays leave on the day they end
        leaving = np.zeros((days + longest + 1, count), dtype=np.int64)
        occupied = np.zeros((days, count), dtype=np.int64)
        arrivals = np.zeros((days, count), dtype=np.int64)
        taken = np.zeros((days, count), dtype=np.int64)
        before = np.zeros(count, dtype=np.int64)
        for first in range(0, days, BLOCK_DAYS):  # in blocks, so memory stays bounded
            last = min(first + BLOCK_DAYS, days)
            block = rng.poisson(factors[first:last, None] * daily[None, :])
            stays = np.rint(rng.lognormal(mu, sigma, int(block.sum()))).astype(np.int64)
            stays = np.clip(stays, 1, longest)
            cell = np.repeat(np.arange(block.size), block.ravel())  # day then hospital order
            ends = cell + stays * count  # the cell of the day each stay ends, same hospital
            width = (last - first + longest + 1) * count
            leaving[first : last + longest + 1] += np.bincount(ends, minlength=width).reshape(
                -1, count
            )
            now = before + np.cumsum(block - leaving[first:last], axis=0)
            admitted = block.copy()
            over = np.flatnonzero((now > capacity).any(axis=0))
            if len(over):
                hospital = cell % count
                for h in over.tolist():
                    own = stays[hospital == h]
                    column = leaving[first:, h]
                    np.subtract.at(column, np.repeat(np.arange(last - first), block[:, h]) + own, 1)
                    now[:, h], admitted[:, h] = _capped(
                        block[:, h], own, int(capacity[h]), int(before[h]), column
                    )
            occupied[first:last], arrivals[first:last], taken[first:last] = now, block, admitted
            before = now[-1]
        self.history = occupied[WARM_UP_DAYS:].astype(np.int32)
        written = slice(WARM_UP_DAYS + first_day, None)  # counted from the first day written
        self.admitted = taken[written].sum(axis=0)
        self.turned_away = (arrivals[written] - taken[written]).sum(axis=0)

    def make_way(self, hospital: int, day: int) -> bool:
        """Free a bed of ``hospital`` held by its unwritten load on ``day`` for a patient who
        cannot wait (a woman in labour): one of the load's patients moves on (an early
        discharge or a transfer). False when the load holds none of its beds."""
        pool = self.pools[hospital]
        if pool.background <= 0:
            return False
        pool.background -= 1
        self.history[day, hospital] = pool.background
        return True

    def process(self, env: simpy.Environment):
        """The SimPy process: each day, the beds the load holds go to the pools."""
        pools, history = self.pools, self.history
        while True:
            day = int(env.now)
            wanted = history[day].tolist()
            held = [pool.hold_background(beds) for pool, beds in zip(pools, wanted)]
            if held != wanted:
                history[day] = held
            if day >= self.horizon:
                return
            yield env.timeout(1)


def _capped(
    arrivals: np.ndarray, stays: np.ndarray, capacity: int, occupied: int, leaving: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One hospital's occupancy and admitted stays per day of a block when stays that find
    every bed taken go elsewhere: ``stays`` are the lengths of its ``arrivals`` in day order,
    ``occupied`` the beds taken before the block, ``leaving`` the stays ending on each day from
    the block's first (those admitted here are added to it)."""
    days = len(arrivals)
    now = np.zeros(days, dtype=np.int64)
    taken = np.zeros(days, dtype=np.int64)
    ends = leaving.tolist()
    lengths = stays.tolist()
    first = 0
    for day, count in enumerate(arrivals.tolist()):
        occupied -= ends[day]
        admit = min(count, capacity - occupied)
        for length in lengths[first : first + admit]:
            ends[day + length] += 1
        first += count
        occupied += admit
        now[day], taken[day] = occupied, admit
    leaving[:] = ends
    return now, taken
