"""Fuzz the command line: random scenarios over every flag, random TOML config files and
random small ZIP pool files (hostile ones too), run in this process through
``reporting.app.cli.main``.

A run passes when it exits 0, or 2 with exactly one line ``PROG: error: ...`` on stderr and
any older dataset in --outdir untouched. Anything else fails: exit 3 (a rule check failed),
exit 1, a traceback, an exception escaping ``main``, several lines of error, or a run that
takes longer than --timeout seconds. Seeded and reproducible: case N of seed S is always the
same command line (``--only N`` replays one).

    python scripts/fuzz_cli.py --seed 1 --runs 500
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reporting.app.cli import SCENARIO_FLAGS, main
from sim.geography import load_zip_reference
from sim.scenario import DEFAULTS, RULES, flag_name

PROG = "fuzz_cli"
OLD_DATASET = "an older dataset: must survive a refused run\n"
# Values of every kind that a careless or hostile user may type.
HOSTILE_TEXT = [
    "", " ", "   ", "abc", "-1", "0", "1e309", "nan", "inf", "-inf", "1,5", "0x10",
    "\uff11\uff10\uff10\uff10\uff12", "\u0660\u0660\u0660\u0661\u0662", "=HYPERLINK(1)",
    "@SUM(1)", "x" * 300, "\t", "9" * 40, "2025-02-30", "1/2", "../..", "\u202e",
]  # fmt: skip
SPECIALTIES = ["Internal Medicine", "Cardiology", "Obstetrics", "Dentistry", "", "internal"]


LAST_STATUS: list = [None]  # the exit status of the last run, for the summary


class Timeout(BaseException):
    """A run took longer than allowed (not an Exception: main must not catch it)."""


def _valid_number(rng: random.Random, field: str) -> float | int:
    rule = RULES[field]
    default = DEFAULTS.get(field)
    if field == "patients":
        return rng.randint(20, 300)
    if field == "max_region_patients":
        return rng.choice([1, 5, 50, 200, 25_000])
    if field == "rooms_per_hospital":
        return rng.choice([1, 2, 3, 10, 500])
    if field == "room_scale":
        return rng.choice([0.01, 0.05, 0.2, 1.0, 5.0, 100.0])
    if field == "zip_target":
        return rng.choice([1, 2, 10, 100, 5000])
    if rule.kind == "whole":
        base = default if isinstance(default, int) else 10
        low = int(rule.low or 0)
        return max(low, rng.choice([low, base, base * 2, base // 2, low + 1]))
    low = rule.low if rule.low is not None else (rule.above or 0.0)
    high = rule.high if rule.high is not None else (float(default or 1.0) * 3 or 1.0)
    if rule.high is not None and rule.low is not None:
        return rng.choice([low, high, rng.uniform(low, high)])
    value = rng.choice([float(default or 1.0), rng.uniform(low, high)])
    return value if rule.above is None or value > rule.above else rule.above + 0.01


def _invalid_text(rng: random.Random) -> str:
    return rng.choice(HOSTILE_TEXT)


def flag_value(rng: random.Random, field: str, pools: list[Path], bad: float) -> str:
    """Text for the flag of ``field``: invalid with probability ``bad``."""
    rule = RULES[field]
    if rng.random() < bad:
        return _invalid_text(rng)
    if field == "today":
        return rng.choice(["2025-06-30", "2024-02-29", "1900-01-01", "2200-12-31", "2030-01-01"])
    if field == "start":
        return rng.choice(["2024-06-30", "2025-06-01", "2025-06-30", "1999-01-01", "2026-01-01"])
    if field == "zip_pool_file":
        return str(rng.choice(pools))
    if field == "hospital_name":
        return rng.choice(["Midtown Medical Center", "=1+2", "  St. Mary's  ", "\u00c9cole"])
    if field == "hospital_state":
        return rng.choice(["NY", "ny", "New York", "AK", "DC", "ZZ", "Puerto Rico"])
    if field == "hospital_zipcode":
        return rng.choice(["10036", "99801", "10036-1234", "2134", "00000", "1003\uff16"])
    value = _valid_number(rng, field)
    if rule.kind == "whole":
        return rng.choice([str(value), f"{value:_}", f"{value:,}"])
    return repr(value)


def toml_value(rng: random.Random, field: str, bad: float) -> str:
    """A TOML value for ``field`` in a config file: of a wrong type or range with
    probability ``bad``."""
    rule = RULES[field]
    default = DEFAULTS.get(field)
    if rng.random() < bad:
        return rng.choice([
            "nan", "inf", "-inf", "-1", "1e308", '"text"', "[]", "[1e308, 1e308, 1e308]",
            "[0, 0, 0]", "[-1, 2]", "true", "2025-02-28", '"   "', "0", "1.5", "[1, 2, 3, 4, 5]",
        ])  # fmt: skip
    if field == "generalist_specialty":
        return f'"{rng.choice(SPECIALTIES)}"'
    if field in ("today", "start"):
        return rng.choice(["2025-06-30", "2024-01-01", '"2025-06-30"', "2025-06-30T10:00:00"])
    if field == "date_format":
        return rng.choice(['"iso"', '"slash"', '"dmy"'])
    if rule.kind == "flag":
        return rng.choice(["true", "false"])
    if rule.kind in ("range", "weights"):
        values = list(default) if isinstance(default, (list, tuple)) else [1.0, 2.0]
        change = rng.choice(["same", "scale", "swap", "zero_one", "tiny"])
        if change == "scale":
            values = [v * rng.choice([0.5, 2, 10]) for v in values]
        elif change == "swap":
            values = values[::-1]
        elif change == "zero_one" and values:
            values[0] = 0
        elif change == "tiny":
            values = [v * 1e-300 for v in values]
        return "[" + ", ".join(repr(v) for v in values) + "]"
    if rule.kind == "text":
        return f'"{default}"' if default is not None else '"x"'
    if rule.kind == "path":
        return '"/dev/null"'
    return repr(_valid_number(rng, field))


def write_pool(rng: random.Random, path: Path, bad: float) -> Path:
    """A small ZIP pool file, well-formed or (with probability ``bad``) hostile."""
    reference = load_zip_reference()
    hostile = ["empty_rows", "dup_header", "unicode", "formula", "bad"]
    kind = rng.choice(hostile) if rng.random() < bad else rng.choice(["good", "good", "formula"])
    if kind == "bad":
        choice = rng.choice(["binary", "empty", "header_only", "no_zip", "long_line", "folder"])
        if choice == "folder":
            path.mkdir()
            return path
        path.write_bytes({
            "binary": b"PK\x03\x04\x00\x00\x00",
            "empty": b"",
            "header_only": b"zipcode,state,city\n",
            "no_zip": b"code,region\n10036,NY\n",
            "long_line": b"zipcode,state\n" + b"1" * 300_000 + b",NY\n",
        }[choice])  # fmt: skip
        return path
    states = rng.sample(sorted(set(reference.state.tolist())), rng.randint(1, 4))
    rows = [i for i in range(len(reference)) if reference.state[i] in states]
    picked = rng.sample(rows, min(len(rows), rng.randint(3, 120)))
    zip_name = rng.choice(["zipcode", "zip", "ZIP", "postal_code", "Zip Code"])
    header = [zip_name, rng.choice(["state", "state_id", "STATE"]), "city"]
    if kind == "dup_header":
        header.append(rng.choice([zip_name, "city", "extra", "extra"]))
    lines = []
    for i in picked:
        zipcode, state, city = reference.zipcode[i], reference.state[i], reference.city[i]
        if rng.random() < 0.1:
            zipcode = zipcode.lstrip("0") or "0"
        if rng.random() < 0.05:
            zipcode += "-1234"
        if kind == "unicode" and rng.random() < 0.5:
            zipcode = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in zipcode)
        if kind == "formula" and rng.random() < 0.5:
            city = rng.choice(["=1+2", "@SUM(A1)", "+cmd", "-2"])
        if rng.random() < 0.1:
            state = ""
        row = [zipcode, state, city] + (["x"] if kind == "dup_header" else [])
        lines.append(row)
    if kind == "empty_rows":
        lines += [[""] * len(header)] * rng.randint(1, 5)
        if rng.random() < 0.5:
            header, lines = [""] * len(header), [[""] * len(header)] * 3
    delimiter = rng.choice([",", ";", "\t"])
    newline = rng.choice(["\n", "\r\n"])
    text = newline.join(
        delimiter.join(f'"{c}"' if "," in c else c for c in r) for r in [header, *lines]
    )
    path.write_text(("\ufeff" if rng.random() < 0.2 else "") + text + newline, encoding="utf-8")
    return path


def draw_case(rng: random.Random, tmp: Path) -> list[str]:
    """One random command line (its files written into ``tmp``)."""
    bad = 0.0 if rng.random() < 0.5 else 0.3  # half the cases use valid values only
    pools = [write_pool(rng, tmp / f"pool{i}.csv", bad) for i in range(rng.randint(1, 2))]
    pools += [Path("/dev/zero"), tmp / "absent.csv"] if rng.random() < bad / 3 else []
    argv = ["--patients", str(rng.randint(20, 300)), "--today", "2025-06-30"]
    argv += ["--quiet"] if rng.random() < 0.7 else rng.choice([[], ["--json"]])
    for _, field, _ in SCENARIO_FLAGS:
        if rng.random() < 0.15:
            argv += [flag_name(field), flag_value(rng, field, pools, bad)]
    if rng.random() < 0.3:
        config = tmp / "config.toml"
        fields = rng.sample(sorted(RULES), rng.randint(1, 6))
        keys = [f.replace("_", rng.choice(["-", "_"])) for f in fields]
        body = "".join(f"{k} = {toml_value(rng, f, bad)}\n" for k, f in zip(keys, fields))
        if rng.random() < bad / 5:
            body += rng.choice(["unknown-key = 1\n", "= broken\n", "patients = 1\npatients = 2\n"])
        if "patients" not in fields:
            body = f"patients = {rng.randint(20, 300)}\n" + body
        config.write_text(body, encoding="utf-8")
        argv += ["--config", str(config)]
    for flag, values in (
        ("--single-hospital", None),
        ("--date-format", ["iso", "slash", "dmy"]),
        ("--format", ["csv", "parquet", "both"]),
        ("--export-prefix", ["v12", "p" * 300, "a/b", ".", "=x", "\x01", "日本"]),
        ("--workers", ["1", "0", "-2", "x"]),
        ("--dask", ["notanaddress", "tcp://", "tcp://host", "::"]),
        ("--no-validate", None),
        ("--no-continuity", None),
        ("--census", None),
        ("--event-log", None),
        ("--overwrite", None),
    ):
        if rng.random() < 0.12:
            if values is None:
                argv.append(flag)
                continue
            good = values[:1] if flag in ("--export-prefix", "--workers") else values
            if flag != "--dask" or bad:  # every --dask value here is a bad one
                argv += [flag, rng.choice(values if bad else good)]
    outdir = tmp / "out"
    hostile_outdir = rng.random() if bad else 1.0
    if hostile_outdir < 0.05:
        (tmp / "dangling").symlink_to(tmp / "nowhere")
        outdir = tmp / "dangling"
    elif hostile_outdir < 0.08:
        (tmp / "loop").symlink_to(tmp / "loop")
        outdir = tmp / "loop"
    elif hostile_outdir < 0.11:
        (tmp / "a_file").write_text("x")
        outdir = tmp / "a_file"
    elif hostile_outdir < 0.3:
        outdir.mkdir()
        (outdir / "patients.csv").write_text(OLD_DATASET)
    argv += ["--outdir", str(outdir)]
    if rng.random() < 0.1:
        argv = ["compare", *compare_argv(rng, tmp)]
    return argv


def compare_argv(rng: random.Random, tmp: Path) -> list[str]:
    names = rng.sample(["base", "=HYPERLINK(1)", "@SUM(1)", "+x", "strained", "a b"], 2)
    argv = ["--patients", str(rng.randint(20, 80)), "--today", "2025-06-30"]
    for name in names:
        (tmp / f"{name}.toml").write_text(f"room-scale = {rng.choice([0.2, 1.0, 3.0])}\n")
        argv += ["--scenario", str(tmp / f"{name}.toml")]
    if rng.random() < 0.2:
        argv += ["--scenario", str(rng.choice([tmp, tmp / "absent.toml", Path("/dev/zero")]))]
    output = rng.choice([tmp / "cmp.csv", tmp, tmp / "no" / "cmp.csv", tmp / "cmp.csv"])
    return [*argv, "--output", str(output)]


def run_case(argv: list[str], tmp: Path, timeout: float) -> str | None:
    """Run one command line; the reason it failed, or None."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm) if timeout else None
    if timeout:
        signal.alarm(int(timeout))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
        LAST_STATUS[0] = status
    except Timeout:
        LAST_STATUS[0] = "timeout"
        return f"took more than {timeout:.0f} s"
    except BaseException as error:
        LAST_STATUS[0] = "exception"
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        return f"exception escaped main: {last}"
    finally:
        if timeout:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    lines = err.getvalue().strip().splitlines()
    old = tmp / "out" / "patients.csv"
    if "Traceback" in err.getvalue():
        return f"exit {status} with a traceback: {lines[-1] if lines else ''}"
    if status == 2:
        if len(lines) != 1 or ": error: " not in lines[0]:
            return f"exit 2 with {len(lines)} lines on stderr: {lines[:2]}"
        if old.exists() and "--outdir" in argv and old.read_text() != OLD_DATASET:
            return "exit 2 but the older dataset was changed"
        return None
    if status != 0:
        return f"exit {status}: {lines[-1][:300] if lines else '(no message)'}"
    if lines:
        return f"exit 0 with stderr: {lines[0][:200]}"
    return None


def _alarm(signum, frame):
    raise Timeout


def fuzz(seed: int, runs: int, timeout: float = 300, only: int | None = None, verbose=False):
    """Run ``runs`` cases of ``seed``; returns (outcomes Counter, failures list)."""
    outcomes: Counter = Counter()
    failures = []
    cases = [only] if only is not None else range(runs)
    for number in cases:
        rng = random.Random(f"{seed}:{number}")
        with tempfile.TemporaryDirectory(prefix="fuzz.") as folder:
            tmp = Path(folder)
            argv = draw_case(rng, tmp)
            started = time.perf_counter()
            reason = run_case(argv, tmp, timeout)
            seconds = time.perf_counter() - started
        outcomes["failed" if reason else "passed"] += 1
        outcomes[f"exit {LAST_STATUS[0]}"] += 1
        if reason:
            failures.append((number, reason, argv))
            print(f"FAIL seed {seed} case {number}: {reason} | argv: {argv}", flush=True)
        elif verbose:
            print(f"ok   seed {seed} case {number} ({seconds:.1f} s)", flush=True)
    return outcomes, failures


def main_fuzz(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fuzz_cli.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--only", type=int, help="replay this one case of the seed")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run (0: none)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    started = time.perf_counter()
    outcomes, failures = fuzz(args.seed, args.runs, args.timeout, args.only, args.verbose)
    print(
        f"seed {args.seed}: {outcomes['passed'] + outcomes['failed']} runs, "
        f"{outcomes['passed']} passed, "
        f"{outcomes['failed']} failed in {time.perf_counter() - started:.0f} s; "
        + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()) if k.startswith("exit"))
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main_fuzz())
