"""Two ways of using SimPy's clock that SimPy does not offer itself.

- ``DayStart``: an event that fires before every other event of its day.
- ``start_now``: a process whose first steps run at once, in the caller. Most episodes of a
  large region (a chronic condition's clinic review, an ED visit sent home) begin and end on
  their first day without waiting for anything; as SimPy processes each would cost a process,
  its start event, its end event and two trips through the event queue. ``start_now`` runs
  the generator up to the first event it waits for and only then hands it to a process.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy
from simpy.events import URGENT


class DayStart(simpy.Event):
    """An event ``delay`` days ahead that fires before every other event of its day: SimPy
    orders the events of a moment by priority before insertion, and only process starts,
    which happen during a day, share this urgent one."""

    def __init__(self, env: simpy.Environment, delay: int) -> None:
        super().__init__(env)
        self._ok = True  # triggered ahead of time, as simpy.Timeout does
        self._value = None
        env.schedule(self, URGENT, delay)


def start_now(env: simpy.Environment, generator: Generator) -> None:
    """Run ``generator`` now, up to the first event it waits for, then on as a SimPy process.

    The caller must be where SimPy would have started the process: a process started with
    ``env.process`` runs as soon as the caller's process next waits, before any other event
    of the moment. A caller that starts several in turn, and creates the event it waits for
    next before starting them (``RegionSimulation._onsets``), sees the events in the same
    order as with ``env.process``: only the start and end events of the processes are gone.
    """
    try:
        event = generator.send(None)
        while event.callbacks is None:  # already processed: SimPy would go on at once
            event = generator.send(event.value) if event.ok else generator.throw(event.value)
    except StopIteration:
        return
    _Waiting(env, generator, event)


class _Waiting(simpy.Process):
    """A process whose generator has already run up to ``event``: it resumes the generator
    when ``event`` fires, as SimPy's own process does after a yield (``Process._resume``)."""

    def __init__(self, env: simpy.Environment, generator: Generator, event: simpy.Event) -> None:
        # simpy.Process.__init__ would schedule a start: this process has started
        self.env = env
        self.callbacks = []
        self._generator = generator
        self._target = event
        event.callbacks.append(self._resume)
