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
import itertools
import math
from collections.abc import Iterator, Sequence

import attrs
import numpy as np

from sim.coverage import (
    MEDICAID,
    MEDICAID_ADULT,
    MEDICARE,
    MEDICARE_ADVANTAGE,
    ORIGINAL_MEDICARE,
    ORIGINAL_MEDICARE_SUPPLEMENTED,
    PAYER_TYPES,
    PRIVATE,
    PRIVATE_DESIGNS,
    SELF_PAY,
    Coverage,
)
from sim.refdata import money_figures, read_csv
from sim.rng import normal_quantiles

EMERGENCY, INPATIENT, OBSERVATION, OUTPATIENT = range(4)  # sim.events.ENCOUNTER_TYPES
SEVERE = 3
ORIGINAL_MEDICARES = (ORIGINAL_MEDICARE, ORIGINAL_MEDICARE_SUPPLEMENTED)


@attrs.frozen
class Claims:
    """How bills' total charges split, one entry per bill in each array: total = adjustment +
    charity + insurance + patient."""

    payer: np.ndarray
    plan: np.ndarray
    adjustment: np.ndarray
    charity: np.ndarray
    insurance: np.ndarray
    patient: np.ndarray


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
    """Prices, adjudicates and settles a region's encounters, a whole batch at a time.

    Every method takes arrays, one entry per encounter. ``adjudicate`` runs each patient's
    yearly deductible and out-of-pocket totals, and Medicare benefit periods, through the
    claims in the order given: the order the encounters ended in.
    """

    def __init__(
        self,
        coverage: Coverage,
        year_of_day: Sequence[int],
        conditions: Sequence[str],
        treatments: Sequence[str],
    ) -> None:
        self.coverage = coverage
        prices = self.prices = load_price_list()
        f = self.figures = money_figures()
        self.tail_sigma = f["charge_tail_sigma"]
        # prices by treatment code (NaN: none in the price list) and by condition code
        self._outpatient = np.array([prices.outpatient.get(t, np.nan) for t in treatments])
        self._inpatient = np.array([prices.inpatient.get(t, np.nan) for t in treatments])
        unit_day = np.array(
            [prices.unit_day[prices.unit_of.get(c, "medical-surgical")] for c in conditions]
        )
        icu = prices.items["icu_share_of_severe_days"]
        # a day's charge by (Severe?, condition): intensive care for part of a Severe stay
        self._day_charge = np.stack(
            [unit_day, (1 - icu) * unit_day + icu * prices.unit_day["intensive care"]]
        )
        self._ed_level = np.array([prices.items[level] for level in ED_LEVELS])
        medicare = f["cost_to_charge_ratio"] * f["medicare_payment_to_cost"]
        self._allowed_share = np.zeros(len(PAYER_TYPES))
        self._allowed_share[[MEDICARE, MEDICAID, PRIVATE]] = (
            medicare,
            f["cost_to_charge_ratio"] * f["medicaid_payment_to_cost"],
            medicare * f["private_price_to_medicare"],
        )
        private, by_year = _cost_sharing_tables()
        # each simulated day's row of the yearly tables (years outside them: the nearest)
        first, last = min(by_year), max(by_year)
        self._year_row = np.clip(np.asarray(year_of_day), first, last) - first
        yearly = [by_year[year] for year in range(first, last + 1)]
        self._part_a = np.array([float(y["part_a_deductible"]) for y in yearly])
        self._part_b = np.array([float(y["part_b_deductible"]) for y in yearly])
        # the private designs' figures by design; their out-of-pocket limits by (year row,
        # design), each capped by the year's ACA maximum
        deductible, coinsurance, oop, clinic, ed = (
            np.array(column, dtype=float) for column in zip(*private)
        )
        self._deductible, self._coinsurance = deductible, coinsurance
        self._clinic_copay, self._ed_copay = clinic, ed
        aca = np.array([float(y["aca_oop_limit"]) for y in yearly])
        self._oop_limit = np.minimum(oop[None, :], aca[:, None])
        self._log10_half_balance = math.log10(f["incremental_half_balance"])

    # --------------------------------------------------------------------- charges

    def first_charges(
        self,
        condition: np.ndarray,
        treatment: np.ndarray,
        encounter: np.ndarray,
        severity: np.ndarray,
        days: np.ndarray,
        through_ed: np.ndarray,
        hospital_factor: np.ndarray,
        u: np.ndarray,
    ) -> np.ndarray:
        """The gross charges of episodes' first encounters (``u``: uniform draws for the
        tail): a stay by its unit's days and its treatment, an observation stay by the day,
        an ED visit by acuity, a clinic visit as a new visit; the ED's own charge on top of a
        stay begun there."""
        items = self.prices.items
        outpatient = self._outpatient[treatment]
        nights = np.maximum(days, 1)
        base = np.select(
            [encounter == EMERGENCY, encounter == OUTPATIENT, encounter == OBSERVATION],
            [
                self._ed_level[severity] + outpatient,
                items["clinic_new_visit"] + outpatient,
                items["observation_per_day"] * nights + outpatient,
            ],
            self._day_charge[(severity == SEVERE).astype(np.intp), condition] * nights
            + self._inpatient[treatment],
        )
        in_bed = (encounter == INPATIENT) | (encounter == OBSERVATION)
        base = base + np.where(through_ed & in_bed, items["ed_before_admission"], 0.0)
        if np.isnan(base).any():
            raise ValueError("a treatment given has no charge in money/treatment_charges.csv")
        return base * hospital_factor * self.tail(u)

    def follow_up_charges(
        self, treatment: np.ndarray, hospital_factor: np.ndarray, u: np.ndarray
    ) -> np.ndarray:
        """Established-patient clinic visits with the follow-ups' treatments."""
        treatment_charge = np.nan_to_num(self._outpatient[treatment])
        base = self.prices.items["clinic_follow_up_visit"] + treatment_charge
        return base * hospital_factor * self.tail(u)

    def tail(self, u: np.ndarray) -> np.ndarray:
        """Log-normal factors with mean 1 at uniform draws ``u``."""
        sigma = self.tail_sigma
        return np.exp(sigma * normal_quantiles(u) - 0.5 * sigma * sigma)

    # ---------------------------------------------------------------- adjudication

    def adjudicate(
        self,
        patient: np.ndarray,
        service_day: np.ndarray,
        discharge_day: np.ndarray,
        total: np.ndarray,
        encounter: np.ndarray,
        days: np.ndarray,
        hospital_factor: np.ndarray,
        u_charity: np.ndarray,
    ) -> Claims:
        """Split bills between contract adjustment, charity, payer and patient, with each
        patient's cost sharing by the coverage on the day of service."""
        coverage = self.coverage
        spell = coverage.spells_on(patient, service_day)
        payer, plan, design = coverage.payer[spell], coverage.plan[spell], coverage.design[spell]
        total = np.asarray(total, dtype=np.int64)
        self_pay = payer == SELF_PAY
        # self-pay: the uninsured discount, then charity care by income for those who apply
        f = self.figures
        ratio = coverage.income_ratio[patient]
        discounted = np.round(total * (1.0 - f["uninsured_discount"])).astype(np.int64)
        low, high = f["charity_free_below"], f["charity_discount_until"]
        applies = self_pay & (u_charity < f["charity_application_rate"]) & (ratio < high)
        forgiven = np.where(ratio < low, 1.0, (high - ratio) / (high - low))
        charity = np.where(applies, np.round(discounted * forgiven), 0).astype(np.int64)
        # insured: the contract's allowed amount, of which the patient owes the cost sharing
        allowed = np.minimum(
            total, np.round(total / hospital_factor * self._allowed_share[payer]).astype(np.int64)
        )
        owed = self._cost_sharing(
            patient, design, allowed, encounter, days, service_day, discharge_day
        )
        owed = np.minimum(np.maximum(np.round(owed), 0), allowed).astype(np.int64)
        return Claims(
            payer=payer,
            plan=plan,
            adjustment=np.where(self_pay, total - discounted, total - allowed),
            charity=charity,
            insurance=np.where(self_pay, 0, allowed - owed),
            patient=np.where(self_pay, discounted - charity, owed),
        )

    def _cost_sharing(
        self,
        patient: np.ndarray,
        design: np.ndarray,
        allowed: np.ndarray,
        encounter: np.ndarray,
        days: np.ndarray,
        service_day: np.ndarray,
        discharge_day: np.ndarray,
    ) -> np.ndarray:
        """What each insured patient owes of the allowed amount (self-pay rows: unused)."""
        f = self.figures
        year = self._year_row[service_day]
        inpatient = encounter == INPATIENT
        owed = np.zeros(len(allowed))
        medicaid = design == MEDICAID_ADULT
        owed[medicaid] = np.select(
            [inpatient[medicaid], encounter[medicaid] == EMERGENCY],
            [f["medicaid_inpatient_copay"], f["medicaid_ed_copay"]],
            f["medicaid_outpatient_copay"],
        )
        # Original Medicare's Part A deductible: once per benefit period, which a stay more
        # than the period's days after the last one (with or without a supplement) begins
        stays = np.flatnonzero(inpatient & np.isin(design, ORIGINAL_MEDICARES))
        by_patient = stays[np.argsort(patient[stays], kind="stable")]
        previous = np.full(len(by_patient), -1)
        same = patient[by_patient[1:]] == patient[by_patient[:-1]]
        previous[1:][same] = by_patient[:-1][same]
        new_period = (previous < 0) | (
            service_day[by_patient] - discharge_day[previous] > f["medicare_benefit_period_days"]
        )
        part_a = by_patient[(design[by_patient] == ORIGINAL_MEDICARE) & new_period]
        owed[part_a] = np.minimum(self._part_a[year[part_a]], allowed[part_a])
        # the rest runs totals per patient and year: deductibles and out-of-pocket limits
        running = (design < len(PRIVATE_DESIGNS)) | (design == MEDICARE_ADVANTAGE)
        running |= (design == ORIGINAL_MEDICARE) & ~inpatient
        rows = np.flatnonzero(running)
        _, group = np.unique(patient[rows] * len(self._part_a) + year[rows], return_inverse=True)
        totals = _YearlyTotals(group.max(initial=-1) + 1)
        for rank_rows, rank_groups in _by_rank(rows, group):
            owed[rank_rows] = self._running_cost_sharing(
                design[rank_rows],
                allowed[rank_rows],
                encounter[rank_rows],
                days[rank_rows],
                year[rank_rows],
                totals,
                rank_groups,
            )
        return owed

    def _running_cost_sharing(
        self,
        design: np.ndarray,
        allowed: np.ndarray,
        encounter: np.ndarray,
        days: np.ndarray,
        year: np.ndarray,
        totals: _YearlyTotals,
        group: np.ndarray,
    ) -> np.ndarray:
        """Cost sharing of claims that move a yearly total, at most one per (patient, year)
        ``group``, and the totals moved on (private designs, Medicare Advantage, Original
        Medicare's Part B)."""
        f = self.figures
        private = design < len(PRIVATE_DESIGNS)
        plan = np.where(private, design, 0)
        clinic_copay = self._clinic_copay[plan]
        ed_copay = self._ed_copay[plan]
        copay = private & (
            ((encounter == OUTPATIENT) & (clinic_copay > 0))
            | ((encounter == EMERGENCY) & (ed_copay > 0))
        )
        # private deductible, then coinsurance; or the visit's copay
        deductible = np.where(private & ~copay, self._deductible[plan], 0.0)
        toward = np.minimum(allowed, np.maximum(deductible - totals.deductible[group], 0.0))
        totals.deductible[group] += toward
        owed = np.where(
            copay,
            np.minimum(np.where(encounter == OUTPATIENT, clinic_copay, ed_copay), allowed),
            toward + self._coinsurance[plan] * (allowed - toward),
        )
        # Original Medicare outside a stay: the Part B deductible, then its coinsurance
        part_b = design == ORIGINAL_MEDICARE
        toward = np.minimum(
            allowed, np.maximum(np.where(part_b, self._part_b[year], 0.0) - totals.part_b[group], 0)
        )
        totals.part_b[group] += toward
        owed = np.where(part_b, toward + f["part_b_coinsurance"] * (allowed - toward), owed)
        # Medicare Advantage copays: per day of a stay (for the first days), ED, clinic
        advantage = design == MEDICARE_ADVANTAGE
        advantage_copay = np.select(
            [encounter == INPATIENT, (encounter == EMERGENCY) | (encounter == OBSERVATION)],
            [
                f["ma_inpatient_copay_per_day"]
                * np.minimum(np.maximum(days, 1), f["ma_inpatient_copay_days"]),
                f["ma_ed_copay"],
            ],
            f["ma_clinic_copay"],
        )
        owed = np.where(advantage, np.minimum(advantage_copay, allowed), owed)
        # the yearly out-of-pocket limit (private designs and Medicare Advantage)
        limit = np.where(private, self._oop_limit[year, plan], f["ma_oop_limit"])
        capped = ~part_b
        owed = np.where(
            capped, np.minimum(owed, np.maximum(limit - totals.out_of_pocket[group], 0.0)), owed
        )
        totals.out_of_pocket[group] += np.where(capped, owed, 0.0)
        return owed

    # ---------------------------------------------------------------- payment

    def chooses_plan(self, balance: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Whether each patient pays the balance in instalments rather than in full."""
        positive = balance > 0
        logit = self.figures["incremental_slope_per_decade"] * (
            np.log10(np.where(positive, balance, 1)) - self._log10_half_balance
        )
        return positive & (u < _logistic(logit))

    def never_pays(
        self, claims: Claims, patient: np.ndarray, collections: np.ndarray, u: np.ndarray
    ) -> np.ndarray:
        """Whether each balance stays unpaid (``collections``: the hospital's factor on the
        odds)."""
        owes = claims.patient > 0
        f = self.figures
        logit = (
            f["unpaid_logit_intercept"]
            + f["unpaid_logit_per_decade"] * (np.log10(np.where(owes, claims.patient, 1)) - 3.0)
            + f["unpaid_logit_per_log_income"] * np.log(self.coverage.income_ratio[patient])
            + f["unpaid_logit_self_pay"] * (claims.payer == SELF_PAY)
        )
        return owes & (u < _logistic(logit + np.log(collections)))

    def pays_late(self, claims: Claims, patient: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Whether each balance that is paid is paid after its due date."""
        f = self.figures
        logit = f["late_logit_intercept"] + f["late_logit_per_log_income"] * np.log(
            self.coverage.income_ratio[patient]
        )
        return (claims.patient > 0) & (u < _logistic(logit))


@attrs.define
class _YearlyTotals:
    """What each (patient, year) group has paid so far toward its deductibles and its
    out-of-pocket limit."""

    groups: int
    deductible: np.ndarray = attrs.field(init=False)
    part_b: np.ndarray = attrs.field(init=False)
    out_of_pocket: np.ndarray = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.deductible = np.zeros(self.groups)
        self.part_b = np.zeros(self.groups)
        self.out_of_pocket = np.zeros(self.groups)


def _by_rank(rows: np.ndarray, group: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``rows`` (in order) in rounds: each group's first row, then each group's second, ...
    A round holds a group at most once, so a round's claims can move their totals at once."""
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(sizes.max(initial=0) + 1))
    for lo, hi in itertools.pairwise(bounds):
        chosen = order[by_rank[lo:hi]]
        yield rows[chosen], group[chosen]


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


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
