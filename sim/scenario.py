"""The Scenario: every tunable figure of a run in one frozen, validated object.

Defaults come from ``sim/data/defaults.toml``; the command line and scenario files override
them by name. A Scenario is immutable: ``scenario.evolve(insured_rate=0.5)`` makes a new one.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import attrs

from sim.refdata import load_demography, read_toml


class ScenarioError(ValueError):
    """A scenario value is out of range or inconsistent; the message is one line for the user."""


def _flatten_defaults() -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section in read_toml("defaults.toml").values():
        flat.update(section)
    return flat


DEFAULTS = _flatten_defaults()


def _default(name: str) -> Any:
    value = DEFAULTS[name]
    return tuple(value) if isinstance(value, list) else value


def _rate(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ScenarioError(f"{_flag(attribute.name)} must be between 0 and 1, got {value}")


def _positive(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ScenarioError(f"{_flag(attribute.name)} must be a finite number above 0, got {value}")


def _non_negative(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ScenarioError(
            f"{_flag(attribute.name)} must be a finite number, 0 or more, got {value}"
        )


def _ordered_pair(instance: Any, attribute: attrs.Attribute, value: tuple) -> None:
    if len(value) != 2 or not all(map(math.isfinite, value)) or value[0] > value[1] or value[0] < 0:
        raise ScenarioError(
            f"{_flag(attribute.name)} must be a range [low, high] with 0 <= low <= high"
        )


def _rate_pair(instance: Any, attribute: attrs.Attribute, value: tuple) -> None:
    _ordered_pair(instance, attribute, value)
    if value[1] > 1:
        raise ScenarioError(f"{_flag(attribute.name)} must lie within [0, 1]")


def _shares(instance: Any, attribute: attrs.Attribute, value: tuple) -> None:
    if not all(map(math.isfinite, value)) or any(v < 0 for v in value) or sum(value) <= 0:
        raise ScenarioError(f"{_flag(attribute.name)} must be non-negative weights, not all zero")


def _state_code(value: str | None) -> str | None:
    if value is None:
        return None
    code = str(value).strip().upper()
    states = load_demography().states
    by_name = dict(zip(states["state_name"].str.upper(), states["state"]))
    code = by_name.get(code, code)
    if code not in set(states["state"]):
        raise ScenarioError(f"--hospital-state {value!r} is not one of the 50 states or DC")
    return code


def _zipcode(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip().split("-", 1)[0]  # ZIP+4 is cut to five digits
    if not text.isdigit() or len(text) > 5:
        raise ScenarioError(f"--hospital-zipcode {value!r} is not a 5-digit ZIP code")
    return text.zfill(5)


# A part of a split state draws policy numbers from a block of 100,000; parts can come out
# somewhat larger than asked (ZIP granularity, at most 100 parts), hence half of that.
REGION_PATIENTS_CEILING = 50_000
SINGLE_HOSPITAL_CEILING = 10_000_000  # one region: its policy numbers have seven digits


def _at_most(check, ceiling: float):
    """A validator: ``check``, and no more than ``ceiling``."""

    def validate(instance: Any, attribute: attrs.Attribute, value: float) -> None:
        check(instance, attribute, value)
        if value > ceiling:
            raise ScenarioError(f"{_flag(attribute.name)} must be at most {ceiling:g}, got {value}")

    return validate


def _one_of(*choices: str):
    def validate(instance: Any, attribute: attrs.Attribute, value: str) -> None:
        if value not in choices:
            raise ScenarioError(
                f"{_flag(attribute.name)} must be one of {', '.join(choices)}, got {value!r}"
            )

    return validate


def _three_shares(instance: Any, attribute: attrs.Attribute, value: tuple) -> None:
    """Weights of primary treatment, secondary treatment and Monitoring."""
    if len(value) != 3:
        raise ScenarioError(
            f"{_flag(attribute.name)} must be three weights (primary, secondary, Monitoring)"
        )
    _shares(instance, attribute, value)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _field(name: str, validator=None, converter=None):
    return attrs.field(default=_default(name), validator=validator, converter=converter)


def _pair(name: str, validator=_ordered_pair):
    return attrs.field(default=_default(name), validator=validator, converter=tuple)


@attrs.frozen(kw_only=True)
class Scenario:
    """All inputs of a simulation run. Field names match the CLI flags (``--insured-rate``)."""

    # run
    patients: int = _field("patients", _positive, int)
    seed: int = _field("seed", _non_negative, int)
    today: dt.date = attrs.field(factory=dt.date.today)
    start: dt.date | None = None
    date_format: str = attrs.field(
        default=_default("date_format"), validator=_one_of("slash", "iso")
    )
    max_region_patients: int = _field(
        "max_region_patients", _at_most(_positive, REGION_PATIENTS_CEILING), int
    )
    # geography
    zip_pool_file: str | None = None
    zip_target: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_positive)
    )
    single_hospital: bool = False
    hospital_name: str | None = None
    hospital_state: str | None = attrs.field(default=None, converter=_state_code)
    hospital_zipcode: str | None = attrs.field(default=None, converter=_zipcode)
    local_share: float = _field("local_share", _rate, float)
    local_top_n: int = _field("local_top_n", _positive, int)
    local_decay: float = _field("local_decay", _positive, float)
    outstate_neighbor_share: float = _field("outstate_neighbor_share", _rate, float)
    # population
    insured_rate: float = _field("insured_rate", _rate, float)
    insurer_pool_size: int = _field("insurer_pool_size", _positive, int)
    insurer_zipf_exponent: float = _field("insurer_zipf_exponent", _non_negative, float)
    conditions_per_patient: tuple = _pair("conditions_per_patient", _shares)
    # hospitals
    patients_per_hospital: int = _field("patients_per_hospital", _positive, int)
    doctors_per_hospital: int = _field("doctors_per_hospital", _positive, int)
    same_day_bias_sd: float = _field("same_day_bias_sd", _non_negative, float)
    same_day_bias_clip: float = _field("same_day_bias_clip", _rate, float)
    late_payment_sigma: float = _field("late_payment_sigma", _non_negative, float)
    late_payment_clip: tuple = _pair("late_payment_clip")
    charge_multiplier_range: tuple = _pair("charge_multiplier_range")
    room_headroom: float = _field("room_headroom", _positive, float)
    min_rooms: int = _field("min_rooms", _positive, int)
    room_scale: float = _field("room_scale", _at_most(_positive, 100.0), float)
    rooms_per_hospital: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_at_most(_positive, 100_000))
    )
    # staffing
    generalist_specialty: str = _field("generalist_specialty")
    doctor_absence_rate: float = _field("doctor_absence_rate", _non_negative, float)
    doctor_absence_days: tuple = _pair("doctor_absence_days")
    doctor_departure_rate: float = _field("doctor_departure_rate", _non_negative, float)
    replacement_delay_days: tuple = _pair("replacement_delay_days")
    # doctors
    affiliation_weights: tuple = _pair("affiliation_weights", _shares)
    doctor_style_sd: float = _field("doctor_style_sd", _non_negative, float)
    doctor_style_clip: float = _field("doctor_style_clip", _rate, float)
    prescribing_bias_sd: float = _field("prescribing_bias_sd", _non_negative, float)
    prescribing_bias_clip: float = _field("prescribing_bias_clip", _rate, float)
    # clinical
    minor_same_day_rate: float = _field("minor_same_day_rate", _rate, float)
    other_same_day_rate: float = _field("other_same_day_rate", _rate, float)
    max_same_day_rate: float = _field("max_same_day_rate", _rate, float)
    followup_one_day_share: float = _field("followup_one_day_share", _rate, float)
    minor_first_visit_moderate_share: float = _field(
        "minor_first_visit_moderate_share", _rate, float
    )
    first_visit_treatment_weights: tuple = _pair("first_visit_treatment_weights", _three_shares)
    followup_treatment_weights: tuple = _pair("followup_treatment_weights", _three_shares)
    min_days_between_same_condition_episodes: int = _field(
        "min_days_between_same_condition_episodes", _non_negative, int
    )
    # continuity
    continuity_preference: float = _field("continuity_preference", _rate, float)
    continuity_min_visits: int = _field("continuity_min_visits", _positive, int)
    hospital_choice_weights: tuple = _pair("hospital_choice_weights", _shares)
    # billing
    bill_delay_days: tuple = _pair("bill_delay_days")
    minimum_charge: int = _field("minimum_charge", _non_negative, int)
    followup_bump_probability: float = _field("followup_bump_probability", _rate, float)
    followup_bump: tuple = _pair("followup_bump")
    insurance_low_share_probability: float = _field("insurance_low_share_probability", _rate, float)
    insurance_low_share: tuple = _pair("insurance_low_share", _rate_pair)
    insurance_high_share: tuple = _pair("insurance_high_share", _rate_pair)
    incremental_probability_high: float = _field("incremental_probability_high", _rate, float)
    incremental_probability_mid: float = _field("incremental_probability_mid", _rate, float)
    incremental_probability_low: float = _field("incremental_probability_low", _rate, float)
    incremental_charge_high: int = _field("incremental_charge_high", _non_negative, int)
    incremental_charge_mid: int = _field("incremental_charge_mid", _non_negative, int)
    uninsured_incremental_bonus: float = _field("uninsured_incremental_bonus", _rate, float)
    max_incremental_probability: float = _field("max_incremental_probability", _rate, float)
    full_plan_days: int = _field("full_plan_days", _positive, int)
    incremental_plan_days: int = _field("incremental_plan_days", _positive, int)
    on_time_probability_insured: float = _field("on_time_probability_insured", _rate, float)
    on_time_probability_uninsured: float = _field("on_time_probability_uninsured", _rate, float)
    on_time_days_early: tuple = _pair("on_time_days_early")
    late_days: tuple = _pair("late_days")
    unpaid_factor_insured: float = _field("unpaid_factor_insured", _non_negative, float)
    unpaid_factor_uninsured: float = _field("unpaid_factor_uninsured", _non_negative, float)
    unpaid_probability_clip: tuple = _pair("unpaid_probability_clip", _rate_pair)

    def __attrs_post_init__(self) -> None:
        if not EARLIEST_DATE <= self.today <= LATEST_DATE:
            raise ScenarioError(f"--today must lie between {EARLIEST_DATE} and {LATEST_DATE}")
        if self.start is None:
            object.__setattr__(self, "start", _years_before(self.today, _default("history_years")))
        if self.start > self.today:
            raise ScenarioError(f"--start ({self.start}) is after --today ({self.today})")
        if not EARLIEST_DATE <= self.start <= self.today <= LATEST_DATE:
            raise ScenarioError(
                f"--start and --today must lie between {EARLIEST_DATE} and {LATEST_DATE}"
            )
        if (self.today - self.start).days > 366 * 30:
            raise ScenarioError("the window from --start to --today is longer than 30 years")
        if self.patients > 50_000_000:
            raise ScenarioError(f"--patients {self.patients} is more than 50,000,000")
        if self.anchored and self.patients > SINGLE_HOSPITAL_CEILING:
            raise ScenarioError(
                f"--patients {self.patients} is more than {SINGLE_HOSPITAL_CEILING:,}, the most "
                "one hospital (one region) can have"
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
    def horizon(self) -> int:
        """Simulation day of ``today``: the clock runs from day 0 (``start``) to this day."""
        return (self.today - self.start).days

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
