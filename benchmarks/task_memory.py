"""Resident memory of one task, phase by phase, in this process.

    python benchmarks/task_memory.py --patients 1000000      # the run's largest task
    python benchmarks/task_memory.py --patients 50000 --task 3

Places the run's regions as the command line would (2 workers' grouping), runs one task
(``group_task``) here, samples this process's RSS every 5 ms, and prints each phase's RSS
when it began and its highest RSS, then what the task leaves behind. Use it to find which
part of a task sets a worker's peak; ``bench.py`` gives the whole run's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reporting.app import tasks  # noqa: E402
from reporting.app.simulation import Simulation  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

PHASES = ("_run_region", "region_facts", "record_regions", "continuity_table", "table_facts",
          "write_part")  # fmt: skip


def rss_mb() -> float:
    """This process's resident memory now (MB)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PhaseMemory:
    """Each phase's RSS when it began and the highest RSS seen while it ran."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []
        self._name, self._start, self._high = "before the task", rss_mb(), 0.0
        self._running = True
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while self._running:
            self._high = max(self._high, rss_mb())
            time.sleep(0.005)

    def begin(self, name: str) -> None:
        now = rss_mb()
        self.rows.append((self._name, self._start, max(self._high, now)))
        self._name, self._start, self._high = name, now, now

    def stop(self) -> None:
        self.begin("")
        self._running = False

    def watch(self, module, name: str) -> None:
        """Mark ``module.name``'s calls (and what follows each) as phases."""
        function = getattr(module, name)

        def marked(*arguments, **keywords):
            self.begin(name)
            try:
                return function(*arguments, **keywords)
            finally:
                self.begin(f"after {name}")

        setattr(module, name, marked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--task", type=int, help="which task (default: the largest)")
    args = parser.parse_args()
    scenario = Scenario(patients=args.patients, seed=42, today=dt.date(2025, 6, 30))
    with tempfile.TemporaryDirectory() as folder:
        options = tasks.PartOptions(folder=folder)
        simulation = Simulation(scenario, parts=options, workers=2)
        groups = simulation._groups
        sizes = [sum(spec.patients for spec in group) for group in groups]
        chosen = args.task if args.task is not None else sizes.index(max(sizes))
        group = groups[chosen]
        print(f"task {chosen} of {len(groups)}: {sizes[chosen]:,} patients, regions "
              f"{', '.join(spec.key for spec in group)}")  # fmt: skip
        zips = simulation._zips_of(group, pd.Index(simulation.zips.zipcode, dtype=object))
        memory = PhaseMemory()
        for name in PHASES:
            memory.watch(tasks, name)
        started = time.perf_counter()
        tasks.group_task(scenario, group, simulation.plans, simulation.insurers, zips, options)
        memory.stop()
    print(f"{time.perf_counter() - started:.1f} s")
    print("| phase | RSS MB at start | highest RSS MB |")
    print("|---|---:|---:|")
    for name, start, high in memory.rows:
        print(f"| {name} | {start:.0f} | {high:.0f} |")
    print(f"after the task (its memory released): {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
