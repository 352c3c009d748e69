"""sim.clock: processes started at once give the events of SimPy's own processes, in order."""

from __future__ import annotations

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.clock import DayStart, start_now

# a worker: the waits it makes (days; -1: wait for an event that has already happened)
workers = st.lists(st.integers(min_value=-1, max_value=3), max_size=3)
# onsets: (day, worker) pairs
plans = st.lists(st.tuples(st.integers(0, 6), workers), max_size=12)


def _trace(plan: list[tuple[int, list[int]]], at_once: bool) -> list[tuple]:
    """Run workers on a clock, started by a process the way ``RegionSimulation._onsets`` does
    (at once, or as SimPy processes), next to other processes; the order things happened."""
    env = simpy.Environment()
    trace: list[tuple] = []
    happened = env.event()

    def worker(name: int, waits: list[int]):
        trace.append((env.now, "start", name))
        for wait in waits:
            yield happened if wait < 0 else env.timeout(wait)
            trace.append((env.now, "step", name))
            if wait == 0:
                env.process(newborn(name))

    def newborn(name: int):
        trace.append((env.now, "newborn", name))
        yield env.timeout(1)
        trace.append((env.now, "newborn ends", name))

    def ticker(label: str):
        for _ in range(8):
            trace.append((env.now, label))
            yield env.timeout(1)

    def onsets():
        days = sorted(day for day, _ in plan)
        ordered = sorted(enumerate(plan), key=lambda item: item[1][0])
        first_moment = bool(days) and days[0] == 0
        if days and not first_moment:
            yield env.timeout(days[0])
        first = 0
        while first < len(days):
            day = days[first]
            last = first + days[first:].count(day)
            following = env.timeout(days[last] - day) if last < len(days) else None
            if at_once and first_moment:
                first_moment = False
                yield DayStart(env, 0)
            for name, (_, waits) in ordered[first:last]:
                if at_once:
                    start_now(env, worker(name, waits))
                else:
                    env.process(worker(name, waits))
            first = last
            if following is not None:
                yield following

    def starter():
        happened.succeed()
        yield env.timeout(0)

    env.process(starter())
    env.process(ticker("before"))
    env.process(onsets())
    env.process(ticker("after"))
    env.run(until=20)
    return trace


@settings(max_examples=200, deadline=None)
@given(plans)
def test_started_at_once_the_events_come_in_the_same_order(plan):
    assert _trace(plan, at_once=True) == _trace(plan, at_once=False)


def test_a_worker_that_waits_is_resumed_and_one_that_does_not_leaves_no_process():
    env = simpy.Environment()
    seen = []

    def quick():
        seen.append(("quick", env.now))
        return
        yield  # a generator

    def slow():
        yield env.timeout(2)
        seen.append(("slow", env.now))

    start_now(env, quick())
    start_now(env, slow())
    assert seen == [("quick", 0)]
    assert len(env._queue) == 1  # only the slow worker's timeout: no start or end events
    env.run()
    assert seen == [("quick", 0), ("slow", 2)]


def test_day_start_fires_before_the_other_events_of_its_day():
    """As a coverage spell starting on a day must (it is logged before any visit of it)."""
    env = simpy.Environment()
    seen = []

    def late():
        yield env.timeout(3)
        seen.append("timeout")

    def early():
        yield DayStart(env, 3)
        seen.append("day start")

    env.process(late())
    env.process(early())
    env.run()
    assert seen == ["day start", "timeout"]
