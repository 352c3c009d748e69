"""The engine's run: build a scenario's world and step its clock.

    simulation = Simulation(Scenario(patients=1000, seed=42, today=date(2025, 6, 30)))
    simulation.run(until=date(2024, 1, 1))   # step the clock, look at simulation.state()
    simulation.run()                          # ... and go on to --today

The clock starts ``burn_in_days`` before ``--start`` (``Scenario.clock_start``): the burn-in is
simulated, not written. ``run(until=...)`` and ``SimulationState.day`` count days from
``--start``; ``Simulation.day`` is the clock's own day.

The tables come from the layer above (``reporting.recorder.record(simulation)``, or
``reporting.app.Simulation``, which also runs regions as tasks in worker processes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import attrs
import pandas as pd

from sim.coverage import plan_catalog
from sim.facts import RegionFacts, region_facts, run_statistics
from sim.geography import load_zip_table
from sim.placement import plan_regions
from sim.processes import RegionSimulation
from sim.refdata import load_names
from sim.scenario import Scenario
from sim.world import build_region
from sim.zip_pool import PoolError, PoolReport, load_zip_pool


@attrs.frozen
class SimulationState:
    """What the world looks like on one day: hospitals' rooms and counts so far, patients
    admitted and waiting for a room, doctors on duty / on leave / departed, and bills issued
    and not (yet) paid."""

    day: int  # days after --start
    date: dt.date
    hospitals: pd.DataFrame
    patients_admitted: int
    patients_waiting_for_room: int
    doctors: dict[str, int]
    open_bills: int


class Simulation:
    """A whole run: one region per state (or per part of a large state), each with its own
    SimPy clock and event log, all in this process; the clock can be stepped (``run(until)``
    again and again)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.pool_report: PoolReport | None = None
        if scenario.zip_pool_file is not None:
            self.zips, self.pool_report = load_zip_pool(Path(scenario.zip_pool_file))
        else:
            self.zips = load_zip_table()
        self.plans = plan_catalog(scenario.seed, load_names())
        self.insurers = list(self.plans.names)
        self.specs = plan_regions(scenario, self.zips)
        hospitals_needed = sum(
            1
            if s.hospital_rows is not None
            else max(1, round(s.patients / scenario.patients_per_hospital))
            for s in self.specs
        )
        if len(self.zips) < hospitals_needed and scenario.zip_pool_file is not None:
            raise PoolError(
                f"--zip-pool-file {scenario.zip_pool_file}: {len(self.zips)} usable ZIPs, "
                f"fewer than the {hospitals_needed} hospitals this run needs"
            )
        self.regions: list[RegionSimulation] = self._build_regions()
        self.day = -1  # the last clock day that has been run
        self.progress: Callable[[int, int], None] | None = None  # (regions done, regions)

    def _build_regions(self) -> list[RegionSimulation]:
        return [
            RegionSimulation(build_region(self.scenario, spec, self.plans), self.scenario)
            for spec in self.specs
        ]

    @property
    def region_count(self) -> int:
        """How many regions the run has (states or parts of states, or one in single-hospital
        mode)."""
        return len(self.specs)

    def _until_day(self, until: dt.date | int | None) -> int:
        scenario = self.scenario
        if until is None:
            day = scenario.horizon
        elif isinstance(until, dt.date):
            day = (until - scenario.clock_start).days
        else:
            day = scenario.first_day + int(until)
        if not scenario.first_day <= day <= scenario.horizon:
            raise ValueError(f"run(until={until}) lies outside {scenario.start}..{scenario.today}")
        return day

    def run(self, until: dt.date | int | None = None) -> Simulation:
        """Advance every region's clock through day ``until`` (a date, or a number of days
        after ``--start``; default ``today``), the burn-in first. Can be called again with a
        later day to go on."""
        day = self._until_day(until)
        for done, region in enumerate(self.regions, start=1):
            if day + 1 > region.env.now:
                region.run_through(day)
                if self.progress:
                    self.progress(done, len(self.regions))
        self.day = max(self.day, day)
        return self

    @property
    def as_of(self) -> dt.date:
        """The date the clock has reached: the last day run (``--today`` after ``run()``)."""
        if self.day < 0:
            raise RuntimeError("the simulation has not run yet: call run() first")
        return self.scenario.clock_start + dt.timedelta(days=self.day)

    def facts(self) -> list[RegionFacts]:
        """Each region's places, staff and event counts at the last day run, in key order."""
        regions = sorted(self.regions, key=lambda r: r.world.key)
        return [region_facts(region, self.day) for region in regions]

    def state(self) -> SimulationState:
        """A snapshot of the world at the last day run (for time-stepped studies)."""
        rows = []
        doctors = {"on_duty": 0, "absent": 0, "departed": 0}
        admitted = waiting = open_bills = 0
        for region in self.facts():
            for hospital in region.hospitals:
                rows.append(
                    {
                        "region": region.key,
                        "hospital": hospital.name,
                        "rooms": hospital.rooms,
                        "occupied_rooms": hospital.occupied + hospital.unwritten_occupied,
                        "sample_occupied_rooms": hospital.occupied,
                        "admissions": hospital.admissions,
                        "discharges": hospital.discharges,
                        "diversions": hospital.diversions,
                    }
                )
                admitted += hospital.occupied
                waiting += hospital.waiting
            for status, count in region.doctors.items():
                doctors[status] += count
            open_bills += region.events["BillIssued"] - region.events["PaymentMade"]
        return SimulationState(
            day=self.day - self.scenario.first_day,
            date=self.as_of,
            hospitals=pd.DataFrame(rows),
            patients_admitted=admitted,
            patients_waiting_for_room=waiting,
            doctors=doctors,
            open_bills=open_bills,
        )

    def statistics(self) -> dict:
        """Counts from the simulation itself (not derivable from the exported tables)."""
        return run_statistics(self.facts())
