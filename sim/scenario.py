"""The Scenario: every tunable figure of a run in one frozen, validated object.

Defaults come from ``sim/data/defaults.toml``; the command line and scenario files override
them by name. A Scenario is immutable: ``scenario.evolve(insured_rate=0.5)`` makes a new one.

Every field carries a ``Rule`` (its type and range). The rules are the only place where
values are checked: the command line only turns text into numbers and dates, scenario files
only read TOML, and both hand the values to ``Scenario``. A ``ScenarioError`` names the
setting by its field name; ``error.named(...)`` renames it the way the user gave it (the
flag ``--insured-rate``, the key ``insured-rate`` of a file).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import os
from collections.abc import Callable
from typing import Any

import attrs

from sim.refdata import load_catalog, load_demography, read_toml


class ScenarioError(ValueError):
    """A scenario value is out of range or inconsistent; the message is one line for the user.

    ``message`` may name settings as ``{0}``, ``{1}``, ... for the ``fields`` given after it;
    they are shown as ``naming(field)`` (the field name unless renamed with ``named``).
    """

    def __init__(self, message: str, *fields: str, naming: Callable[[str], str] = str) -> None:
        self.template, self.fields = message, fields
        for number, field in enumerate(fields):
            message = message.replace(f"{{{number}}}", naming(field))
        super().__init__(message)

    def named(self, naming: Callable[[str], str]) -> ScenarioError:
        """The same error with its settings named by ``naming(field)``."""
        if not self.fields:
            return self
        return ScenarioError(self.template, *self.fields, naming=naming)


def flag_name(field: str) -> str:
    """The command-line flag of a Scenario field: ``insured_rate`` -> ``--insured-rate``."""
    return "--" + field.replace("_", "-")


def _flatten_defaults() -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section in read_toml("defaults.toml").values():
        flat.update(section)
    return flat


DEFAULTS = _flatten_defaults()


def _default(name: str) -> Any:
    value = DEFAULTS[name]
    return tuple(value) if isinstance(value, list) else value


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD (or YYYY/MM/DD); ValueError otherwise."""
    for layout in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text.strip(), layout).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)")


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _shown(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


# Kinds of value a Rule accepts, and how a wrong type is described.
KIND_NAMES = {
    "whole": "a whole number",
    "number": "a finite number",
    "text": "text",
    "flag": "true or false",
    "date": "a date (YYYY-MM-DD)",
    "range": "a range [low, high] with 0 <= low <= high",
    "weights": "a list of finite non-negative weights, not all zero (their sum finite too)",
    "path": "a file path",
}


@attrs.frozen
class Rule:
    """What one setting accepts: a kind (``KIND_NAMES``) and bounds. ``check`` returns the
    value in its canonical type (int, float, tuple, ...) or raises ScenarioError."""

    kind: str
    low: float | None = None  # at least
    above: float | None = None  # strictly more than
    high: float | None = None  # at most (for a range: its upper end)
    choices: tuple[str, ...] = ()
    length: int | None = None  # weights: how many
    meaning: str = ""  # weights: what each one weighs, for the message
    optional: bool = False  # None is allowed (and means "not set")
    normalize: Callable[[str, Any], Any] | None = None  # field, value -> canonical value

    def check(self, field: str, value: Any) -> Any:
        if value is None and self.optional:
            return None
        value = self._typed(field, value)
        if self.kind in ("whole", "number"):
            self._bounds(field, value)
        elif self.kind == "range":
            if value[0] < 0 or value[0] > value[1]:
                raise self._wrong(field, value)
            if self.high is not None and value[1] > self.high:
                raise ScenarioError(f"{{0}} must lie within [0, {_shown(self.high)}]", field)
        elif self.kind == "weights" and self.length is not None and len(value) != self.length:
            raise ScenarioError(
                f"{{0}} must be {self.length} weights ({self.meaning}), got {list(value)}", field
            )
        if self.choices and value not in self.choices:
            raise ScenarioError(
                f"{{0}} must be one of {', '.join(self.choices)}, got {value!r}", field
            )
        return self.normalize(field, value) if self.normalize else value

    def _wrong(self, field: str, value: Any) -> ScenarioError:
        shown = list(value) if isinstance(value, tuple) else value
        return ScenarioError(f"{{0}} must be {KIND_NAMES[self.kind]}, got {shown!r}", field)

    def _typed(self, field: str, value: Any) -> Any:
        """The value as this kind's type, or the error saying what was expected."""
        kind = self.kind
        if kind == "whole" and _number(value):
            if isinstance(value, numbers.Integral):
                return int(value)
            if math.isfinite(value) and float(value).is_integer():  # 1e6 in a file
                return int(value)
        elif kind == "number" and _number(value) and math.isfinite(value):
            return float(value)
        elif kind == "text" and isinstance(value, str):
            return value
        elif kind == "path" and isinstance(value, (str, os.PathLike)):
            path = os.fspath(value)
            if isinstance(path, str) and path.strip() and "\0" not in path:
                return path
        elif kind == "flag" and isinstance(value, bool):
            return value
        elif kind == "date" and isinstance(value, str):
            try:
                return parse_date(value)
            except ValueError:
                pass
        elif kind == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        elif (
            kind in ("range", "weights")
            and isinstance(value, (list, tuple))
            and all(_number(v) and math.isfinite(v) for v in value)
        ):
            if kind == "weights" and (
                any(v < 0 for v in value)
                or not 0 < sum(value) < math.inf  # 1e308 three times overflows to inf
            ):
                raise self._wrong(field, value)
            if kind == "range" and len(value) != 2:
                raise self._wrong(field, value)
            return tuple(value)
        raise self._wrong(field, value)

    def _bounds(self, field: str, value: float) -> None:
        low, above, high = self.low, self.above, self.high
        if low is not None and high is not None and not low <= value <= high:
            raise ScenarioError(
                f"{{0}} must be between {_shown(low)} and {_shown(high)}, got {value}", field
            )
        if low is not None and value < low:
            raise ScenarioError(f"{{0}} must be at least {_shown(low)}, got {value}", field)
        if above is not None and value <= above:
            raise ScenarioError(f"{{0}} must be above {_shown(above)}, got {value}", field)
        if high is not None and value > high:
            raise ScenarioError(f"{{0}} must be at most {_shown(high)}, got {value}", field)


def _state_code(field: str, value: str) -> str:
    code = value.strip().upper()
    states = load_demography().states
    by_name = dict(zip(states["state_name"].str.upper(), states["state"]))
    code = by_name.get(code, code)
    if code not in set(states["state"]):
        raise ScenarioError(f"{{0}} {value!r} is not one of the 50 states or DC", field)
    return code


MAX_NAME_LENGTH = 200


def _name(field: str, value: str) -> str:
    """A name (of a hospital): printable text, not blank, with its outer spaces removed."""
    text = value.strip()
    if not text:
        raise ScenarioError("{0} must not be blank", field)
    if not text.isprintable():
        raise ScenarioError(f"{{0}} {value!r} contains control characters", field)
    if len(text) > MAX_NAME_LENGTH:
        raise ScenarioError(f"{{0}} is longer than {MAX_NAME_LENGTH} characters", field)
    return text


def _specialty(field: str, value: str) -> str:
    known = load_catalog().specialties
    if value not in known:
        raise ScenarioError(
            f"{{0}} {value!r} is not a specialty of the catalog; known: {', '.join(known)}",
            field,
        )
    return value


def _zipcode(field: str, value: str) -> str:
    text = value.strip().split("-", 1)[0]  # ZIP+4 is cut to five digits
    if not (text.isascii() and text.isdigit()) or len(text) > 5:  # 0-9 only, not ١٢
        raise ScenarioError(f"{{0}} {value!r} is not a 5-digit ZIP code", field)
    return text.zfill(5)


# A part of a split state draws policy numbers from a block of 100,000; parts can come out
# somewhat larger than asked (ZIP granularity, at most 100 parts), hence half of that.
REGION_PATIENTS_CEILING = 50_000
SINGLE_HOSPITAL_CEILING = 10_000_000  # one region: its policy numbers have seven digits
PATIENTS_CEILING = 50_000_000
BURN_IN_CEILING = 3_660  # ten years: longer adds nothing but time

COUNT = Rule("whole", low=1)
WHOLE = Rule("whole", low=0)
RATE = Rule("number", low=0.0, high=1.0)
POSITIVE = Rule("number", above=0.0)
NON_NEGATIVE = Rule("number", low=0.0)
RANGE = Rule("range")
RATE_RANGE = Rule("range", high=1.0)
WEIGHTS = Rule("weights")
TREATMENT_WEIGHTS = Rule("weights", length=3, meaning="primary, secondary, Monitoring")
DISPOSITIONS = Rule(
    "weights",
    length=5,
    meaning="Home, Home health, Skilled nursing facility, Transferred, Left against advice",
)
FACTOR = Rule("number", above=0.0, high=100.0)
TEXT = Rule("text")


def _field(name: str | None, rule: Rule):
    """A field whose default is ``name`` in defaults.toml; without a name, an optional field
    that is None unless given."""
    if name is None:
        return attrs.field(default=None, metadata={"rule": attrs.evolve(rule, optional=True)})
    return attrs.field(default=_default(name), metadata={"rule": rule})


@attrs.frozen(kw_only=True)
class Scenario:
    """All inputs of a simulation run. Field names match the CLI flags (``--insured-rate``);
    each field's ``Rule`` (in its metadata, see ``RULES``) says what it accepts."""

    # run
    patients: int = _field("patients", Rule("whole", low=1, high=PATIENTS_CEILING))
    seed: int = _field("seed", WHOLE)
    today: dt.date = attrs.field(factory=dt.date.today, metadata={"rule": Rule("date")})
    start: dt.date | None = attrs.field(
        default=None, metadata={"rule": Rule("date", optional=True)}
    )
    burn_in_days: int = _field("burn_in_days", Rule("whole", low=0, high=BURN_IN_CEILING))
    date_format: str = _field("date_format", Rule("text", choices=("slash", "iso")))
    max_region_patients: int = _field(
        "max_region_patients", Rule("whole", low=1, high=REGION_PATIENTS_CEILING)
    )
    # geography
    zip_pool_file: str | None = _field(None, Rule("path"))
    zip_target: int | None = _field(None, COUNT)
    single_hospital: bool = attrs.field(default=False, metadata={"rule": Rule("flag")})
    hospital_name: str | None = _field(None, Rule("text", normalize=_name))
    hospital_state: str | None = _field(None, Rule("text", normalize=_state_code))
    hospital_zipcode: str | None = _field(None, Rule("text", normalize=_zipcode))
    local_share: float = _field("local_share", RATE)
    local_top_n: int = _field("local_top_n", COUNT)
    local_decay: float = _field("local_decay", POSITIVE)
    outstate_neighbor_share: float = _field("outstate_neighbor_share", RATE)
    # population
    insured_rate: float | None = _field(None, RATE)  # None: the national figure (NHIS)
    # hospitals
    patients_per_hospital: int = _field("patients_per_hospital", COUNT)
    same_day_bias_sd: float = _field("same_day_bias_sd", NON_NEGATIVE)
    same_day_bias_clip: float = _field("same_day_bias_clip", RATE)
    late_payment_sigma: float = _field("late_payment_sigma", NON_NEGATIVE)
    late_payment_clip: tuple = _field("late_payment_clip", RANGE)
    charge_multiplier_range: tuple = _field("charge_multiplier_range", RANGE)
    room_scale: float = _field("room_scale", Rule("number", above=0.0, high=100.0))
    # the largest US hospitals have about 2,500 beds; a hospital serves its beds' people, and
    # its doctors follow (a bigger one would be a region of its own)
    rooms_per_hospital: int | None = _field(None, Rule("whole", low=1, high=5_000))
    # staffing
    generalist_specialty: str = _field("generalist_specialty", Rule("text", normalize=_specialty))
    doctor_absence_rate: float = _field("doctor_absence_rate", NON_NEGATIVE)
    doctor_absence_days: tuple = _field("doctor_absence_days", RANGE)
    doctor_departure_rate: float = _field("doctor_departure_rate", NON_NEGATIVE)
    replacement_delay_days: tuple = _field("replacement_delay_days", RANGE)
    # doctors
    affiliation_weights: tuple = _field(
        "affiliation_weights", Rule("weights", length=3, meaning="at 1, 2, 3 hospitals")
    )
    doctor_style_sd: float = _field("doctor_style_sd", NON_NEGATIVE)
    doctor_style_clip: float = _field("doctor_style_clip", RATE)
    prescribing_bias_sd: float = _field("prescribing_bias_sd", NON_NEGATIVE)
    prescribing_bias_clip: float = _field("prescribing_bias_clip", RATE)
    # clinical
    minor_same_day_rate: float = _field("minor_same_day_rate", RATE)
    other_same_day_rate: float = _field("other_same_day_rate", RATE)
    older_severity_factor: float = _field("older_severity_factor", FACTOR)
    comorbidity_severity_factor: float = _field("comorbidity_severity_factor", FACTOR)
    los_severity_factor: tuple = _field(
        "los_severity_factor",
        Rule("weights", length=4, meaning="Normal, Mild, Moderate, Severe"),
    )
    mortality_severity_factor: tuple = _field(
        "mortality_severity_factor",
        Rule("weights", length=4, meaning="Normal, Mild, Moderate, Severe"),
    )
    disposition_weights_under_65: tuple = _field("disposition_weights_under_65", DISPOSITIONS)
    disposition_weights_65_plus: tuple = _field("disposition_weights_65_plus", DISPOSITIONS)
    first_visit_treatment_weights: tuple = _field(
        "first_visit_treatment_weights", TREATMENT_WEIGHTS
    )
    followup_treatment_weights: tuple = _field("followup_treatment_weights", TREATMENT_WEIGHTS)
    clinic_review_share: float = _field("clinic_review_share", RATE)
    min_days_between_same_condition_episodes: int = _field(
        "min_days_between_same_condition_episodes", WHOLE
    )
    # continuity
    continuity_preference: float = _field("continuity_preference", RATE)
    continuity_min_visits: int = _field("continuity_min_visits", COUNT)
    hospital_choice_weights: tuple = _field("hospital_choice_weights", WEIGHTS)
    # billing
    bill_delay_days: tuple = _field("bill_delay_days", RANGE)
    minimum_charge: int = _field("minimum_charge", WHOLE)
    followup_bump_probability: float = _field("followup_bump_probability", RATE)
    followup_bump: tuple = _field("followup_bump", RANGE)
    full_plan_days: int = _field("full_plan_days", COUNT)
    incremental_plan_days: int = _field("incremental_plan_days", COUNT)
    on_time_days_early: tuple = _field("on_time_days_early", RANGE)
    late_days: tuple = _field("late_days", RANGE)

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):  # each value: its type and range
            value = getattr(self, field.name)
            checked = field.metadata["rule"].check(field.name, value)
            if checked is not value:
                object.__setattr__(self, field.name, checked)
        if not EARLIEST_DATE <= self.today <= LATEST_DATE:
            raise ScenarioError(
                f"{{0}} must lie between {EARLIEST_DATE} and {LATEST_DATE}", "today"
            )
        if self.start is None:
            object.__setattr__(self, "start", _years_before(self.today, _default("history_years")))
        if self.start > self.today:
            raise ScenarioError(
                f"{{0}} ({self.start}) is after {{1}} ({self.today})", "start", "today"
            )
        if not EARLIEST_DATE <= self.clock_start <= self.start <= self.today <= LATEST_DATE:
            raise ScenarioError(
                f"{{0}} (less {{1}}) and {{2}} must lie between {EARLIEST_DATE} and {LATEST_DATE}",
                "start",
                "burn_in_days",
                "today",
            )
        if (self.today - self.start).days > 366 * 30:
            raise ScenarioError(
                "the window from {0} to {1} is longer than 30 years", "start", "today"
            )
        if self.anchored and self.patients > SINGLE_HOSPITAL_CEILING:
            raise ScenarioError(
                f"{{0}} {self.patients} is more than {SINGLE_HOSPITAL_CEILING:,}, the most "
                "one hospital (one region) can have",
                "patients",
            )

    @property
    def anchored(self) -> bool:
        """Single-hospital mode: asked for, or implied by a hospital name, state or ZIP."""
        return (
            self.single_hospital
            or self.hospital_name is not None
            or self.hospital_state is not None
            or self.hospital_zipcode is not None
        )

    @property
    def clock_start(self) -> dt.date:
        """The date of simulation day 0: ``start`` less the burn-in (simulated, not written)."""
        return self.start - dt.timedelta(days=self.burn_in_days)

    @property
    def first_day(self) -> int:
        """Simulation day of ``start``, the first day written (the burn-in's length)."""
        return self.burn_in_days

    @property
    def horizon(self) -> int:
        """Simulation day of ``today``: the clock runs from day 0 (``clock_start``) to this
        day; the tables hold days ``first_day..horizon``."""
        return (self.today - self.clock_start).days

    def evolve(self, **changes: Any) -> Scenario:
        """A copy with some values changed (validated again)."""
        return attrs.evolve(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly values, for the run section of the summary."""
        values = attrs.asdict(self)
        for key, value in values.items():
            if isinstance(value, dt.date):
                values[key] = value.isoformat()
            elif isinstance(value, tuple):
                values[key] = list(value)
        return values


# Dates outside this range cannot be written as YYYY/MM/DD for everyone born 90 years
# before --start or for payments due a year after --today.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2200, 12, 31)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


RULES: dict[str, Rule] = {field.name: field.metadata["rule"] for field in attrs.fields(Scenario)}
