"""End-to-end benchmark: wall time and peak memory of ``run_sim.py``, and where time goes.

    python benchmarks/bench.py                  # 5,000 and 50,000 patients, 3 runs each
    python benchmarks/bench.py --sizes 20000 --repeats 5

Each run is a fresh process (simulate, validate, write); its peak RSS comes from the kernel
(wait4). The phase breakdown is one extra in-process run per size. Quote medians: the machine
is shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def one_run(patients: int, outdir: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command-line run."""
    command = [
        sys.executable,
        str(ROOT / "run_sim.py"),
        "--patients",
        str(patients),
        "--today",
        TODAY,
        "--outdir",
        str(outdir),
        "--quiet",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"run failed ({process.returncode}): {process.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def phases(patients: int, outdir: Path) -> dict[str, float]:
    """Seconds per phase of one in-process run, and the event and row counts."""
    from reporting.summary import build_summary
    from reporting.writers import staged_output, table_file_name, write_csv, write_json
    from sim.scenario import Scenario
    from sim.simulation import Simulation

    clock = time.perf_counter()
    marks = {}

    def mark(name):
        nonlocal clock
        now = time.perf_counter()
        marks[name] = now - clock
        clock = now

    simulation = Simulation(Scenario(patients=patients, today=dt.date.fromisoformat(TODAY)))
    mark("build world")
    simulation.run()
    mark("simulate")
    tables = simulation.tables()
    mark("record tables")
    summary = build_summary(simulation, tables)
    mark("validate")
    with staged_output(outdir) as staging:
        for name, frame in tables.items():
            write_csv(frame, name, staging / table_file_name(name, None), "slash")
        write_json(summary, staging / "validation_summary.json")
    mark("write")
    marks["events"] = sum(simulation.statistics()["events"].values())
    marks["rows"] = sum(len(frame) for _, frame in tables.items())
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| patients | wall s (median) | runs | peak RSS MB (median) | events/s | rows/s |")
    print("|---:|---:|---|---:|---:|---:|")
    breakdowns = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            runs = [one_run(size, Path(folder) / f"run{size}") for _ in range(args.repeats)]
            walls = [w for w, _ in runs]
            wall = statistics.median(walls)
            breakdowns[size] = detail = phases(size, Path(folder) / f"phases{size}")
            print(
                f"| {size:,} | {wall:.2f} | {', '.join(f'{w:.2f}' for w in walls)} | "
                f"{statistics.median(m for _, m in runs):.0f} | {detail['events'] / wall:,.0f} | "
                f"{detail['rows'] / wall:,.0f} |"
            )
    print()
    print("Phases of one in-process run (s):")
    for size, detail in breakdowns.items():
        parts = ", ".join(f"{k} {v:.2f}" for k, v in detail.items() if k not in ("events", "rows"))
        print(f"- {size:,} patients: {parts}; {detail['events']:,} events, {detail['rows']:,} rows")


if __name__ == "__main__":
    main()
