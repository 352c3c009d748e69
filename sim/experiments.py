"""Experiments: scenario files, and several scenarios run side by side.

A scenario file is TOML whose keys are the command line's flag names (``insured-rate`` or
``insured_rate``), for example::

    patients = 5000
    today = 2025-06-30
    doctor-departure-rate = 0.2
    room-scale = 0.5

Scenarios compared share their seed, so every random stream starts alike (common random
numbers): differences come from the knobs, not from luck.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from pathlib import Path

import attrs
import pandas as pd

from reporting.summary import build_summary
from sim.scenario import Scenario, ScenarioError
from sim.simulation import Simulation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIELDS = {field.name: str(field.type) for field in attrs.fields(Scenario)}


def scenario_values(path: Path) -> dict:
    """The values of a scenario file, keyed by Scenario field name."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"--scenario {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"--scenario {path}: not valid TOML ({error})") from None
    values = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            raise ScenarioError(f"--scenario {path}: unknown setting {key!r}")
        if name in ("today", "start") and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.replace("/", "-"))
            except ValueError:
                raise ScenarioError(f"--scenario {path}: {key} {value!r} is not a date") from None
        problem = _type_problem(FIELDS[name], value)
        if problem:
            raise ScenarioError(f"--scenario {path}: {key} {problem}, got {value!r}")
        values[name] = value
    return values


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_problem(kind: str, value) -> str | None:
    """What is wrong with a scenario file's value for a field of type ``kind`` (or None)."""
    base = kind.replace(" | None", "")
    if base == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        return "must be a whole number"
    if base == "float" and not _number(value):
        return "must be a number"
    if base == "str" and not isinstance(value, str):
        return "must be text"
    if base == "bool" and not isinstance(value, bool):
        return "must be true or false"
    if base == "dt.date" and not isinstance(value, dt.date):
        return "must be a date (YYYY-MM-DD)"
    if base == "tuple" and not (isinstance(value, list) and all(_number(v) for v in value)):
        return "must be a list of numbers"
    return None


def load_scenario(path: Path, **overrides) -> Scenario:
    """A Scenario from a file, with some values overridden (e.g. the seed)."""
    values = scenario_values(path) | {k: v for k, v in overrides.items() if v is not None}
    try:
        return Scenario(**values)
    except (TypeError, ValueError) as error:  # ScenarioError included
        raise ScenarioError(f"--scenario {path}: {error}") from None


def measure(scenario: Scenario) -> dict[str, float | int | None]:
    """Run one scenario and pick the figures a continuity study compares."""
    simulation = Simulation(scenario).run()
    tables = simulation.tables()
    summary = build_summary(simulation, tables)
    continuity = summary["continuity"]
    levels = continuity["levels"]
    events = summary["simulation"]["events"]
    figures: dict[str, float | int | None] = {
        "patients": len(tables.patients),
        "visits": len(tables.visits),
        "rule violations": summary["violations"],
    }
    for level in ("doctor", "hospital", "doctor_hospital"):
        for index in ("coc", "upc", "secon"):
            figures[f"{level} {index} (mean)"] = levels[level][index]["mean"]
    figures["patients measured"] = levels["doctor"]["patients_measured"]
    for key, value in continuity["followups"].items():
        label = "follow-ups" if key == "followups" else f"follow-ups: {key}".replace("_", " ")
        figures[label] = value
    for reason, count in continuity["provider_switches"].items():
        figures[f"switches: {reason}".replace("_", " ")] = count
    figures["diversions"] = continuity["diversions"]
    figures["doctor absences"] = events.get("DoctorAbsent", 0)
    figures["doctor departures"] = events.get("DoctorLeft", 0)
    figures["rooms"] = summary["simulation"]["rooms"]
    return figures


def compare(scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """Run scenarios that share a seed; one column of figures per scenario."""
    seeds = {scenario.seed for scenario in scenarios.values()}
    if len(seeds) > 1:
        raise ScenarioError(
            f"scenarios compared must share a seed (common random numbers); got {sorted(seeds)}"
        )
    columns = {name: measure(scenario) for name, scenario in scenarios.items()}
    frame = pd.DataFrame(columns)
    frame.index.name = "figure"
    return frame
