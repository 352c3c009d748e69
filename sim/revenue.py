"""The revenue cycle of an encounter: what it is charged, who pays what, and how the patient pays.

- **Charges follow the care** (``money/units.csv``, ``charges.csv``, ``treatment_charges.csv``):
  a stay is its unit's room-and-board and ancillary charge per day (intensive care for part of
  a Severe stay), plus the treatment, plus the emergency department when admitted through it;
  an observation stay is charged per day; an ED visit by acuity; a clinic visit as a new or
  established visit plus the treatment. Then the hospital's charge-master factor and a
  log-normal tail (mean 1) within the condition.
- **Who pays what**: the payer's contract allows a share of the charge (Medicare and Medicaid
  below cost, private plans at a multiple of Medicare: ``money/figures.csv``); the rest is the
  contractual adjustment. The patient owes the design's cost sharing on the allowed amount
  (deductible, coinsurance, copays, the yearly out-of-pocket limit, Medicare's benefit period),
  tracked per patient and calendar year. A self-pay patient gets the uninsured discount and,
  when they apply and their income is low enough, charity care.
- **How the patient pays**: a payment plan is more likely the larger the balance; a balance is
  more often never paid when large, when the patient is poorer and when self-pay; those who pay
  pay late more often when poorer.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import attrs

from sim.coverage import (
    MEDICAID,
    MEDICAID_ADULT,
    MEDICAID_EXEMPT,
    MEDICARE,
    MEDICARE_ADVANTAGE,
    ORIGINAL_MEDICARE,
    ORIGINAL_MEDICARE_SUPPLEMENTED,
    PRIVATE,
    PRIVATE_DESIGNS,
    SELF_PAY,
    Coverage,
)
from sim.refdata import money_figures, read_csv
from sim.rng import normal_quantile

EMERGENCY, INPATIENT, OBSERVATION, OUTPATIENT = range(4)  # sim.events.ENCOUNTER_TYPES
SEVERE = 3


class Claim(NamedTuple):
    """How one bill's total charge splits: total = adjustment + charity + insurance +
    patient."""

    payer: int
    plan: int
    adjustment: int
    charity: int
    insurance: int
    patient: int


@attrs.frozen
class PriceList:
    """Charges by unit, setting and treatment (whole dollars before the hospital's factor)."""

    unit_day: dict[str, float]  # unit -> room and board + ancillary per day
    unit_of: dict[str, str]  # condition -> unit (medical-surgical unless listed)
    items: dict[str, float]
    inpatient: dict[str, float]  # treatment -> charge in a stay
    outpatient: dict[str, float]  # treatment -> charge in a clinic or ED visit


@functools.lru_cache(maxsize=1)
def load_price_list() -> PriceList:
    """The charges of ``sim/data/money``."""
    units = read_csv("money/units.csv")
    treatments = read_csv("money/treatment_charges.csv")
    items = read_csv("money/charges.csv")
    return PriceList(
        unit_day=dict(
            zip(units["unit"], units["room_and_board_per_day"] + units["ancillary_per_day"])
        ),
        unit_of=dict(read_csv("money/condition_units.csv").itertuples(index=False)),
        items=dict(zip(items["item"], items["charge"].astype(float))),
        inpatient=dict(zip(treatments["treatment"], treatments["inpatient"].astype(float))),
        outpatient=dict(zip(treatments["treatment"], treatments["outpatient"].astype(float))),
    )


ED_LEVELS = ("ed_visit_normal", "ed_visit_mild", "ed_visit_moderate", "ed_visit_severe")


class RevenueCycle:
    """Prices, adjudicates and settles one region's encounters (state: each patient's
    deductible and out-of-pocket spending per year, and Medicare benefit periods)."""

    def __init__(self, coverage: Coverage, year_of_day: list[int]) -> None:
        self.coverage = coverage
        self.year_of_day = year_of_day
        self.prices = load_price_list()
        f = self.figures = money_figures()
        self.tail_sigma = f["charge_tail_sigma"]
        medicare = f["cost_to_charge_ratio"] * f["medicare_payment_to_cost"]
        self.allowed_share = {
            MEDICARE: medicare,
            MEDICAID: f["cost_to_charge_ratio"] * f["medicaid_payment_to_cost"],
            PRIVATE: medicare * f["private_price_to_medicare"],
        }
        self.private, by_year = _cost_sharing_tables()
        # each simulated year's cost-sharing parameters (years outside the table: the nearest)
        first, last = min(by_year), max(by_year)
        self.limits_of_year = {
            year: by_year[min(max(year, first), last)] for year in set(year_of_day)
        }
        self.spent: dict[
            tuple[int, int], list[float]
        ] = {}  # (patient, year) -> [deductible, oop, part B]
        self.benefit_period_end: dict[int, int] = {}  # patient -> last inpatient discharge day
        # Per-bill work reads Python lists and numbers prepared here, not numpy scalars and
        # dictionaries of figures: a run adjudicates and settles millions of bills.
        self._payer = coverage.payer.tolist()
        self._plan = coverage.plan.tolist()
        self._design = coverage.design.tolist()
        self._income = coverage.income_ratio.tolist()
        self._self_pay_share = 1.0 - f["uninsured_discount"]
        self._private_of_year = {  # year -> per design, the private table with its limit
            year: [
                (d, c, min(oop, float(limits["aca_oop_limit"])), float(clinic), float(ed))
                for d, c, oop, clinic, ed in self.private
            ]
            for year, limits in self.limits_of_year.items()
        }
        self._medicare_of_year = {  # year -> (Part A deductible, Part B deductible)
            year: (float(limits["part_a_deductible"]), float(limits["part_b_deductible"]))
            for year, limits in self.limits_of_year.items()
        }
        self._log10_half_balance = math.log10(f["incremental_half_balance"])
        self._late: dict[int, float] = {}  # patient -> chance of paying late

    # --------------------------------------------------------------------- charges

    def gross_charge(
        self,
        condition: str,
        treatment: str,
        encounter: int,
        severity: int,
        days: int,
        through_ed: bool,
        hospital_factor: float,
        u: float,
    ) -> float:
        """The gross charge of a first encounter (``u``: a uniform draw for the tail)."""
        prices = self.prices
        if encounter == EMERGENCY:
            base = prices.items[ED_LEVELS[severity]] + prices.outpatient[treatment]
        elif encounter == OUTPATIENT:
            base = prices.items["clinic_new_visit"] + prices.outpatient[treatment]
        elif encounter == OBSERVATION:
            base = prices.items["observation_per_day"] * max(days, 1) + prices.outpatient[treatment]
        else:
            nights = max(days, 1)
            day_charge = prices.unit_day[prices.unit_of.get(condition, "medical-surgical")]
            if severity == SEVERE:
                icu = prices.items["icu_share_of_severe_days"]
                day_charge = (1 - icu) * day_charge + icu * prices.unit_day["intensive care"]
            base = day_charge * nights + prices.inpatient[treatment]
        if through_ed and encounter in (INPATIENT, OBSERVATION):
            base += prices.items["ed_before_admission"]
        return base * hospital_factor * self.tail(u)

    def follow_up_charge(self, treatment: str, hospital_factor: float, u: float) -> float:
        """An established-patient clinic visit with the follow-up's treatment."""
        prices = self.prices
        base = prices.items["clinic_follow_up_visit"] + prices.outpatient.get(treatment, 0.0)
        return base * hospital_factor * self.tail(u)

    def tail(self, u: float) -> float:
        """A log-normal factor with mean 1 at uniform ``u``."""
        sigma = self.tail_sigma
        return math.exp(sigma * normal_quantile(u) - 0.5 * sigma * sigma)

    # ---------------------------------------------------------------- adjudication

    def adjudicate(
        self,
        patient: int,
        service_day: int,
        discharge_day: int,
        total: int,
        encounter: int,
        days: int,
        hospital_factor: float,
        u_charity: float,
    ) -> Claim:
        """Split a bill between contract adjustment, charity, payer and patient, with the
        patient's cost sharing on the day of service (updates the yearly totals)."""
        spell = self.coverage.spell_on(patient, service_day)
        payer = self._payer[spell]
        plan = self._plan[spell]
        if payer == SELF_PAY:
            f = self.figures
            owed = round(total * self._self_pay_share)
            ratio = self._income[patient]
            charity = 0
            if u_charity < f["charity_application_rate"] and ratio < f["charity_discount_until"]:
                low, high = f["charity_free_below"], f["charity_discount_until"]
                share = 1.0 if ratio < low else (high - ratio) / (high - low)
                charity = round(owed * share)
            return Claim(payer, plan, total - owed, charity, 0, owed - charity)
        design = self._design[spell]
        allowed = min(total, round(total / hospital_factor * self.allowed_share[payer]))
        year = self.year_of_day[service_day]
        key = (patient, year)
        spent = self.spent.get(key)
        if spent is None:
            spent = self.spent[key] = [0.0, 0.0, 0.0]
        owed = self._cost_sharing(
            design, allowed, encounter, days, year, spent, patient, service_day
        )
        if encounter == INPATIENT and design in (ORIGINAL_MEDICARE, ORIGINAL_MEDICARE_SUPPLEMENTED):
            self.benefit_period_end[patient] = discharge_day
        owed = int(min(max(round(owed), 0), allowed))
        return Claim(payer, plan, total - allowed, 0, allowed - owed, owed)

    def _cost_sharing(
        self,
        design: int,
        allowed: float,
        encounter: int,
        days: int,
        year: int,
        spent: list[float],
        patient: int,
        service_day: int,
    ) -> float:
        if design < len(PRIVATE_DESIGNS):
            deductible, coinsurance, oop_limit, clinic_copay, ed_copay = self._private_of_year[
                year
            ][design]
            if encounter == OUTPATIENT and clinic_copay > 0:
                owed = min(clinic_copay, allowed)
            elif encounter == EMERGENCY and ed_copay > 0:
                owed = min(ed_copay, allowed)
            else:
                toward = min(allowed, max(deductible - spent[0], 0.0))
                spent[0] += toward
                owed = toward + coinsurance * (allowed - toward)
            owed = min(owed, max(oop_limit - spent[1], 0.0))
            spent[1] += owed
            return owed
        if design == ORIGINAL_MEDICARE_SUPPLEMENTED:
            return 0.0
        f = self.figures
        if design == ORIGINAL_MEDICARE:
            part_a, part_b = self._medicare_of_year[year]
            if encounter == INPATIENT:
                last = self.benefit_period_end.get(patient)
                new_period = last is None or service_day - last > f["medicare_benefit_period_days"]
                return min(part_a, allowed) if new_period else 0.0
            toward = min(allowed, max(part_b - spent[2], 0.0))
            spent[2] += toward
            return toward + f["part_b_coinsurance"] * (allowed - toward)
        if design == MEDICARE_ADVANTAGE:
            if encounter == INPATIENT:
                owed = f["ma_inpatient_copay_per_day"] * min(
                    max(days, 1), f["ma_inpatient_copay_days"]
                )
            elif encounter in (EMERGENCY, OBSERVATION):
                owed = f["ma_ed_copay"]
            else:
                owed = f["ma_clinic_copay"]
            owed = min(owed, allowed, max(f["ma_oop_limit"] - spent[1], 0.0))
            spent[1] += owed
            return owed
        if design == MEDICAID_ADULT:
            if encounter == INPATIENT:
                return f["medicaid_inpatient_copay"]
            return (
                f["medicaid_ed_copay"] if encounter == EMERGENCY else f["medicaid_outpatient_copay"]
            )
        assert design == MEDICAID_EXEMPT
        return 0.0

    # ---------------------------------------------------------------- payment

    def chooses_plan(self, balance: int, u: float) -> bool:
        """Whether the patient pays the balance in instalments rather than in full."""
        if balance <= 0:
            return False
        logit = self.figures["incremental_slope_per_decade"] * (
            math.log10(balance) - self._log10_half_balance
        )
        return u < _logistic(logit)

    def never_pays(self, claim: Claim, patient: int, collections: float, u: float) -> bool:
        """Whether a balance stays unpaid (``collections``: the hospital's factor on the odds)."""
        if claim.patient <= 0:
            return False
        f = self.figures
        logit = (
            f["unpaid_logit_intercept"]
            + f["unpaid_logit_per_decade"] * (math.log10(claim.patient) - 3.0)
            + f["unpaid_logit_per_log_income"] * math.log(self._income[patient])
            + f["unpaid_logit_self_pay"] * (claim.payer == SELF_PAY)
        )
        return u < _logistic(logit + math.log(collections))

    def pays_late(self, claim: Claim, patient: int, u: float) -> bool:
        """Whether a balance that is paid is paid after its due date."""
        if claim.patient <= 0:
            return False
        chance = self._late.get(patient)
        if chance is None:
            f = self.figures
            logit = f["late_logit_intercept"] + f["late_logit_per_log_income"] * math.log(
                self._income[patient]
            )
            chance = self._late[patient] = _logistic(logit)
        return u < chance


@functools.lru_cache(maxsize=1)
def _cost_sharing_tables() -> tuple[list[tuple], dict[int, dict[str, float]]]:
    """Private designs (deductible, coinsurance, out-of-pocket limit, clinic and ED copays)
    and the yearly Medicare deductibles and ACA out-of-pocket limit."""
    plans = read_csv("money/private_plans.csv")
    private = [
        (float(r.deductible), float(r.coinsurance), float(r.oop_limit), r.clinic_copay, r.ed_copay)
        for r in plans.itertuples(index=False)
    ]
    by_year = read_csv("money/by_year.csv").set_index("year")
    return private, {int(y): row.to_dict() for y, row in by_year.iterrows()}


@attrs.frozen
class OutOfPocketLimits:
    """The yearly out-of-pocket limits a patient's bills of one plan type stay under."""

    aca_by_year: dict[int, float]  # private plans: the ACA maximum (designs are lower)
    medicare_advantage: float


def money_limits() -> OutOfPocketLimits:
    """The out-of-pocket limits of ``money/by_year.csv`` and ``figures.csv``."""
    _, by_year = _cost_sharing_tables()
    return OutOfPocketLimits(
        aca_by_year={year: float(row["aca_oop_limit"]) for year, row in by_year.items()},
        medicare_advantage=money_figures()["ma_oop_limit"],
    )


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
