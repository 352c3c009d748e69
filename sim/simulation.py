"""The Python API: build a scenario's world, run its clock, read its tables.

from sim import Scenario, Simulation
simulation = Simulation(Scenario(patients=1000, seed=42, today=date(2025, 6, 30)))
simulation.run()                 # or run(until=date(...)) repeatedly, to step the clock
tables = simulation.tables()     # patients, visits, billing as pandas DataFrames
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from pathlib import Path

import attrs
import numpy as np
import pandas as pd

from sim.facts import RegionFacts, region_facts, run_statistics
from sim.geography import ZipTable, load_zip_table
from sim.placement import RegionSpec, plan_regions
from sim.population import insurer_pool
from sim.processes import RegionSimulation
from sim.refdata import load_names
from sim.scenario import Scenario
from sim.tasks import GroupResult, PartOptions, group_regions, group_task
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
    """A whole run: one region per state (or per part of a large state), each with its own
    SimPy clock and event log.

    By default the regions live in this process and the clock can be stepped (``run(until)``
    again and again). With an ``executor`` (a ``concurrent.futures`` executor: a process pool,
    or a Dask client's executor) or with ``parts`` (``PartOptions``), neighbouring regions are
    grouped into tasks: built, run to ``--today`` and recorded into part files in a worker (or
    here, one task at a time, without an executor), which sends back only counts and facts.
    The tables are the same either way.
    """

    def __init__(
        self,
        scenario: Scenario,
        executor: Executor | None = None,
        parts: PartOptions | None = None,
    ) -> None:
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
        self._specs = specs
        self._shares = shares
        self._scratch: tempfile.TemporaryDirectory | None = None
        if parts is None and executor is not None:  # the API may ask for any table later
            self._scratch = tempfile.TemporaryDirectory(prefix="hospital-sim-parts.")
            parts = PartOptions(folder=self._scratch.name, census=True, events=True)
        self.parts = parts
        self.results: list[GroupResult] = []  # task mode: groups of regions in key order
        self.regions: list[RegionSimulation] = []
        if parts is None:
            self.regions = [
                RegionSimulation(build_region(scenario, spec, shares), scenario) for spec in specs
            ]
        self.day = -1  # the last simulation day that has been run
        self.progress: Callable[[int, int], None] | None = None  # (regions done, regions)
        self.task_done: Callable[[GroupResult], None] | None = None  # each task, as it ends
        self._groups = group_regions(specs, scenario.patients, scenario.max_region_patients)

    @property
    def region_count(self) -> int:
        """How many regions the run has (states or parts of states, or one in single-hospital
        mode)."""
        return len(self._specs)

    @property
    def task_keys(self) -> list[str]:
        """Each task's first region key (tasks run groups of neighbouring regions)."""
        return [group[0].key for group in self._groups]

    @property
    def runs_tasks(self) -> bool:
        """Whether regions run as tasks that write part files (no stepping of the clock)."""
        return self.parts is not None

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
        if self.runs_tasks:
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
        """Run every group of regions as a task (results are keyed by region, so the order in
        which tasks finish does not matter)."""
        if day != self.scenario.horizon:
            raise ValueError("regions run as tasks go to --today in one go: no stepping")
        if self.results:
            return
        zip_index = pd.Index(self.zips.zipcode)
        scenario, shares, insurers, parts = self.scenario, self._shares, self.insurers, self.parts
        arguments = (  # in key order, so that finished tasks can be written while others run
            (scenario, group, shares, insurers, self._zips_of(group, zip_index), parts)
            for group in self._groups
        )
        finished: list[GroupResult] = []
        if self.executor is None:
            for task in arguments:
                self._task_finished(group_task(*task), finished)
        else:
            futures = [self.executor.submit(group_task, *task) for task in arguments]
            try:
                for future in as_completed(futures):
                    self._task_finished(future.result(), finished)
            except BaseException:  # a failed task, a failed write or Ctrl-C: stop the rest
                for future in futures:
                    future.cancel()
                raise
        self.results = sorted(finished, key=lambda result: result.facts[0].key)
        self.day = day

    def _task_finished(self, result: GroupResult, finished: list[GroupResult]) -> None:
        finished.append(result)
        if self.task_done:
            self.task_done(result)
        if self.progress:
            self.progress(sum(len(r.facts) for r in finished), len(self._specs))

    def _zips_of(self, group: list[RegionSpec], zip_index: pd.Index) -> ZipTable:
        """The rows of the run's ZIP table (indexed by ``zip_index``) that a group's regions
        use: what its validation looks up, and a smaller table to send to a worker."""
        used = np.concatenate([spec.zips.zipcode for spec in group])
        return self.zips.subset(np.flatnonzero(zip_index.isin(used)))

    @property
    def as_of(self) -> dt.date:
        """The date the clock has reached: the last day run (``--today`` after ``run()``)."""
        if self.day < 0:
            raise RuntimeError("the simulation has not run yet: call run() first")
        return self.scenario.start + dt.timedelta(days=self.day)

    def facts(self) -> list[RegionFacts]:
        """Each region's places, staff and event counts at the last day run, in key order."""
        if self.runs_tasks:
            return [facts for result in self.results for facts in result.facts]
        regions = sorted(self.regions, key=lambda r: r.world.key)
        return [region_facts(region, self.day) for region in regions]

    def tables(self):
        """The patients, visits and billing tables as of the last day run."""
        if self.runs_tasks:
            from reporting.assembly import tables_from_parts

            return tables_from_parts(self.results)
        from reporting.recorder import record

        return record(self)

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
                        "occupied_rooms": hospital.occupied,
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
        return run_statistics(self.facts())
