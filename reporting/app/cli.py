"""The command line: parse, build the Scenario, run, write, print. Nothing else lives here.

Usage: ``run_sim.py [flags]`` makes a dataset; ``run_sim.py compare --scenario a.toml
--scenario b.toml`` compares scenarios. Exit status: 0 success, 2 bad input (one line on
stderr), 3 the dataset was written but a validation rule failed, 130 interrupted (nothing
written).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from reporting.app.experiments import compare
from reporting.app.simulation import Simulation
from reporting.app.tasks import PartOptions
from reporting.assembly import table_slices, whole_table
from reporting.databases import DatabaseError, check_postgres, duckdb_writer, load_postgres
from reporting.sql import schema_sql
from reporting.summary import summary_from
from reporting.writers import (
    TableFiles,
    dataset_file_names,
    staged_output,
    table_file_name,
    write_json,
)
from sim.scenario import DEFAULTS, Scenario, ScenarioError
from sim.scenario_file import load_scenario

EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3
EXIT_INTERRUPTED = 130
PARALLEL_ABOVE = 20_000  # patients: larger runs use every core by default


class UsageError(Exception):
    """Bad command-line input; the message is the one line shown to the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(message)


def _date(text: str) -> dt.date:
    for layout in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)")


def _whole(text: str) -> int:
    return int(text.replace("_", "").replace(",", ""))


def _parser(convert: Callable[[str], float], accept: Callable[[float], bool], requirement: str):
    """An argparse type: ``convert`` the text, then require a finite value that ``accept``s."""
    noun = "whole number" if convert in (int, _whole) else "number"

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not (math.isfinite(value) and accept(value)):
            raise argparse.ArgumentTypeError(f"{text} {requirement}")
        return value

    return parse


_rate = _parser(float, lambda v: 0.0 <= v <= 1.0, "is outside [0, 1]")
_count = _parser(_whole, lambda v: v >= 1, "must be at least 1")
_positive_number = _parser(float, lambda v: v > 0, "must be a finite number above 0")
_non_negative = _parser(float, lambda v: v >= 0, "must be a finite number, 0 or more")
_seed = _parser(int, lambda v: v >= 0, "must not be negative")


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


# Flags that set a Scenario field of the same name: (group, field, parse, help). A help text
# ending in "(default)" gets the default from defaults.toml.
GEO, CARE, SCALE = "geography", "continuity of care", "scale"
SCENARIO_FLAGS = (
    (None, "patients", _count, "patients to simulate (default)"),
    (None, "seed", _seed, "random seed (default)"),
    (None, "today", _date, "anchor date: nothing happens after it (default: the current date)"),
    (None, "start", _date, "first day of the history (default: three years before --today)"),
    (None, "minor_same_day_rate", _rate, "same-day rate of minor and chronic cases (default)"),
    (None, "insured_rate", _rate, "share of insured patients (default)"),
    (GEO, "zip_pool_file", str, "CSV of ZIP codes: zipcode|zip|postal_code, state, city"),
    (GEO, "zip_target", _count, "at most this many distinct patient ZIPs"),
    (GEO, "hospital_name", str, "name of the single hospital (implies one hospital)"),
    (GEO, "hospital_state", str, "state of the single hospital (implies one hospital)"),
    (GEO, "hospital_zipcode", str, "ZIP of the single hospital (implies one hospital)"),
    (GEO, "local_share", _rate, "share of patients in the hospital's state (default)"),
    (GEO, "local_top_n", _count, "in-state ZIPs nearest the hospital for locals (default)"),
    (GEO, "local_decay", _positive_number, "miles: a ZIP weighs exp(-d/decay) (default)"),
    (GEO, "outstate_neighbor_share", _rate, "out-of-state share from bordering states (default)"),
    (CARE, "continuity_preference", _rate, "chance to go back to the usual doctor (default)"),
    (CARE, "doctor_absence_rate", _non_negative, "absences per doctor per year (default)"),
    (CARE, "doctor_departure_rate", _non_negative, "departures per doctor per year (default)"),
    (CARE, "room_scale", _positive_number, "multiply every hospital's room count (default)"),
    (CARE, "rooms_per_hospital", _count, "a fixed number of rooms per hospital"),
    (CARE, "continuity_min_visits", _count, "fewer visits: left out of the indices (default)"),
    (SCALE, "max_region_patients", _count, "split a state with more patients (default)"),
)
METAVARS = {_count: "N", _seed: "N", _date: "DATE", _rate: "RATE", str: "TEXT"}


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run_sim.py",
        description="Simulate a US-style hospital system and write synthetic patients, visits "
        "and billing tables with a validation summary. All data are synthetic.",
    )
    groups = {None: parser}
    for group, field, parse, text in SCENARIO_FLAGS:
        if group not in groups:
            groups[group] = parser.add_argument_group(group)
        if text.endswith("(default)"):
            text = f"{text[: -len('(default)')]}(default {DEFAULTS[field]})"
        groups[group].add_argument(
            _flag(field), dest=field, type=parse, default=None, help=text,
            metavar=METAVARS.get(parse, "NUMBER"),
        )  # fmt: skip
    parser.add_argument(
        "--date-format",
        choices=("slash", "iso"),
        default=DEFAULTS["date_format"],
        help="dates as YYYY/MM/DD (slash, default) or YYYY-MM-DD (iso)",
    )
    groups["geography"].add_argument(
        "--single-hospital", action="store_true", help="one hospital for the whole dataset"
    )
    outputs = parser.add_argument_group("outputs")
    outputs.add_argument(
        "--outdir", type=_folder, default=Path("output"), help="output folder (default %(default)s)"
    )
    outputs.add_argument(
        "--export-prefix", help="write PREFIX_patients.csv, ... instead of patients.csv, ..."
    )
    validation = outputs.add_mutually_exclusive_group()
    validation.add_argument("--validate", action="store_true", help="validate (the default)")
    validation.add_argument("--no-validate", action="store_true", help="skip the rule checks")
    outputs.add_argument("--no-continuity", action="store_true", help="do not write continuity.csv")
    outputs.add_argument(
        "--census", action="store_true", help="also write census.csv (rooms and flows per day)"
    )
    outputs.add_argument(
        "--event-log", action="store_true", help="also write events.csv, one row per event"
    )
    outputs.add_argument(
        "--report", action="store_true", help="also write report.html (needs matplotlib)"
    )
    outputs.add_argument("--duckdb", type=_folder, metavar="PATH", help="also write a DuckDB file")
    outputs.add_argument(
        "--postgres", metavar="DSN", help="also load into PostgreSQL (postgresql://user@host/db)"
    )
    outputs.add_argument(
        "--pg-schema", default="public", help="PostgreSQL schema (default %(default)s)"
    )
    outputs.add_argument(
        "--pg-replace", action="store_true", help="replace tables that already exist there"
    )
    outputs.add_argument(
        "--format",
        choices=("csv", "parquet", "both"),
        default="csv",
        help="table files: CSV (default), Parquet (zstd, typed) or both",
    )
    outputs.add_argument(
        "--quiet", action="store_true", help="print neither the summary nor progress bars"
    )
    scale = groups[SCALE]
    scale.add_argument(
        "--workers",
        type=_count,
        help="processes running regions in parallel (default: all cores above 20,000 patients)",
    )
    scale.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the regions on a Dask cluster (tcp://host:8786), or 'local' for a LocalCluster",
    )
    scale.add_argument(
        "--parts-dir",
        type=_folder,
        metavar="DIR",
        help="where regions write their part files; every worker must see it "
        "(default: a temporary folder beside --outdir, removed at the end)",
    )
    return parser


def check_outdir(outdir: Path, prefix: str | None, flag: str = "--outdir") -> None:
    """Refuse an output folder (given with ``flag``) or prefix we cannot use, before any
    work is done."""
    if prefix is not None and (not prefix or any(sep in prefix for sep in ("/", "\\", os.sep))):
        raise UsageError(
            f"--export-prefix {prefix!r} must be a plain name without a path separator"
        )
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"{flag} {outdir} is a file, not a folder")
    probe = outdir.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{flag} {outdir}: {probe} is a file, not a folder")
    try:  # the real test: can a folder be made there (read-only file systems, /proc, ...)?
        os.rmdir(tempfile.mkdtemp(prefix=".probe.", dir=probe))
    except OSError:
        raise UsageError(f"{flag} {outdir} is not writable") from None


BYTES_PER_PATIENT = 20_000  # peak memory of a task grows by about this much per patient


def worker_count(args: argparse.Namespace, patients: int) -> int:
    """Processes that run regions: --workers, else every core for large runs."""
    if args.workers:
        return args.workers
    return (os.cpu_count() or 1) if patients > PARALLEL_ABOVE else 1


@contextlib.contextmanager
def executor_for(args: argparse.Namespace, patients: int) -> Iterator[Executor | None]:
    """Where regions run: in this process, a local process pool, or a Dask cluster."""
    if args.dask is not None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("--dask needs dask: pip install 'dask[distributed]'") from None
        workers = args.workers or os.cpu_count() or 1
        try:
            if args.dask == "local":
                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, dashboard_address=None
                )
                client = Client(cluster)
            else:
                cluster, client = None, Client(args.dask, timeout=10)
        except OSError as error:
            raise UsageError(f"--dask {args.dask}: cannot reach the cluster ({error})") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    workers = worker_count(args, patients)
    if workers == 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # tasks not started yet never start
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def progress_bar(
    label: str, total: int, quiet: bool, unit: str = "region"
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (none when quiet or when stderr is not a terminal)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit=unit, leave=False) as bar:
        yield lambda done, _total: bar.update(done - bar.n)


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--report needs matplotlib: pip install matplotlib") from None


def check_memory(scenario: Scenario, workers: int) -> None:
    """Refuse a run that cannot fit in this machine's memory, before simulating for minutes.
    Memory is bounded by the largest region times the workers running at once."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return
    # single-hospital mode is one region; a split state's parts can be a little over the bound
    region = (
        scenario.patients
        if scenario.anchored
        else min(scenario.patients, int(scenario.max_region_patients * 1.2))
    )
    needed = 300_000_000 + region * BYTES_PER_PATIENT * workers
    if needed > available:
        raise UsageError(
            f"this run needs about {needed / 1e9:.1f} GB of memory ({workers} workers with "
            f"up to {region:,} patients each); {available / 1e9:.1f} GB are free: use fewer "
            "--workers or a smaller --max-region-patients"
        )


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The Scenario the flags describe (defaults from defaults.toml where a flag is absent)."""
    values = {
        field: getattr(args, field)
        for _, field, _, _ in SCENARIO_FLAGS
        if getattr(args, field) is not None
    }
    return Scenario(**values, date_format=args.date_format, single_hospital=args.single_hospital)


def build_compare_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run_sim.py compare",
        description="Run scenario files with common random numbers and compare their "
        "continuity-of-care figures side by side.",
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        action="append",
        required=True,
        help="a TOML scenario file (flag names as keys); give two or more",
    )
    parser.add_argument("--seed", type=_seed, help="the seed all scenarios share (default: theirs)")
    parser.add_argument("--patients", type=_count, help="patients in every scenario")
    parser.add_argument("--today", type=_date, help="--today of every scenario")
    parser.add_argument("--output", type=_folder, help="also write the table to this CSV file")
    return parser


def _cell(value) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4f}"


def run_compare(argv: list[str]) -> int:
    """``run_sim.py compare``: scenarios side by side."""
    args = build_compare_parser().parse_args(argv)
    overrides = {"seed": args.seed, "patients": args.patients, "today": args.today}
    scenarios = {}
    for path in args.scenario:
        name = path.stem
        while name in scenarios:
            name += "'"
        scenarios[name] = load_scenario(path, **overrides)
    if args.output is not None:
        check_outdir(args.output.parent, None, "--output")
    table = compare(scenarios)
    print(table.map(_cell).to_string())
    if args.output is not None:
        with staged_output(args.output.parent) as staging:
            table.to_csv(staging / args.output.name)
    return 0


def run(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "compare":
        return run_compare(argv[1:])
    args = build_parser().parse_args(argv)
    scenario = scenario_from_args(args)
    check_outdir(args.outdir, args.export_prefix)
    if args.dask is None:
        check_memory(scenario, worker_count(args, scenario.patients))
    names = table_names(args)
    if args.duckdb is not None:
        if args.duckdb.is_dir():
            raise UsageError(f"--duckdb {args.duckdb} is a folder; give a file name")
        check_outdir(args.duckdb.parent, None, "--duckdb")
    if args.postgres is not None:
        check_postgres(args.postgres, args.pg_schema, names, args.pg_replace)
    if args.report:
        require_matplotlib()
    if args.postgres is not None and args.format == "parquet":
        raise UsageError("--postgres loads the CSV files: use --format csv or both")
    if args.parts_dir is not None:
        check_outdir(args.parts_dir, None, "--parts-dir")
    started = time.perf_counter()
    simulation, summary = simulate_and_write(args, scenario, names)
    if args.postgres is not None:
        files = {name: args.outdir / table_file_name(name, args.export_prefix) for name in names}
        load_postgres(args.postgres, args.pg_schema, files, args.pg_replace)
    if not args.quiet:
        print(json.dumps(summary, indent=2))
    rows = {
        name: sum(r.rows[name] for r in simulation.results)
        for name in ("patients", "visits", "billing")
    }
    print(
        f"wrote {rows['patients']:,} patients, {rows['visits']:,} visits, "
        f"{rows['billing']:,} bills to "
        f"{args.outdir} in {time.perf_counter() - started:.1f} s; validation: "
        + (
            "skipped"
            if summary["ok"] is None
            else "OK"
            if summary["ok"]
            else f"{summary['violations']} violations"
        ),
        file=sys.stderr,
    )
    return EXIT_VALIDATION_FAILED if summary["ok"] is False else 0


def table_names(args: argparse.Namespace) -> list[str]:
    """The tables a run writes, in load order (a table after those it refers to)."""
    names = ["hospitals", "doctors", "patients", "visits", "billing"]
    names += [] if args.no_continuity else ["continuity"]
    names += ["census"] if args.census else []
    names += ["events"] if args.event_log else []
    return names


@contextlib.contextmanager
def parts_folder(parts_dir: Path | None, outdir: Path) -> Iterator[Path]:
    """A fresh folder for the regions' part files (inside ``--parts-dir``, or beside the
    output folder), removed when the run ends, whatever happens."""
    parent = (parts_dir if parts_dir is not None else outdir.parent).absolute()
    parent.mkdir(parents=True, exist_ok=True)  # absolute: workers may run elsewhere
    folder = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.parts.", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_summary(simulation: Simulation) -> dict:
    """The summary from the tasks' counts, their IDs mapped to the dataset's."""
    orders = simulation.layout.orders
    id_maps = [
        (orders["patients"].id_map(task), orders["visits"].id_map(task))
        for task in range(len(simulation.results))
    ]
    return summary_from(simulation, [r.table_facts for r in simulation.results], id_maps)


def simulate_and_write(
    args: argparse.Namespace, scenario: Scenario, names: list[str]
) -> tuple[Simulation, dict]:
    """Run the tasks and write the dataset, all or nothing: once every task has finished,
    each table is written slice by slice in the dataset's order, then the schema, the summary
    and the report. Returns the simulation and summary."""
    prefix = args.export_prefix
    duckdb = duckdb_writer(args.duckdb, names) if args.duckdb is not None else None
    with (
        parts_folder(args.parts_dir, args.outdir) as folder,
        duckdb or contextlib.nullcontext() as load,  # published after the files are in place
        staged_output(args.outdir, dataset_file_names(prefix)) as staging,
    ):
        files = {
            name: TableFiles(
                name,
                csv_path=staging / table_file_name(name, prefix)
                if args.format in ("csv", "both")
                else None,
                parquet_path=staging / table_file_name(name, prefix, ".parquet")
                if args.format in ("parquet", "both")
                else None,
                date_format=scenario.date_format,
            )
            for name in names
        }
        options = PartOptions(
            folder=str(folder),
            validate=not args.no_validate,
            continuity="continuity" in names or args.report,
            census=args.census,
            events=args.event_log,
        )
        with executor_for(args, scenario.patients) as executor:
            simulation = Simulation(scenario, executor=executor, parts=options)
            with progress_bar("regions", simulation.region_count, args.quiet) as advance:
                simulation.progress = advance
                simulation.run()
        layout, days = simulation.layout, simulation.day + 1
        total_rows = sum(r.rows.get(name, 0) for r in simulation.results for name in names)
        with progress_bar("writing", total_rows, args.quiet, unit="row") as advance:
            done = 0
            for name in names:
                for rows in table_slices(layout, name, days, scenario.start):
                    files[name].write(rows)
                    if load is not None:
                        load.insert(name, rows)
                    done += rows.num_rows
                    if advance:
                        advance(done, total_rows)
        for table_files in files.values():
            table_files.close()
        summary = run_summary(simulation)
        (staging / "schema.sql").write_text(schema_sql(names), encoding="utf-8")
        write_json(summary, staging / "validation_summary.json")
        if args.report:
            from reporting.report import write_report  # matplotlib is an optional extra

            continuity = whole_table(layout, "continuity", days, scenario.start)
            write_report(staging / "report.html", simulation.tables(), summary, continuity)
    if load is not None and load.error is not None:
        raise DatabaseError(f"--duckdb {args.duckdb}: {load.error} (the files are written)")
    return simulation, summary


def main(argv: list[str] | None = None) -> int:
    """Entry point: turns bad input into one line on stderr and exit status 2."""
    try:
        return run(argv)
    except (UsageError, ScenarioError, DatabaseError) as error:
        print(f"run_sim.py: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"run_sim.py: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("run_sim.py: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
