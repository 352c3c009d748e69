"""The command line: parse, build the Scenario, run, write, print. Nothing else lives here.

Usage: ``run_sim.py [flags]`` makes a dataset; ``run_sim.py compare --scenario a.toml
--scenario b.toml`` compares scenarios; ``run_sim.py verify DIR`` checks a dataset folder.
The program is also ``hospital-synth`` (the console script), ``python -m reporting.app``
and ``python -m run_sim``; messages use the name it was invoked by. Exit status: see
``EXIT_STATUS`` (and ``--help``).

Flags only turn text into numbers and dates: the values are checked by ``Scenario`` (the
rules of its fields), which names a bad setting by its flag here.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from reporting.app.experiments import compare
from reporting.app.lifetime import (
    Terminated,
    die_with_parent,
    interrupts,
    program_name,
    stop_workers,
)
from reporting.app.simulation import Simulation
from reporting.app.tasks import PartOptions
from reporting.assembly import table_slices, whole_table
from reporting.databases import DatabaseError, check_postgres, duckdb_writer, load_postgres
from reporting.datapackage import write_datapackage
from reporting.parts import run_parts_folder
from reporting.prefetch import prefetched
from reporting.publication import (
    HOST,
    LOCK,
    MANIFEST,
    MARKER,
    PRIVATE,
    DatasetFolder,
    FolderError,
    file_record,
    verify,
)
from reporting.sql import schema_sql
from reporting.summary import file_digests, package_version, summary_from
from reporting.writers import TableFiles, atomic_file, table_file_name, write_json
from sim.scenario import DEFAULTS, RULES, Scenario, ScenarioError, flag_name, parse_date
from sim.scenario_file import load_scenario
from sim.text import neutralise_formula

EXIT_SYSTEM_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3
EXIT_VERIFY_FAILED = 1  # verify: the folder is damaged or unfinished
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report it
PARALLEL_ABOVE = 20_000  # patients: larger runs use every core by default


class UsageError(Exception):
    """Bad command-line input; the message is the one line shown to the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(message)


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _whole(text: str) -> int:
    try:
        return int(text.strip().replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


# How the text of a scenario flag becomes a value, by the kind of its Scenario rule; the
# ranges are the rule's business.
TEXT_TO_VALUE = {"whole": _whole, "number": _number, "date": _date, "text": str, "path": str}
METAVARS = {"whole": "N", "number": "NUMBER", "date": "DATE", "text": "TEXT", "path": "PATH"}


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    if "\0" in text:
        raise argparse.ArgumentTypeError("must not contain a NUL character")
    return Path(text)


# Flags that set a Scenario field of the same name: (group, field, help). A help text ending
# in "(default)" gets the default from defaults.toml.
GEO, CARE, SCALE = "geography", "continuity of care", "scale"
SCENARIO_FLAGS = (
    (None, "patients", "patients to simulate (default)"),
    (None, "seed", "random seed (default)"),
    (None, "today", "anchor date: nothing happens after it (default: the current date)"),
    (None, "start", "first day of the history (default: three years before --today)"),
    (
        None,
        "burn_in_days",
        "days simulated before --start and not written, so that the history starts in a "
        "steady state (default)",
    ),
    (None, "minor_same_day_rate", "same-day rate of minor and chronic cases (default)"),
    (
        None,
        "insured_rate",
        "share of residents with health coverage (default: the national figure, about 0.92; "
        "the original generator used 0.78); scales the uninsured spells, keeping who they are",
    ),
    (GEO, "zip_pool_file", "CSV of ZIP codes: zipcode|zip|postal_code, state, city"),
    (GEO, "zip_target", "at most this many distinct patient ZIPs"),
    (GEO, "hospital_name", "name of the single hospital (implies one hospital)"),
    (GEO, "hospital_state", "state of the single hospital (implies one hospital)"),
    (GEO, "hospital_zipcode", "ZIP of the single hospital (implies one hospital)"),
    (GEO, "local_share", "share of patients in the hospital's state (default)"),
    (GEO, "local_top_n", "in-state ZIPs nearest the hospital for locals (default)"),
    (GEO, "local_decay", "miles: a ZIP weighs exp(-d/decay) (default)"),
    (GEO, "outstate_neighbor_share", "out-of-state share from bordering states (default)"),
    (CARE, "continuity_preference", "chance to go back to the usual source of care (default)"),
    (CARE, "doctor_absence_rate", "absences per doctor per year (default)"),
    (CARE, "doctor_departure_rate", "departures per doctor per year (default)"),
    (CARE, "room_scale", "multiply every hospital's room count (default)"),
    (CARE, "rooms_per_hospital", "a fixed number of rooms per hospital"),
    (CARE, "continuity_min_visits", "fewer visits: left out of the indices (default)"),
    (SCALE, "max_region_patients", "split a state with more patients (default)"),
)

EXIT_STATUS = """exit status:
  0    success
  1    the system failed while writing (a full disk, ...): an older dataset is kept
  2    bad input (one line on stderr, nothing written): also an --outdir in use by another
       run or holding files this tool did not write (see --overwrite); or a refused
       database load
  3    the dataset was written but a rule check failed ("checks" in the summary)
  130  interrupted: nothing written or, once the files are published, the dataset complete
       and the database loads not done (the message says which)
  143  terminated by SIGTERM, as 130"""

EPILOG = f"""subcommands:
  compare     run scenario files side by side (%(prog)s compare --help)
  verify      check a dataset folder against its manifest.json (%(prog)s verify DIR)

{EXIT_STATUS}

examples:
  %(prog)s --patients 5000 --today 2025-06-30 --outdir out
  %(prog)s --config scenario.toml --seed 7 --json > summary.json
  %(prog)s compare --scenario base.toml --scenario churn.toml

A scenario file (--config, compare --scenario) is TOML with the flags' names as keys,
e.g. 'patients = 5000', 'today = 2025-06-30', 'insured-rate = 0.8'; flags given on the
command line override it. Every figure of sim/data/defaults.toml can be set there."""


def build_parser(prog: str = "run_sim.py") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        usage="%(prog)s [--config FILE] [flags]\n"
        "       %(prog)s compare --scenario FILE --scenario FILE [flags]",
        description="Simulate a US-style hospital system and write synthetic patients, visits\n"
        "and billing tables with a validation summary. All data are synthetic.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"hospital-synth {package_version()}"
    )
    parser.add_argument(
        "--config",
        type=_folder,
        metavar="FILE",
        help="a TOML scenario file (flag names as keys); flags given here override it",
    )
    groups = {None: parser}
    for group, field, text in SCENARIO_FLAGS:
        if group not in groups:
            groups[group] = parser.add_argument_group(group)
        if text.endswith("(default)"):
            text = f"{text[: -len('(default)')]}(default {DEFAULTS[field]})"
        rule = RULES[field]
        metavar = "RATE" if (rule.low, rule.high) == (0, 1) else METAVARS[rule.kind]
        groups[group].add_argument(
            flag_name(field), dest=field, type=TEXT_TO_VALUE[rule.kind], default=None, help=text,
            metavar=metavar,
        )  # fmt: skip
    parser.add_argument(
        "--date-format",
        choices=RULES["date_format"].choices,
        default=None,  # None: not given (a --config file may set it)
        help="dates as YYYY/MM/DD (slash, default) or YYYY-MM-DD (iso)",
    )
    groups["geography"].add_argument(
        "--single-hospital",
        action="store_true",
        default=None,
        help="one hospital for the whole dataset",
    )
    outputs = parser.add_argument_group("outputs")
    outputs.add_argument(
        "--outdir",
        type=_folder,
        default=Path("output"),
        metavar="DIR",
        help="output folder (default %(default)s)",
    )
    outputs.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files in --outdir with the names this run writes even when this tool "
        "did not write them (or they changed since)",
    )
    outputs.add_argument(
        "--export-prefix",
        metavar="PREFIX",
        help="write PREFIX_patients.csv, ... instead of patients.csv, ...",
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
        "--pg-schema",
        default="public",
        metavar="SCHEMA",
        help="PostgreSQL schema (default %(default)s)",
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
    printing = outputs.add_mutually_exclusive_group()
    printing.add_argument(
        "--json", action="store_true", help="print the whole summary as JSON instead of a digest"
    )
    printing.add_argument(
        "--quiet", action="store_true", help="print nothing on success (errors still go to stderr)"
    )
    scale = groups[SCALE]
    scale.add_argument(
        "--workers",
        type=_whole,
        metavar="N",
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
        "(default: a hidden folder inside --outdir, removed at the end)",
    )
    return parser


def _name_max(folder: Path) -> int:
    """The longest file name (in bytes) the file system of ``folder`` allows."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def check_outdir(
    outdir: Path, prefix: str | None, flag: str = "--outdir", files: tuple[str, ...] = ()
) -> None:
    """Refuse an output folder (given with ``flag``) or prefix we cannot use, before any
    work is done: a file, a symbolic link that leads nowhere (dangling, or a loop), a place
    where no folder can be made, or file names (``files``, and the hidden files and folders
    of a run) too long for the file system."""
    if prefix is not None and (not prefix or any(sep in prefix for sep in ("/", "\\", os.sep))):
        raise UsageError(
            f"--export-prefix {prefix!r} must be a plain name without a path separator"
        )
    if prefix is not None and (not prefix.isprintable() or prefix in (".", "..")):
        raise UsageError(f"--export-prefix {prefix!r} must be printable text, not . or ..")
    probe = outdir.absolute()
    while not probe.exists():
        if probe.is_symlink():
            raise UsageError(
                f"{flag} {outdir}: {probe} is a symbolic link that leads nowhere "
                "(dangling, or a loop)"
            )
        probe = probe.parent
    if probe == outdir.absolute() and not probe.is_dir():
        raise UsageError(f"{flag} {outdir} is a file, not a folder")
    if not probe.is_dir():
        raise UsageError(f"{flag} {outdir}: {probe} is a file, not a folder")
    try:  # the real test: can a folder be made there (read-only file systems, /proc, ...)?
        os.rmdir(tempfile.mkdtemp(prefix=".probe.", dir=probe))
    except OSError:
        raise UsageError(f"{flag} {outdir} is not writable") from None
    names = [*files, *(f"{name}.kept99" for name in files), LOCK, MARKER]
    names.append(f"{PRIVATE}staging-{HOST}-4194304-12345678")  # pid up to 2**22
    longest = max(names, key=lambda name: len(os.fsencode(name)))
    if len(os.fsencode(longest)) > _name_max(probe):
        what = "--export-prefix" if prefix is not None and prefix in longest else flag
        raise UsageError(
            f"{what} is too long: {longest[:40]!r}... would be a file name longer than "
            f"{_name_max(probe)} bytes"
        )


BYTES_PER_PATIENT = 20_000  # peak memory of a task grows by about this much per patient


def worker_count(args: argparse.Namespace, patients: int) -> int:
    """Processes that run regions: --workers, else every core for large runs (and always on a
    Dask cluster started here)."""
    if args.workers:
        return args.workers
    if args.dask is not None:
        return os.cpu_count() or 1
    return (os.cpu_count() or 1) if patients > PARALLEL_ABOVE else 1


def check_dask_address(address: str) -> None:
    """Refuse a --dask value that is neither ``local`` nor a scheduler address."""
    if address == "local":
        return
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError:
        raise UsageError("--dask needs dask: pip install 'dask[distributed]'") from None
    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)  # a port is needed
    except (ValueError, TypeError) as error:
        raise UsageError(
            f"--dask {address!r} is not 'local' nor a scheduler address like "
            f"tcp://host:8786 ({error})"
        ) from None


@contextlib.contextmanager
def executor_for(args: argparse.Namespace, patients: int) -> Iterator[Executor | None]:
    """Where regions run: in this process, a local process pool, or a Dask cluster."""
    if args.dask is not None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("--dask needs dask: pip install 'dask[distributed]'") from None
        workers = worker_count(args, patients)
        try:
            if args.dask == "local":
                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, dashboard_address=None
                )
                client = Client(cluster)
            else:
                cluster, client = None, Client(args.dask, timeout=10)
        except (OSError, ValueError, TypeError) as error:
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
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
    )
    try:
        yield pool
    except BaseException:  # Ctrl-C or a failed task: stop now, not after the running tasks
        stop_workers(pool)
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
    """The Scenario the flags describe: the ``--config`` file's values, overridden by the
    flags given (defaults from defaults.toml where neither sets a value). A bad value is
    named by its flag, or by its key in the file."""
    fields = [field for _, field, _ in SCENARIO_FLAGS] + ["date_format", "single_hospital"]
    given = {field: getattr(args, field) for field in fields if getattr(args, field) is not None}
    if getattr(args, "config", None) is not None:
        return load_scenario(args.config, "--config", **given)
    try:
        return Scenario(**given)
    except ScenarioError as error:
        raise error.named(flag_name) from None


def build_compare_parser(prog: str = "run_sim.py") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"{prog} compare",
        description="Run scenario files with common random numbers and compare their "
        "continuity-of-care figures side by side.",
        epilog="""exit status:
  0    success
  1    the system failed while writing --output
  2    bad input (one line on stderr)
  130  interrupted

examples:
  %(prog)s --scenario base.toml --scenario churn.toml
  %(prog)s --scenario a.toml --scenario b.toml --seed 7 --output out/comparison.csv""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        action="append",
        required=True,
        help="a TOML scenario file (flag names as keys); give two or more",
    )
    parser.add_argument(
        "--seed", type=_whole, metavar="N", help="the seed all scenarios share (default: theirs)"
    )
    parser.add_argument("--patients", type=_whole, metavar="N", help="patients in every scenario")
    parser.add_argument("--today", type=_date, metavar="DATE", help="--today of every scenario")
    parser.add_argument(
        "--output", type=_folder, metavar="FILE", help="also write the table to this CSV file"
    )
    return parser


def _cell(value) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4f}"


def run_compare(argv: list[str], prog: str = "run_sim.py") -> int:
    """``run_sim.py compare``: scenarios side by side."""
    args = build_compare_parser(prog).parse_args(argv)
    overrides = {"seed": args.seed, "patients": args.patients, "today": args.today}
    scenarios = {}
    for path in args.scenario:
        name = neutralise_formula(path.stem)  # a column header of --output
        while name in scenarios:
            name += "'"
        scenarios[name] = load_scenario(path, **overrides)
    if args.output is not None:
        if args.output.is_dir():
            raise UsageError(f"--output {args.output} is a folder; give a file name")
        if args.output.is_symlink() and not args.output.exists():
            raise UsageError(f"--output {args.output} is a symbolic link that leads nowhere")
        partial = f".{args.output.name}.12345678.partial"  # atomic_file's temporary file
        check_outdir(args.output.parent, None, "--output", (args.output.name, partial))
    table = compare(scenarios)
    print(table.map(_cell).to_string())
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(args.output) as partial:
            table.to_csv(partial)
    return 0


def build_verify_parser(prog: str = "run_sim.py") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"{prog} verify",
        description=f"Check a dataset folder against its {MANIFEST}: every file it lists is "
        "there with its size and SHA-256, and no publication was left unfinished. Files it "
        "does not list do not matter.",
        epilog=f"""exit status:
  0    complete: prints "OK: N files verified"
  {EXIT_VERIFY_FAILED}    damaged or unfinished: one line on stderr naming the first bad files
  2    bad input: not a folder, or a folder without {MANIFEST}""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", type=_folder, metavar="DIR", help="the dataset folder")
    return parser


def run_verify(argv: list[str], prog: str = "run_sim.py") -> int:
    """``run_sim.py verify DIR``: a dataset folder against its manifest."""
    verdict = verify(build_verify_parser(prog).parse_args(argv).folder)
    if verdict.status == EXIT_BAD_INPUT:
        raise UsageError(verdict.message)
    if verdict.status:
        print(f"{prog}: {verdict.message}", file=sys.stderr)
        return EXIT_VERIFY_FAILED
    print(verdict.message)
    return 0


def run(argv: list[str] | None = None, prog: str = "run_sim.py") -> int:
    """Run the command line; returns the exit status."""
    started = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "compare":
        return run_compare(argv[1:], prog)
    if argv and argv[0] == "verify":
        return run_verify(argv[1:], prog)
    args = build_parser(prog).parse_args(argv)
    args.invocation = {"program": prog, "argv": argv}  # recorded in the summary's run section
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    scenario = scenario_from_args(args)
    names = table_names(args)
    check_outdir(args.outdir, args.export_prefix, files=dataset_files(args, names))
    if args.dask is None:
        check_memory(scenario, worker_count(args, scenario.patients))
    else:
        check_dask_address(args.dask)
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
    folder = DatasetFolder(args.outdir, dataset_files(args, names), args.overwrite)
    loaded = []  # the databases loaded so far
    try:
        with folder:
            _, summary, rows = simulate_and_write(args, scenario, names, folder)
            loaded += ["DuckDB"] if args.duckdb is not None else []
            if args.postgres is not None:
                prefix = args.export_prefix
                files = {name: args.outdir / table_file_name(name, prefix) for name in names}
                load_postgres(args.postgres, args.pg_schema, files, args.pg_replace)
                loaded.append("PostgreSQL")
        if args.json:
            print(json.dumps(summary, indent=2))
        elif not args.quiet:
            print("\n".join(digest(args, summary, rows, time.perf_counter() - started)))
    except KeyboardInterrupt as stop:
        stop.written = what_was_written(args, folder, loaded)  # for the message of main
        raise
    if summary["ok"] is False:
        print(f"{prog}: {failed_checks(summary)}; the dataset is written", file=sys.stderr)
        return EXIT_VALIDATION_FAILED
    return 0


def what_was_written(args: argparse.Namespace, folder: DatasetFolder, loaded: list[str]) -> str:
    """What an interrupted run leaves: nothing, or the whole new dataset and the databases
    that were (or were not) loaded."""
    if not folder.published:
        return "nothing was written"
    notes = [f"the new dataset is published in {args.outdir}{os.sep} (complete, see {MANIFEST})"]
    if args.duckdb is not None and "DuckDB" not in loaded:
        notes.append(f"--duckdb {args.duckdb} was not written")
    if args.postgres is not None and "PostgreSQL" not in loaded:
        notes.append("nothing was loaded into PostgreSQL (the load was rolled back)")
    return "; ".join(notes)


def dataset_files(args: argparse.Namespace, names: list[str]) -> list[str]:
    """The names of the files a run writes into --outdir (its manifest aside)."""
    suffixes = {"csv": [".csv"], "parquet": [".parquet"], "both": [".csv", ".parquet"]}
    files = [
        table_file_name(n, args.export_prefix, s) for n in names for s in suffixes[args.format]
    ]
    files += ["schema.sql", "validation_summary.json"]
    files += ["datapackage.json"] if args.format != "parquet" else []
    files += ["report.html"] if args.report else []
    return files


def failed_checks(summary: dict) -> str:
    """``2 of 24 rule checks failed: overlapping_stays (1), ...``."""
    failed = {name: count for name, count in summary["checks"].items() if count}
    listed = ", ".join(f"{name} ({count:,})" for name, count in failed.items())
    return f"{len(failed)} of {len(summary['checks'])} rule checks failed: {listed}"


def digest(args: argparse.Namespace, summary: dict, rows: dict[str, int], seconds: float):
    """The lines printed after a run: what was run, the files written with their rows, the
    checks; ``--json`` prints the whole summary instead."""
    run = summary["run"]
    yield (
        f"simulated {run['patients']:,} patients (seed {run['seed']}, --start {run['start']}, "
        f"--today {run['today']}) in {seconds:.1f} s"
    )
    yield f"wrote {args.outdir}{os.sep}"
    suffixes = {"csv": [".csv"], "parquet": [".parquet"], "both": [".csv", ".parquet"]}
    tables = {
        ", ".join(table_file_name(name, args.export_prefix, s) for s in suffixes[args.format]): n
        for name, n in rows.items()
    }
    width = max(len(name) for name in [*tables, "validation_summary.json"]) + 2
    for name, count in tables.items():
        yield f"  {name:<{width}}{count:>11,} rows"
    yield f"  {'schema.sql':<{width}}PostgreSQL tables, keys and constraints"
    if args.format != "parquet":
        yield f"  {'datapackage.json':<{width}}Frictionless descriptor of the CSV files"
    summary_file = "validation_summary.json"
    yield f"  {summary_file:<{width}}the run, checks and distributions (--json prints it)"
    if args.report:
        yield "  report.html"
    yield f"  {MANIFEST:<{width}}each file's size and SHA-256 (verify checks them)"
    if kept := summary["run"].get("kept"):
        listed = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        yield f"kept (not written by this tool, or changed since): {listed}"
    if args.duckdb is not None:
        yield f"loaded into DuckDB: {args.duckdb}"
    if args.postgres is not None:
        yield f"loaded into PostgreSQL, schema {args.pg_schema}"
    scored = [row["ok"] for row in summary["realism"] if row["ok"] is not None]
    unscored = len(summary["realism"]) - len(scored)
    yield f"realism: {sum(scored)} of {len(summary['realism'])} targets in band" + (
        f" ({unscored} not measurable)" if unscored else ""
    )
    if summary["ok"] is None:
        yield "checks: skipped (--no-validate)"
    elif summary["ok"]:
        yield f"checks: all {len(summary['checks'])} passed"
    else:
        yield f"checks: {failed_checks(summary)}"


def table_names(args: argparse.Namespace) -> list[str]:
    """The tables a run writes, in load order (a table after those it refers to)."""
    names = ["hospitals", "doctors", "patients", "visits", "billing", "conditions", "coverage"]
    names += [] if args.no_continuity else ["continuity"]
    names += ["census"] if args.census else []
    names += ["events"] if args.event_log else []
    return names


def run_summary(
    simulation: Simulation,
    folder: Path | None = None,
    invocation: dict | None = None,
    record: Callable[[Path], dict] = file_record,
) -> dict:
    """The summary from the tasks' counts, their IDs mapped to the dataset's; its run
    section records the ``invocation`` and the files written so far into ``folder`` (as
    ``record`` gives them)."""
    orders = simulation.layout.orders
    id_maps = [
        (orders["patients"].id_map(task), orders["visits"].id_map(task))
        for task in range(len(simulation.results))
    ]
    summary = summary_from(simulation, [r.table_facts for r in simulation.results], id_maps)
    if invocation is not None:
        summary["run"]["invocation"] = invocation
    if folder is not None:
        summary["run"] |= file_digests(folder, record)
    return summary


def dataset_metadata(scenario: Scenario) -> dict[str, str]:
    """What every table file (Parquet metadata) and ``datapackage.json`` say about the run."""
    return {
        "generator": "hospital-synth",
        "version": package_version(),
        "seed": str(scenario.seed),
        "start": scenario.start.isoformat(),
        "today": scenario.today.isoformat(),
        "patients": str(scenario.patients),
    }


def simulate_and_write(
    args: argparse.Namespace, scenario: Scenario, names: list[str], outdir: DatasetFolder
) -> tuple[Simulation, dict, dict[str, int]]:
    """Run the tasks and write the dataset, all or nothing: once every task has finished,
    each table is written slice by slice in the dataset's order into the staging folder, then
    the schema, the summary and the report, and the whole dataset is published into
    ``outdir``. Returns the simulation, the summary and the rows written per table."""
    prefix, staging = args.export_prefix, outdir.staging
    duckdb = duckdb_writer(args.duckdb, names) if args.duckdb is not None else None
    with (
        run_parts_folder(args.parts_dir or args.outdir) as folder,
        duckdb or contextlib.nullcontext() as load,  # published after the files are in place
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
                metadata=dataset_metadata(scenario),
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
            workers = worker_count(args, scenario.patients)
            simulation = Simulation(scenario, executor=executor, parts=options, workers=workers)
            with progress_bar("regions", simulation.region_count, args.quiet) as advance:
                simulation.progress = advance
                simulation.run()
        layout, days = simulation.layout, simulation.day + 1
        total_rows = sum(r.rows.get(name, 0) for r in simulation.results for name in names)
        slices = prefetched(  # the next slice is read and ordered while this one is written
            (name, rows)
            for name in names
            for rows in table_slices(layout, name, days, scenario.clock_start)
        )
        # closed at once on an error or Ctrl-C: its thread stops before the parts are removed
        with (
            contextlib.closing(slices),
            progress_bar("writing", total_rows, args.quiet, unit="row") as advance,
        ):
            done = 0
            for name, rows in slices:
                files[name].write(rows)
                if load is not None:
                    load.insert(name, rows)
                done += rows.num_rows
                if advance:
                    advance(done, total_rows)
        for table_files in files.values():
            table_files.close()
        (staging / "schema.sql").write_text(schema_sql(names), encoding="utf-8")
        if args.format != "parquet":  # the descriptor describes the CSV files
            write_datapackage(
                staging / "datapackage.json",
                names,
                {name: table_file_name(name, prefix) for name in names},
                scenario.date_format,
                dataset_metadata(scenario),
            )
        summary = run_summary(simulation, staging, getattr(args, "invocation", None), outdir.record)
        summary["run"]["kept"] = list(outdir.plan().kept)
        write_json(summary, staging / "validation_summary.json")
        if args.report:
            from reporting.report import write_report  # matplotlib is an optional extra

            day_0 = scenario.clock_start
            continuity = whole_table(layout, "continuity", days, day_0)
            census = whole_table(layout, "census", days, day_0) if args.census else None
            write_report(staging / "report.html", simulation.tables(), summary, continuity, census)
        outdir.publish(dataset_metadata(scenario))
    if load is not None and load.error is not None:
        raise DatabaseError(f"--duckdb {args.duckdb}: {load.error} (the files are written)")
    return simulation, summary, {name: table_files.rows for name, table_files in files.items()}


def main(argv: list[str] | None = None) -> int:
    """Entry point: turns bad input into one line on stderr and exit status 2."""
    prog = program_name()
    try:
        with interrupts():
            return run(argv, prog)
    except (UsageError, ScenarioError, DatabaseError, FolderError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_SYSTEM_FAILURE
    except Terminated as stop:
        print(f"{prog}: terminated; {written(stop)}", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt as stop:
        print(f"{prog}: interrupted; {written(stop)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as stop:  # --help and --version
        return stop.code if isinstance(stop.code, int) else 0


def written(stop: KeyboardInterrupt) -> str:
    """What an interrupted run wrote, as ``run`` noted on the exception."""
    return getattr(stop, "written", "nothing was written")
