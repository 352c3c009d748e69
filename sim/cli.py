"""The command line: parse, build the Scenario, run, write, print. Nothing else lives here.

Usage: ``run_sim.py [flags]`` makes a dataset; ``run_sim.py compare --scenario a.toml
--scenario b.toml`` compares scenarios. Exit status: 0 success, 2 bad input (one line on
stderr), 3 the dataset was written but a validation rule failed, 130 interrupted (nothing
written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from reporting.census import census_table
from reporting.continuity import continuity_table
from reporting.databases import DatabaseError, check_postgres, load_postgres, write_duckdb
from reporting.eventlog import event_log_table
from reporting.sql import schema_sql
from reporting.summary import build_summary
from reporting.writers import staged_output, table_file_name, write_csv, write_json
from sim.experiments import compare, load_scenario
from sim.scenario import DEFAULTS, Scenario, ScenarioError
from sim.simulation import Simulation

EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3
EXIT_INTERRUPTED = 130


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


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is outside [0, 1]")
    return value


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return Path(text)


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} must not be negative")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run_sim.py",
        description="Simulate a US-style hospital system and write synthetic patients, visits "
        "and billing tables with a validation summary. All data are synthetic.",
    )
    parser.add_argument(
        "--patients",
        type=_count,
        default=DEFAULTS["patients"],
        help="patients to simulate (default %(default)s)",
    )
    parser.add_argument(
        "--seed", type=_seed, default=DEFAULTS["seed"], help="random seed (default %(default)s)"
    )
    parser.add_argument(
        "--today",
        type=_date,
        help="anchor date: nothing happens after it (default: the current date)",
    )
    parser.add_argument(
        "--start", type=_date, help="first day of the history (default: three years before --today)"
    )
    parser.add_argument(
        "--outdir", type=_folder, default=Path("output"), help="output folder (default %(default)s)"
    )
    parser.add_argument(
        "--export-prefix", help="write PREFIX_patients.csv, ... instead of patients.csv, ..."
    )
    validation = parser.add_mutually_exclusive_group()
    validation.add_argument(
        "--validate", action="store_true", help="validate the tables (the default)"
    )
    validation.add_argument("--no-validate", action="store_true", help="skip the validation checks")
    parser.add_argument(
        "--minor-same-day-rate",
        type=_rate,
        default=DEFAULTS["minor_same_day_rate"],
        help="same-day discharge rate of minor and chronic cases (default %(default)s)",
    )
    parser.add_argument(
        "--insured-rate",
        type=_rate,
        default=DEFAULTS["insured_rate"],
        help="share of insured patients (default %(default)s)",
    )
    parser.add_argument(
        "--date-format",
        choices=("slash", "iso"),
        default=DEFAULTS["date_format"],
        help="dates as YYYY/MM/DD (slash, default) or YYYY-MM-DD (iso)",
    )
    geography = parser.add_argument_group("geography")
    geography.add_argument(
        "--zip-pool-file",
        type=Path,
        help="CSV of ZIP codes (columns zipcode|zip|postal_code, state|state_id, city)",
    )
    geography.add_argument(
        "--zip-target", type=_count, help="at most this many distinct patient ZIPs"
    )
    geography.add_argument(
        "--single-hospital",
        action="store_true",
        help="one hospital for the whole dataset (locality mode)",
    )
    geography.add_argument(
        "--hospital-name", help="name of the single hospital (default: generated)"
    )
    geography.add_argument(
        "--hospital-state", help="state of the single hospital (implies one hospital)"
    )
    geography.add_argument(
        "--hospital-zipcode", help="ZIP of the single hospital (implies one hospital)"
    )
    geography.add_argument(
        "--local-share",
        type=_rate,
        default=DEFAULTS["local_share"],
        help="share of patients living in the hospital's state (default %(default)s)",
    )
    geography.add_argument(
        "--local-top-n",
        type=_count,
        default=DEFAULTS["local_top_n"],
        help="in-state ZIPs closest to the hospital that patients live in (default %(default)s)",
    )
    geography.add_argument(
        "--local-decay",
        type=_positive_number,
        default=DEFAULTS["local_decay"],
        help="distance decay in miles: weight exp(-d/decay) (default %(default)s)",
    )
    geography.add_argument(
        "--outstate-neighbor-share",
        type=_rate,
        default=DEFAULTS["outstate_neighbor_share"],
        help="share of out-of-state patients from bordering states (default %(default)s)",
    )
    care = parser.add_argument_group("continuity of care")
    care.add_argument(
        "--continuity-preference",
        type=_rate,
        default=DEFAULTS["continuity_preference"],
        help="chance a patient goes back to their usual doctor (default %(default)s)",
    )
    care.add_argument(
        "--doctor-absence-rate",
        type=_non_negative,
        default=DEFAULTS["doctor_absence_rate"],
        help="absences per doctor per year (default %(default)s)",
    )
    care.add_argument(
        "--doctor-departure-rate",
        type=_non_negative,
        default=DEFAULTS["doctor_departure_rate"],
        help="departures per doctor per year (default %(default)s)",
    )
    care.add_argument(
        "--room-scale",
        type=_positive_number,
        default=DEFAULTS["room_scale"],
        help="multiply every hospital's room count (default %(default)s)",
    )
    care.add_argument(
        "--rooms-per-hospital", type=_count, help="a fixed number of rooms per hospital"
    )
    care.add_argument(
        "--continuity-min-visits",
        type=_count,
        default=DEFAULTS["continuity_min_visits"],
        help="patients with fewer visits are left out of the indices (default %(default)s)",
    )
    care.add_argument("--no-continuity", action="store_true", help="do not write continuity.csv")
    care.add_argument(
        "--census",
        action="store_true",
        help="also write census.csv: rooms, admissions, discharges, diversions per day",
    )
    outputs = parser.add_argument_group("more outputs")
    outputs.add_argument(
        "--event-log",
        action="store_true",
        help="also write events.csv: one row per event (process-mining format)",
    )
    outputs.add_argument(
        "--report",
        action="store_true",
        help="also write report.html: the validation table and plots (needs matplotlib)",
    )
    outputs.add_argument(
        "--duckdb",
        type=_folder,
        metavar="PATH",
        help="also write a DuckDB database file with the tables and constraints",
    )
    outputs.add_argument(
        "--postgres",
        metavar="DSN",
        help="also load the tables into PostgreSQL (postgresql://user@host/db)",
    )
    outputs.add_argument(
        "--pg-schema", default="public", help="PostgreSQL schema (default %(default)s)"
    )
    outputs.add_argument(
        "--pg-replace", action="store_true", help="replace tables that already exist in that schema"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    return parser


def check_outdir(outdir: Path, prefix: str | None) -> None:
    """Refuse an output folder or prefix we cannot use, before any work is done."""
    if prefix is not None and (not prefix or any(sep in prefix for sep in ("/", "\\", os.sep))):
        raise UsageError(
            f"--export-prefix {prefix!r} must be a plain name without a path separator"
        )
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"--outdir {outdir} is a file, not a folder")
    probe = outdir.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"--outdir {outdir}: {probe} is a file, not a folder")
    try:  # the real test: can a folder be made there (read-only file systems, /proc, ...)?
        os.rmdir(tempfile.mkdtemp(prefix=".probe.", dir=probe))
    except OSError:
        raise UsageError(f"--outdir {outdir} is not writable") from None


BYTES_PER_PATIENT = 20_000  # peak memory of a run grows by about this much per patient


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--report needs matplotlib: pip install 'hospital-sim[report]'") from None


def check_memory(patients: int) -> None:
    """Refuse a run that cannot fit in this machine's memory, before simulating for minutes."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return
    needed = 300_000_000 + patients * BYTES_PER_PATIENT
    if needed > available:
        raise UsageError(
            f"--patients {patients:,} needs about {needed / 1e9:.0f} GB of memory; "
            f"{available / 1e9:.0f} GB are free: use fewer patients"
        )


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    values = {
        "patients": args.patients,
        "seed": args.seed,
        "date_format": args.date_format,
        "minor_same_day_rate": args.minor_same_day_rate,
        "insured_rate": args.insured_rate,
        "start": args.start,
        "zip_pool_file": str(args.zip_pool_file) if args.zip_pool_file else None,
        "zip_target": args.zip_target,
        "single_hospital": args.single_hospital,
        "hospital_name": args.hospital_name,
        "hospital_state": args.hospital_state,
        "hospital_zipcode": args.hospital_zipcode,
        "local_share": args.local_share,
        "local_top_n": args.local_top_n,
        "local_decay": args.local_decay,
        "outstate_neighbor_share": args.outstate_neighbor_share,
        "continuity_preference": args.continuity_preference,
        "doctor_absence_rate": args.doctor_absence_rate,
        "doctor_departure_rate": args.doctor_departure_rate,
        "room_scale": args.room_scale,
        "rooms_per_hospital": args.rooms_per_hospital,
        "continuity_min_visits": args.continuity_min_visits,
    }
    if args.today is not None:
        values["today"] = args.today
    return Scenario(**values)


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
        check_outdir(args.output.parent, None)
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
    check_memory(scenario.patients)
    names = ["patients", "visits", "billing"]
    names += [] if args.no_continuity else ["continuity"]
    names += ["census"] if args.census else []
    names += ["events"] if args.event_log else []
    if args.duckdb is not None:
        check_outdir(args.duckdb.parent, None)
    if args.postgres is not None:
        check_postgres(args.postgres, args.pg_schema, names, args.pg_replace)
    if args.report:
        require_matplotlib()
    started = time.perf_counter()
    simulation = Simulation(scenario).run()
    tables = simulation.tables()
    continuity = continuity_table(tables.visits, scenario.continuity_min_visits)
    summary = build_summary(
        simulation, tables, run_validation=not args.no_validate, continuity=continuity
    )
    extras = {
        "continuity": continuity,
        "census": census_table(simulation) if args.census else None,
        "events": event_log_table(simulation, tables) if args.event_log else None,
    }
    written = [*tables.items(), *((n, extras[n]) for n in names[3:])]
    files = {name: table_file_name(name, args.export_prefix) for name in names}
    with staged_output(args.outdir) as staging:
        for name, frame in written:
            write_csv(frame, name, staging / files[name], scenario.date_format)
        (staging / "schema.sql").write_text(schema_sql(names), encoding="utf-8")
        write_json(summary, staging / "validation_summary.json")
        if args.report:
            from reporting.report import write_report  # matplotlib is an optional extra

            write_report(staging / "report.html", tables, summary, continuity)
    if args.duckdb is not None:
        write_duckdb(args.duckdb, written)
    if args.postgres is not None:
        load_postgres(
            args.postgres,
            args.pg_schema,
            {name: args.outdir / files[name] for name in names},
            args.pg_replace,
        )
    if not args.quiet:
        print(json.dumps(summary, indent=2))
    rows = summary.get("distributions", {}).get("rows") or {n: len(f) for n, f in tables.items()}
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
