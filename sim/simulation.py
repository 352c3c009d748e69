"""The Python API: build a scenario's world, run its clock, read its tables.

from sim import Scenario, Simulation
simulation = Simulation(Scenario(patients=1000, seed=42, today=date(2025, 6, 30)))
simulation.run()                 # or run(until=date(...)) repeatedly, to step the clock
tables = simulation.tables()     # patients, visits, billing as pandas DataFrames
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.geography import ZipTable, load_zip_table
from sim.population import insurer_pool
from sim.processes import RegionSimulation
from sim.refdata import load_demography, load_names
from sim.rng import stream
from sim.scenario import Scenario
from sim.world import build_region


def allocate_patients(seed: int, total: int, zips: ZipTable) -> dict[str, int]:
    """Patients per state, drawn by state population (a multinomial), states with none left out."""
    population = zips.state_population()
    states = sorted(population)
    weights = np.array([population[s] for s in states], dtype=float)
    counts = stream(seed, "nation", "allocation").multinomial(total, weights / weights.sum())
    return {state: int(n) for state, n in zip(states, counts) if n > 0}


class Simulation:
    """A whole run: one region per state, each with its own SimPy clock and event log."""

    def __init__(self, scenario: Scenario, zips: ZipTable | None = None) -> None:
        self.scenario = scenario
        self.zips = zips if zips is not None else load_zip_table()
        self.insurers, shares = insurer_pool(
            scenario.seed, load_names(), scenario.insurer_pool_size, scenario.insurer_zipf_exponent
        )
        numbers = {state: i + 10 for i, state in enumerate(load_demography().states["state"])}
        self.regions: list[RegionSimulation] = []
        for key, count in allocate_patients(scenario.seed, scenario.patients, self.zips).items():
            world = build_region(
                scenario,
                key,
                numbers[key],
                count,
                self.zips.subset(self.zips.rows_of_state(key)),
                shares,
            )
            self.regions.append(RegionSimulation(world, scenario))
        self.day = -1  # the last simulation day that has been run

    def run(self, until: dt.date | int | None = None) -> Simulation:
        """Advance every region's clock through day ``until`` (a date or a simulation day;
        default ``today``). Can be called again with a later day to go on."""
        if until is None:
            day = self.scenario.horizon
        elif isinstance(until, dt.date):
            day = (until - self.scenario.start).days
        else:
            day = int(until)
        if not 0 <= day <= self.scenario.horizon:
            raise ValueError(
                f"run(until={until}) lies outside {self.scenario.start}..{self.scenario.today}"
            )
        for region in self.regions:
            if day + 1 > region.env.now:
                region.env.run(until=day + 1)
        self.day = max(self.day, day)
        return self

    def tables(self):
        """The patients, visits and billing tables as of the last day run."""
        from reporting.recorder import record

        return record(self)

    def statistics(self) -> dict:
        """Counts from the simulation itself (not derivable from the exported tables)."""
        events: dict[str, int] = {}
        for region in self.regions:
            for name, count in region.log.counts().items():
                events[name] = events.get(name, 0) + count
        return {
            "regions": len(self.regions),
            "hospitals": sum(len(r.world.hospitals) for r in self.regions),
            "doctors": sum(len(r.world.doctors) for r in self.regions),
            "rooms": sum(h.rooms.capacity for r in self.regions for h in r.world.hospitals),
            "stays_open_at_horizon": events.get("Admitted", 0) - events.get("Discharged", 0),
            "episodes_declined_by_caps": sum(r.declined_episodes for r in self.regions),
            "events": events,
        }
