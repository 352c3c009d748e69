"""The Python API on top of the engine: a simulation that also returns its tables, census and
event log, and can run its regions as tasks in worker processes or on a Dask cluster.

    from reporting.app import Simulation
    simulation = Simulation(Scenario(patients=1000, seed=42, today=date(2025, 6, 30)))
    simulation.run()                 # or run(until=date(...)) repeatedly, to step the clock
    tables = simulation.tables()     # patients, visits, billing as pandas DataFrames
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from concurrent.futures import Executor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from reporting.app.tasks import GroupResult, PartOptions, group_regions, group_task
from reporting.assembly import Layout, tables_from_parts, whole_table
from reporting.census import census_table
from reporting.dimensions import doctors_table, hospitals_table
from reporting.eventlog import event_log_table
from reporting.naming import dataset_names
from reporting.recorder import Tables, record
from sim.facts import RegionFacts
from sim.geography import ZipTable
from sim.placement import RegionSpec
from sim.processes import RegionSimulation
from sim.scenario import Scenario
from sim.simulation import Simulation as EngineSimulation


class Simulation(EngineSimulation):
    """The engine's simulation, with its tables.

    By default the regions live in this process and the clock can be stepped (``run(until)``
    again and again). With an ``executor`` (a ``concurrent.futures`` executor: a process pool,
    or a Dask client's executor) or with ``parts`` (``PartOptions``), neighbouring regions are
    grouped into tasks: built, run to ``--today`` and recorded into part files in a worker (or
    here, one task at a time, without an executor), which sends back only counts and facts.
    ``workers`` (how many tasks run at once; default: every core with an executor) sizes the
    tasks. The tables are the same either way.
    """

    def __init__(
        self,
        scenario: Scenario,
        executor: Executor | None = None,
        parts: PartOptions | None = None,
        workers: int | None = None,
    ) -> None:
        self.executor = executor
        self._scratch: tempfile.TemporaryDirectory | None = None
        if parts is None and executor is not None:  # the API may ask for any table later
            self._scratch = tempfile.TemporaryDirectory(prefix="hospital-synth-parts.")
            parts = PartOptions(folder=self._scratch.name, census=True, events=True)
        if parts is not None:  # workers never create it: a missing folder means "stopped"
            Path(parts.folder).mkdir(parents=True, exist_ok=True)
        self.parts = parts
        self.results: list[GroupResult] = []  # task mode: groups of regions in key order
        self.layout: Layout | None = None  # task mode: the dataset's numbering of the tasks
        super().__init__(scenario)
        if workers is None:  # tasks are sized for the workers; the dataset never depends on it
            workers = (os.cpu_count() or 1) if executor is not None else 1
        self._groups = group_regions(
            self.specs, scenario.patients, scenario.max_region_patients, workers
        )

    def _build_regions(self) -> list[RegionSimulation]:
        return [] if self.runs_tasks else super()._build_regions()

    @property
    def runs_tasks(self) -> bool:
        """Whether regions run as tasks that write part files (no stepping of the clock)."""
        return self.parts is not None

    def run(self, until: dt.date | int | None = None) -> Simulation:
        """Advance every region's clock through day ``until`` (a date or a simulation day;
        default ``today``). Regions run as tasks go to ``today`` in one go."""
        if not self.runs_tasks:
            return super().run(until)
        day = self._until_day(until)
        if day != self.scenario.horizon:
            raise ValueError("regions run as tasks go to --today in one go: no stepping")
        if not self.results:
            self._run_tasks(day)
        return self

    def _run_tasks(self, day: int) -> None:
        """Run every group of regions as a task (results are keyed by region, so the order in
        which tasks finish does not matter)."""
        # object dtype: pandas' string index would check every looked-up value in Python
        zip_index = pd.Index(self.zips.zipcode, dtype=object)
        scenario, shares, insurers, parts = (
            self.scenario,
            self.plans,
            self.insurers,
            self.parts,
        )
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
        self.layout = Layout(self.results)
        self.day = day

    def _task_finished(self, result: GroupResult, finished: list[GroupResult]) -> None:
        finished.append(result)
        if self.progress:
            self.progress(sum(len(r.facts) for r in finished), len(self.specs))

    def _zips_of(self, group: list[RegionSpec], zip_index: pd.Index) -> ZipTable:
        """The rows of the run's ZIP table (indexed by ``zip_index``) that a group's regions
        use: what its validation looks up, and a smaller table to send to a worker."""
        used = np.concatenate([spec.zips.zipcode for spec in group])
        return self.zips.subset(np.flatnonzero(zip_index.isin(used)))

    def facts(self) -> list[RegionFacts]:
        """Each region's places, staff and event counts at the last day run, in key order."""
        if self.runs_tasks:
            return [facts for result in self.results for facts in result.facts]
        return super().facts()

    def tables(self) -> Tables:
        """The patients, visits and billing tables as of the last day run."""
        if self.runs_tasks:
            return tables_from_parts(self.layout, self.day + 1, self.scenario.clock_start)
        return record(self)

    def doctors(self) -> pd.DataFrame:
        """Every doctor who worked in the run up to the last day run (``reporting.dimensions``)."""
        facts = self.facts()
        return doctors_table(facts, dataset_names(facts), self.scenario.clock_start)

    def hospitals(self) -> pd.DataFrame:
        """Every hospital of the run, with its rooms and profile."""
        facts = self.facts()
        return hospitals_table(facts, dataset_names(facts))

    def census(self) -> pd.DataFrame:
        """Every hospital on every day from ``--start`` to the last day run."""
        if self.runs_tasks:
            return whole_table(self.layout, "census", self.day + 1, self.scenario.clock_start)
        return census_table(self)

    def event_log(self, tables: Tables | None = None) -> pd.DataFrame:
        """Every event up to the last day run, with the dataset's IDs and names (``tables``:
        this simulation's tables, if already at hand)."""
        if self.runs_tasks:
            return whole_table(self.layout, "events", self.day + 1, self.scenario.clock_start)
        return event_log_table(self, tables if tables is not None else self.tables())
