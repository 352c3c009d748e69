"""Scenario files: TOML whose keys are the command line's flag names (``insured-rate`` or
``insured_rate``), for example::

    patients = 5000
    today = 2025-06-30
    doctor-departure-rate = 0.2
    room-scale = 0.5

The command line's ``--config`` and ``compare --scenario`` read them here, and the values go
through the same ``Scenario`` checks as the flags and the Python API.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import attrs

from sim.scenario import Scenario, ScenarioError

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
