"""End-to-end benchmark: wall time and peak memory of ``run_sim.py``, and where time goes.

    python benchmarks/bench.py                  # 5,000 and 50,000 patients, 3 runs each
    python benchmarks/bench.py --sizes 20000 --repeats 5
    python benchmarks/bench.py --sizes 50000 --workers 2

Each run is a fresh process (simulate, validate, write); its peak memory is the resident
memory of the process and its workers together, sampled from /proc every 50 ms. The phase
breakdown is one extra in-process, one-worker run per size along the command line's path.
Quote medians: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TODAY = "2025-06-30"


def tree_rss(root: int) -> dict[int, float]:
    """Resident memory (MB, from /proc) of a process and each of its descendants now."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return {pid: rss.get(pid, 0) / 2**20 for pid in sorted(family)}


def one_run(
    patients: int, outdir: Path, workers: int, extra: list[str]
) -> tuple[float, float, str]:
    """Wall seconds and peak resident memory (MB) of one command-line run, summed over the
    process and its workers (sampled every 50 ms), and that peak split as main + workers (the
    processes alive at that moment: it tells idle workers' memory from tasks at their peak)."""
    command = [sys.executable, str(ROOT / "run_sim.py"), "--patients", str(patients), "--today",
               TODAY, "--outdir", str(outdir), "--quiet", "--workers", str(workers),
               *extra]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, split = 0.0, ""
    while process.poll() is None:
        now = tree_rss(process.pid)
        if sum(now.values()) > peak:
            peak = sum(now.values())
            main_process = now.pop(process.pid, 0.0)
            split = " + ".join(f"{mb:.0f}" for mb in (main_process, *now.values()))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"run failed ({process.returncode}): {process.stderr.read().decode()}")
    return wall, peak, split


def phases(patients: int, outdir: Path, extra: list[str]) -> dict[str, float]:
    """Seconds per phase of one in-process, one-worker run of the command line's path, and
    the event and row counts: the tasks, then the assembly that writes every table."""
    import reporting.app.simulation
    import reporting.writers
    from reporting.app.cli import (
        build_parser,
        dataset_files,
        scenario_from_args,
        simulate_and_write,
        table_names,
    )
    from reporting.publication import DatasetFolder

    args = build_parser().parse_args(
        ["--patients", str(patients), "--today", TODAY, "--outdir", str(outdir), "--quiet",
         "--workers", "1", *extra]
    )  # fmt: skip
    names = table_names(args)
    tasks, writing = "tasks (build, simulate, record, validate, write parts)", "write tables"
    spent = {tasks: 0.0, writing: 0.0}

    def timed(function, label):
        def run(*arguments, **keywords):
            clock = time.perf_counter()
            try:
                return function(*arguments, **keywords)
            finally:
                spent[label] += time.perf_counter() - clock

        return run

    task, write = reporting.app.simulation.group_task, reporting.writers.TableFiles.write
    reporting.app.simulation.group_task = timed(task, tasks)
    reporting.writers.TableFiles.write = timed(write, writing)
    try:
        clock = time.perf_counter()
        with DatasetFolder(args.outdir, dataset_files(args, names), args.overwrite) as folder:
            simulation, _, rows = simulate_and_write(args, scenario_from_args(args), names, folder)
        total = time.perf_counter() - clock
    finally:
        reporting.app.simulation.group_task, reporting.writers.TableFiles.write = task, write
    spent["assembly (ID order, slices), summary"] = total - sum(spent.values())
    spent["events"] = sum(simulation.statistics()["events"].values())
    spent["rows"] = sum(rows.values())
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-phases", action="store_true", help="skip the phase breakdown")
    parser.add_argument(
        "--extra", default="", help="more run_sim.py flags, e.g. '--event-log --census'"
    )
    args = parser.parse_args()
    extra = args.extra.split()
    print(f"workers: {args.workers}")
    print("| patients | wall s (median) | runs | peak RSS MB (median) | events/s | rows/s |")
    print("|---:|---:|---|---:|---:|---:|")
    breakdowns, splits = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            runs = [
                one_run(size, Path(folder) / f"run{size}", args.workers, extra)
                for _ in range(args.repeats)
            ]
            walls = [w for w, _, _ in runs]
            wall = statistics.median(walls)
            memory = statistics.median(m for _, m, _ in runs)
            splits[size] = [split for _, _, split in runs]
            listed = ", ".join(f"{w:.2f}" for w in walls)
            if args.no_phases:
                print(f"| {size:,} | {wall:.2f} | {listed} | {memory:.0f} | - | - |")
                continue
            breakdowns[size] = detail = phases(size, Path(folder) / f"phases{size}", extra)
            print(
                f"| {size:,} | {wall:.2f} | {listed} | {memory:.0f} | "
                f"{detail['events'] / wall:,.0f} | {detail['rows'] / wall:,.0f} |"
            )
    print()
    print("Peak memory of each run as main process + workers (MB):")
    for size, listed in splits.items():
        print(f"- {size:,} patients: {'; '.join(listed)}")
    if not breakdowns:
        return
    print()
    print("Phases of one in-process, one-worker run (s):")
    for size, detail in breakdowns.items():
        parts = ", ".join(f"{k} {v:.2f}" for k, v in detail.items() if k not in ("events", "rows"))
        print(f"- {size:,} patients: {parts}; {detail['events']:,} events, {detail['rows']:,} rows")


if __name__ == "__main__":
    main()
