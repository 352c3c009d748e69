"""Scenario files: TOML whose keys are the command line's flag names (``insured-rate`` or
``insured_rate``), for example::

    patients = 5000
    today = 2025-06-30
    doctor-departure-rate = 0.2
    room-scale = 0.5

The command line's ``--config`` and ``compare --scenario`` read them here. This module only
reads the file and maps its keys to Scenario fields: the values are checked by ``Scenario``
(its field rules), like the flags' and the Python API's, and an error names the key as the
file spells it, after the file's path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs

from sim.scenario import Scenario, ScenarioError, flag_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_SCENARIO_BYTES = 1_000_000  # a scenario file is a few lines
FIELDS = frozenset(field.name for field in attrs.fields(Scenario))


@attrs.frozen
class ScenarioFile:
    """A scenario file's values by Scenario field name, and each field's key as written."""

    path: Path
    values: dict[str, Any]
    keys: dict[str, str]


def read_scenario_file(path: Path, flag: str = "--scenario") -> ScenarioFile:
    """The settings of a scenario file (given with ``flag``), not checked yet."""
    path = Path(path)
    try:
        if path.is_dir():
            raise IsADirectoryError
        if path.exists() and not path.is_file():  # /dev/zero, a FIFO: never ends
            raise ScenarioError(f"{flag} {path}: not a regular file")
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"{flag} {path}: too large for a scenario file")
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except ScenarioError:
        raise
    except FileNotFoundError:
        raise ScenarioError(f"{flag} {path}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{flag} {path} is a folder, not a file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(f"{flag} {path}: not valid TOML ({message})") from None
    except (OSError, ValueError) as error:  # permissions, a NUL in the path, ...
        reason = getattr(error, "strerror", None) or str(error)
        raise ScenarioError(f"{flag} {path}: cannot be read ({reason})") from None
    values, keys = {}, {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            raise ScenarioError(f"{flag} {path}: unknown setting {key!r}")
        if name in keys:
            raise ScenarioError(f"{flag} {path}: {keys[name]!r} and {key!r} are the same setting")
        values[name], keys[name] = value, key
    return ScenarioFile(Path(path), values, keys)


def load_scenario(path: Path, flag: str = "--scenario", **overrides: Any) -> Scenario:
    """A Scenario from a file (given with ``flag``), with some values overridden (None means
    not overridden): the command line's flags, or compare's shared seed.

    An error names a setting from the file by its key (``--config s.toml: insured-rate must
    be between 0 and 1, got 1.5``) and an override by its flag (``--insured-rate ...``).
    """
    file = read_scenario_file(path, flag)
    given = {name: value for name, value in overrides.items() if value is not None}
    from_file = set(file.keys) - set(given)

    def naming(field: str) -> str:
        return file.keys[field] if field in from_file else flag_name(field)

    try:
        return Scenario(**(file.values | given))
    except ScenarioError as error:
        named = error.named(naming)
        if from_file & set(error.fields):
            raise ScenarioError(f"{flag} {path}: {named}") from None
        raise named from None
