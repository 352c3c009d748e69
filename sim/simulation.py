"""The Python API: build a scenario's world, run its clock, read its tables.

from sim import Scenario, Simulation
simulation = Simulation(Scenario(patients=1000, seed=42, today=date(2025, 6, 30)))
simulation.run()                 # or run(until=date(...)) repeatedly, to step the clock
tables = simulation.tables()     # patients, visits, billing as pandas DataFrames
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from pathlib import Path

import attrs
import pandas as pd

from sim.geography import load_zip_table
from sim.placement import plan_regions
from sim.population import insurer_pool
from sim.processes import FinishedRegion, RegionSimulation, run_region
from sim.refdata import load_names
from sim.scenario import Scenario
from sim.world import build_region
from sim.zip_pool import PoolError, PoolReport, load_zip_pool


@attrs.frozen
class SimulationState:
    """What the world looks like on one day: hospitals' rooms and counts so far, patients
    admitted and waiting for a room, doctors on duty / on leave / departed, and bills issued
    and not (yet) paid."""

    day: int
    date: dt.date
    hospitals: pd.DataFrame
    patients_admitted: int
    patients_waiting_for_room: int
    doctors: dict[str, int]
    open_bills: int


class Simulation:
    """A whole run: one region per state, each with its own SimPy clock and event log.

    By default the regions live in this process and the clock can be stepped (``run(until)``
    again and again). With an ``executor`` (a ``concurrent.futures`` executor: a process pool,
    or a Dask client's executor) each region is built and run to ``--today`` as a task in a
    worker, which sends back only the region's results; the output is the same either way.
    """

    def __init__(self, scenario: Scenario, executor: Executor | None = None) -> None:
        self.scenario = scenario
        self.pool_report: PoolReport | None = None
        if scenario.zip_pool_file is not None:
            self.zips, self.pool_report = load_zip_pool(Path(scenario.zip_pool_file))
        else:
            self.zips = load_zip_table()
        self.insurers, shares = insurer_pool(
            scenario.seed, load_names(), scenario.insurer_pool_size, scenario.insurer_zipf_exponent
        )
        specs = plan_regions(scenario, self.zips)
        hospitals_needed = sum(
            1
            if s.hospital_rows is not None
            else max(1, round(s.patients / scenario.patients_per_hospital))
            for s in specs
        )
        if len(self.zips) < hospitals_needed and scenario.zip_pool_file is not None:
            raise PoolError(
                f"--zip-pool-file {scenario.zip_pool_file}: {len(self.zips)} usable ZIPs, "
                f"fewer than the {hospitals_needed} hospitals this run needs"
            )
        self.executor = executor
        self._tasks = [(spec, shares) for spec in specs]
        self.regions: list[RegionSimulation | FinishedRegion] = []
        if executor is None:
            self.regions = [
                RegionSimulation(build_region(scenario, spec, shares), scenario) for spec in specs
            ]
        self.day = -1  # the last simulation day that has been run
        self.progress: Callable[[int, int], None] | None = None  # (regions done, regions)

    @property
    def region_count(self) -> int:
        """How many regions the run has (states, or one in single-hospital mode)."""
        return len(self._tasks)

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
        if self.executor is not None:
            self._run_tasks(day)
            return self
        for done, region in enumerate(self.regions, start=1):
            if day + 1 > region.env.now:
                region.env.run(until=day + 1)
                if self.progress:
                    self.progress(done, len(self.regions))
        self.day = max(self.day, day)
        return self

    def _run_tasks(self, day: int) -> None:
        """Run every region as a task of the executor, largest first (results keyed by region,
        so the order in which tasks finish does not matter)."""
        if day != self.scenario.horizon:
            raise ValueError("regions run by an executor go to --today in one go: no stepping")
        if self.regions:
            return
        tasks = sorted(self._tasks, key=lambda task: (-task[0].patients, task[0].key))
        futures = [
            self.executor.submit(run_region, self.scenario, spec, shares) for spec, shares in tasks
        ]
        finished = []
        for done, future in enumerate(as_completed(futures), start=1):
            finished.append(future.result())
            if self.progress:
                self.progress(done, len(futures))
        self.regions = sorted(finished, key=lambda region: region.world.key)
        self.day = day

    @property
    def as_of(self) -> dt.date:
        """The date the clock has reached: the last day run (``--today`` after ``run()``)."""
        if self.day < 0:
            raise RuntimeError("the simulation has not run yet: call run() first")
        return self.scenario.start + dt.timedelta(days=self.day)

    def tables(self):
        """The patients, visits and billing tables as of the last day run."""
        from reporting.recorder import record

        return record(self)

    def state(self) -> SimulationState:
        """A snapshot of the world at the last day run (for time-stepped studies)."""
        rows = []
        doctors = {"on_duty": 0, "absent": 0, "departed": 0}
        admitted = waiting = open_bills = 0
        for region in sorted(self.regions, key=lambda r: r.world.key):
            for hospital in region.world.hospitals:
                rows.append(
                    {
                        "region": region.world.key,
                        "hospital": hospital.name,
                        "rooms": hospital.rooms.capacity,
                        "occupied_rooms": hospital.rooms.occupied,
                        "admissions": hospital.admissions,
                        "discharges": hospital.discharges,
                        "diversions": hospital.diversions,
                    }
                )
            for doctor in region.world.doctors:
                if not doctor.active:
                    doctors["departed"] += 1
                elif doctor.on_duty(max(self.day, 0)):
                    doctors["on_duty"] += 1
                else:
                    doctors["absent"] += 1
            admitted += sum(h.rooms.occupied for h in region.world.hospitals)
            waiting += sum(h.rooms.waiting for h in region.world.hospitals)
            counts = region.log.counts()
            open_bills += counts["BillIssued"] - counts["PaymentMade"]
        return SimulationState(
            day=self.day,
            date=self.as_of,
            hospitals=pd.DataFrame(rows),
            patients_admitted=admitted,
            patients_waiting_for_room=waiting,
            doctors=doctors,
            open_bills=open_bills,
        )

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
            "peak_room_occupancy": max(
                (h.rooms.peak / h.rooms.capacity for r in self.regions for h in r.world.hospitals),
                default=0.0,
            ),
            "stays_open_at_horizon": events.get("Admitted", 0) - events.get("Discharged", 0),
            "episodes_declined_by_caps": sum(r.declined_episodes for r in self.regions),
            "events": events,
        }
