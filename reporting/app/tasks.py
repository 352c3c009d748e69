"""Regions as tasks: build a group of regions, run them to ``--today``, record them, write
their part files and send back only counts and facts (the worker side of a parallel or
distributed run).

A task's result does not depend on where or when it ran: everything it draws comes from
random streams named by each region's key, and its rows are numbered within the group in the
dataset's order; it sends back their sort keys, from which the final step numbers the whole
dataset (``reporting.assembly.Layout``). Small neighbouring
regions share a task, so that per-task costs do not dominate small runs; how regions are
grouped never changes the dataset.
"""

from __future__ import annotations

import gc
from pathlib import Path

import attrs
import numpy as np

from reporting.app.memory import releasing_memory
from reporting.census import group_census
from reporting.continuity import continuity_table
from reporting.eventlog import group_events
from reporting.ordering import RowKeys
from reporting.parts import write_part, write_windowed_part
from reporting.recorder import record_regions
from reporting.summary import TableFacts, table_facts
from sim.coverage import PlanCatalog
from sim.facts import RegionFacts, region_facts
from sim.geography import ZipTable
from sim.placement import RegionSpec
from sim.processes import RegionSimulation
from sim.scenario import Scenario
from sim.world import build_region

# A large run is cut into this many tasks per worker (if it has the regions): enough that no
# worker waits long for the last ones, few enough that per-task costs (checks of small tables,
# a full collection, part files) stay small; 4 rather than 8 saves 5% of a 50,000-patient run.
TASKS_PER_WORKER = 4
MIN_TASK_PATIENTS = 2_000  # regions are grouped up to at least this many patients per task
# A task this large frees its regions itself once it drops them (a full collection, about 80 ms);
# a smaller one leaves them to the collector's own passes (a few MB).
COLLECT_FROM_PATIENTS = 1_000


@attrs.frozen
class PartOptions:
    """Where parts go and which optional tables the run writes."""

    folder: str  # the run's parts folder (shared storage for a cluster)
    validate: bool = True
    continuity: bool = True
    census: bool = False
    events: bool = False


@attrs.frozen
class GroupResult:
    """What a task sends back: its regions' facts (in key order), row counts, summary
    counts and the sort keys of its patients and visits (a few bytes per row); the rows
    themselves are in ``folder``."""

    facts: list[RegionFacts]
    rows: dict[str, int]
    table_facts: TableFacts
    folder: str
    patient_keys: RowKeys
    visit_keys: RowKeys
    continuity_rows: np.ndarray  # continuity rows of each of its patients (int8)
    condition_rows: np.ndarray  # problem-list rows of each of its patients (int32)
    coverage_rows: np.ndarray  # coverage spells of each of its patients (int32)


def group_regions(
    specs: list[RegionSpec], patients: int, max_region: int, workers: int = 1
) -> list[list[RegionSpec]]:
    """Consecutive regions in key order, packed into tasks of up to a target size: about
    ``TASKS_PER_WORKER`` tasks for each of ``workers``, at least ``MIN_TASK_PATIENTS`` and at
    most ``max_region`` patients. The grouping never changes the dataset."""
    tasks = TASKS_PER_WORKER * max(1, workers)
    target = min(max_region, max(MIN_TASK_PATIENTS, patients // tasks))
    groups: list[list[RegionSpec]] = []
    size = 0
    for spec in sorted(specs, key=lambda s: s.key):
        if groups and size + spec.patients <= target:
            groups[-1].append(spec)
            size += spec.patients
        else:
            groups.append([spec])
            size = spec.patients
    return groups


@releasing_memory
def group_task(
    scenario: Scenario,
    specs: list[RegionSpec],
    plans: PlanCatalog,
    insurers: list[str],
    zips: ZipTable,
    options: PartOptions,
) -> GroupResult:
    """Build a group of regions, run them to --today, write their parts, return counts; the
    memory the task used goes back to the system before the worker waits for the next one."""
    day = scenario.horizon
    regions = [_run_region(scenario, spec, plans, day) for spec in specs]
    folder = Path(options.folder) / specs[0].key
    facts = [region_facts(region, day) for region in regions]
    tables = record_regions(regions, scenario, insurers, day, facts)
    rows: dict[str, int] = {}
    days = day + 1
    if options.census:
        census = group_census(regions, days, scenario.clock_start)
        census_day = census["date"].to_numpy().astype("datetime64[D]") - np.datetime64(
            scenario.clock_start, "D"
        )
        write_windowed_part(census, census_day.astype(np.int64), days, folder, "census")
        rows["census"] = len(census)
        del census
    if options.events:
        events = group_events(regions, tables.keys, insurers)
        write_windowed_part(events, events["day"].to_numpy(), days, folder, "events")
        rows["events"] = len(events)
        del events
    del regions  # the simulated worlds and their event logs: the checks need only the tables
    if sum(spec.patients for spec in specs) >= COLLECT_FROM_PATIENTS:
        gc.collect()  # they are held in reference cycles (SimPy processes and their regions)
    continuity = continuity_table(tables.visits, scenario.continuity_min_visits)
    summary_facts = table_facts(
        tables, continuity, scenario, scenario.today, zips, options.validate
    )
    written = dict(tables.items())
    if options.continuity:
        written["continuity"] = continuity
    for name, frame in written.items():
        write_part(frame, folder, name)
    rows = {name: len(frame) for name, frame in written.items()} | rows
    return GroupResult(
        facts=facts,
        rows=rows,
        table_facts=summary_facts,
        folder=str(folder),
        patient_keys=tables.patient_keys,
        visit_keys=tables.visit_keys,
        continuity_rows=np.bincount(
            continuity["patient_id"].to_numpy() - 1, minlength=len(tables.patients)
        ).astype(np.int8),
        condition_rows=np.bincount(
            tables.conditions["patient_id"].to_numpy() - 1, minlength=len(tables.patients)
        ).astype(np.int32),
        coverage_rows=np.bincount(
            tables.coverage["patient_id"].to_numpy() - 1, minlength=len(tables.patients)
        ).astype(np.int32),
    )


def _run_region(scenario: Scenario, spec: RegionSpec, plans: PlanCatalog, day: int):
    """A region built and run through ``day``."""
    region = RegionSimulation(build_region(scenario, spec, plans), scenario)
    region.run_through(day)
    return region
