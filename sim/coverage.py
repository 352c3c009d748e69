"""Health coverage over time: who pays for a patient's care on each day.

Each patient has a family income, as a multiple of the poverty line, drawn from the ZIP's
poverty share (log-normal, CPS ASEC spread), and a sequence of coverage spells:

- **Medicare** from 65 (a small share stays uninsured), and before 65 for end-stage renal
  disease (a share of kidney-failure patients, from the fourth month after the first stay);
- **Medicaid/CHIP** for those whose income is under their group's limit (children, pregnant
  women, adults in expansion states from the state's expansion date, a few parents
  elsewhere), at the group's take-up;
- **private** plans, more likely the higher the income (employer offers);
- **self-pay** (uninsured) otherwise.

A spell ends at 19 and 65, when the state expands Medicaid, around a pregnancy (from about
its start to 12 months after the delivery), with end-stage renal disease, and at random
(job and income changes, renewals: ``churn_per_year_*``); a new draw decides the next spell
only at those random changes, so that a change of rules moves only the people it concerns.

The uninsured odds are scaled once, nationally, so that the share of uninsured residents is
the national figure (NHIS) by default or ``1 - --insured-rate`` when given; the age and
income structure of who is uninsured is kept. Each spell has a plan (a carrier's product,
``PlanCatalog``) and a cost-sharing design (``sim.revenue``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from bisect import bisect_right

import attrs
import numpy as np

from sim.calendar import add_years
from sim.refdata import NameLists, load_demography, money_figures, read_csv
from sim.rng import normal_quantiles, stream

MEDICARE, MEDICAID, PRIVATE, SELF_PAY = range(4)
PAYER_TYPES = ("Medicare", "Medicaid", "Private", "Self-pay")
# Cost-sharing designs: the private designs of money/private_plans.csv come first.
_PRIVATE_PLANS = read_csv("money/private_plans.csv")
PRIVATE_DESIGNS = tuple(_PRIVATE_PLANS["design"])
_PRIVATE_SHARES = _PRIVATE_PLANS["share"].astype(float).to_numpy()
OTHER_DESIGNS = (
    "Original Medicare",
    "Original Medicare with supplemental coverage",
    "Medicare Advantage",
    "Medicaid (adult)",
    "Medicaid (no cost sharing)",
    "Uninsured",
)
DESIGNS = PRIVATE_DESIGNS + OTHER_DESIGNS
(
    ORIGINAL_MEDICARE,
    ORIGINAL_MEDICARE_SUPPLEMENTED,
    MEDICARE_ADVANTAGE,
    MEDICAID_ADULT,
    MEDICAID_EXEMPT,
    UNINSURED,
) = range(len(PRIVATE_DESIGNS), len(DESIGNS))
# What a spell's coverage rests on (Medicare's "reason for entitlement", Medicaid's eligibility
# group): the coverage table's ``coverage_basis``.
BASES = (
    "Age 65 and over",
    "Disability",
    "End-stage renal disease",
    "Child",
    "Pregnancy",
    "Low income",
    "Employer or individual plan",
    "None",
)
AGE_65, DISABILITY, ESRD, CHILD, PREGNANCY, LOW_INCOME, PLAN, NO_BASIS = range(len(BASES))
NO_PLAN = -1
CHILD_UNTIL, MEDICARE_AGE = 19, 65
DAYS_PER_YEAR = 365.2425
NEVER = 10**9
REGIONAL_PLANS_PER_STATE = 2
MARKETS = ("Private", "Medicare Advantage", "Medicaid managed care")


@attrs.frozen
class PlanCatalog:
    """The nation's health plans: one name per product, the same list in every region."""

    names: tuple[str, ...]
    original_medicare: int
    medicaid_by_state: dict[str, int]  # fee-for-service Medicaid of each state
    # (market, state) -> (plan indices, cumulative market shares)
    offers: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]

    def pick(self, market: str, state: str, u: np.ndarray) -> np.ndarray:
        """The plan chosen with uniform draws ``u`` in a state's market, by market share."""
        plans, cumulative = self.offers[(market, state)]
        return plans[np.minimum(np.searchsorted(cumulative, u, side="right"), len(plans) - 1)]


def plan_catalog(seed: int, names: NameLists) -> PlanCatalog:
    """National carriers, each state's Blue plan and Medicaid, and regional plans whose names
    are drawn (fictional) from the insurer words of ``insurers.toml``."""
    states = load_demography().states
    carriers = read_csv("money/carriers.csv")
    by_market = {
        market: list(zip(rows["carrier"], rows["share"].astype(float)))
        for market, rows in carriers.groupby("market", sort=False)
    }
    rng = stream(seed, "nation", "insurers")
    regional_words = [
        f"{brand} {line} {form}"
        for brand in names.insurer_brands
        for line in names.insurer_lines
        for form in names.insurer_forms
        if not form.startswith(line.split()[0])
    ]
    plan_names: list[str] = ["Original Medicare"]
    index: dict[str, int] = {"Original Medicare": 0}

    def plan(name: str) -> int:
        if name not in index:
            index[name] = len(plan_names)
            plan_names.append(name)
        return index[name]

    medicaid = {s: plan(f"{n} Medicaid") for s, n in zip(states["state"], states["state_name"])}
    offers = {}
    for state, state_name in zip(states["state"], states["state_name"]):
        regional = [
            regional_words[i]
            for i in rng.choice(len(regional_words), REGIONAL_PLANS_PER_STATE, replace=False)
        ]
        for market in MARKETS:
            chosen, shares = [], []
            for carrier, share in by_market[market]:
                if carrier == "regional":
                    options = regional
                elif carrier == "Blue Cross Blue Shield":
                    options = [f"Blue Cross Blue Shield of {state_name}"]
                else:
                    options = [carrier]
                for name in options:
                    if market == "Medicare Advantage":
                        name = f"{name} Medicare Advantage"
                    elif market == "Medicaid managed care" and carrier == "regional":
                        name = f"{name} Community Plan"
                    chosen.append(plan(name))
                    shares.append(share / len(options))
            cumulative = np.cumsum(shares) / sum(shares)
            offers[(market, state)] = (np.asarray(chosen, dtype=np.int64), cumulative)
    return PlanCatalog(tuple(plan_names), 0, medicaid, offers)


@attrs.frozen
class Coverage:
    """Coverage spells of a region's patients (spells of patient i: ``offsets[i]`` up to
    ``offsets[i + 1]``, in time order; a spell lasts until the next one starts)."""

    offsets: np.ndarray
    start: np.ndarray  # first simulation day of the spell (the first spell: its patient's)
    payer: np.ndarray  # MEDICARE, MEDICAID, PRIVATE, SELF_PAY
    plan: np.ndarray  # index into PlanCatalog.names, NO_PLAN when self-pay
    design: np.ndarray  # index into DESIGNS
    basis: np.ndarray  # index into BASES
    income_ratio: np.ndarray  # per patient: family income / poverty line
    esrd_day: np.ndarray  # per patient: first day of Medicare for end-stage renal disease
    starts: list = attrs.field(eq=False, repr=False)  # ``start`` as a list, for bisect
    _bounds: list = attrs.field(init=False, eq=False, repr=False)  # ``offsets`` as a list

    @_bounds.default
    def _offsets_list(self) -> list:
        return self.offsets.tolist()

    def spell_on(self, patient: int, day: int) -> int:
        """The index of the spell that covers ``patient`` on ``day``."""
        lo = self._bounds[patient]
        return max(lo, bisect_right(self.starts, day, lo, self._bounds[patient + 1]) - 1)

    def on_day(self, day: int) -> np.ndarray:
        """Every patient's spell on ``day`` (one index per patient)."""
        patients = np.arange(len(self.offsets) - 1)
        return self.spells_on(patients, np.full(len(patients), day))

    def spells_on(self, patients: np.ndarray, days: np.ndarray) -> np.ndarray:
        """``spell_on`` for each (patient, day) pair of two arrays, at once."""
        first = self.offsets[patients]
        if not len(self.start):
            return first
        # spells sorted by (patient, start): search a key that orders both at once
        low = min(int(self.start.min()), int(np.min(days, initial=0)))
        stride = max(int(self.start.max()), int(np.max(days, initial=0))) - low + 1
        owner = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))
        keys = owner * stride + (self.start - low)
        found = np.searchsorted(keys, patients * stride + (days - low), side="right") - 1
        return np.maximum(found, first)


@attrs.frozen
class CoverageRules:
    """The figures the coverage draws use (``money/figures.csv``, ``by_year.csv``,
    ``medicaid_expansion.csv``) and the national scale of the uninsured odds."""

    figures: dict
    expansion_day: dict[str, dt.date]
    medicare_advantage_share: dict[int, float]
    uninsured_odds: float

    def probabilities(
        self,
        child: np.ndarray,
        ratio: np.ndarray,
        expanded: np.ndarray,
        pregnant: np.ndarray,
        parent: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The chances of (Medicaid, private, uninsured) for people under 65: children (under
        19) or adults, by income, whether their state has expanded Medicaid, pregnancy and
        (in non-expansion states) whether they are parents."""
        f = self.figures
        adult_limit = np.where(
            expanded,
            f["expansion_adult_income_limit"],
            np.where(parent, f["non_expansion_adult_income_limit"], 0.0),
        )
        limit = np.where(child, f["chip_income_limit"], adult_limit)
        limit = np.where(pregnant & ~child, f["pregnancy_income_limit"], limit)
        take_up = np.where(
            child | pregnant, f["medicaid_take_up_children"], f["medicaid_take_up_adults"]
        )
        medicaid = np.where(ratio < limit, take_up, 0.0)
        logit = (
            f["private_logit_intercept"]
            + f["private_logit_slope"] * np.log(ratio)
            + f["children_private_logit_shift"] * child
        )
        private = (1.0 - medicaid) / (1.0 + np.exp(-logit))
        uninsured = np.clip(1.0 - medicaid - private, 0.0, 1.0)
        scaled = _scaled(uninsured, self.uninsured_odds)
        keep = np.divide(
            1.0 - scaled, 1.0 - uninsured, out=np.ones_like(scaled), where=uninsured < 1
        )
        return medicaid * keep, private * keep, scaled

    def senior_uninsured(self) -> float:
        return float(
            _scaled(np.array([self.figures["medicare_65_uninsured"]]), self.uninsured_odds)[0]
        )


def _scaled(share: np.ndarray, odds: float) -> np.ndarray:
    """Shares whose odds are multiplied by ``odds`` (infinite odds: every share above 0
    becomes 1)."""
    share = np.asarray(share, dtype=float)
    if math.isinf(odds):
        return (share > 0).astype(float)
    return odds * share / (1.0 - share + odds * share)


@functools.lru_cache(maxsize=8)
def coverage_rules(insured_rate: float | None, today: dt.date) -> CoverageRules:
    """The rules with the uninsured odds scaled so that the national share of uninsured
    residents on ``today`` is ``1 - insured_rate`` (the NHIS figure when None)."""
    figures = money_figures()
    expansion = read_csv("money/medicaid_expansion.csv")
    by_year = read_csv("money/by_year.csv")
    rules = CoverageRules(
        figures=figures,
        expansion_day={
            s: dt.date.fromisoformat(d)
            for s, d in zip(expansion["state"], expansion["expanded_on"])
        },
        medicare_advantage_share=dict(
            zip(by_year["year"].astype(int), by_year["medicare_advantage_share"].astype(float))
        ),
        uninsured_odds=1.0,
    )
    target = figures["national_uninsured_share"] if insured_rate is None else 1.0 - insured_rate
    if target <= 0.0:
        return attrs.evolve(rules, uninsured_odds=0.0)
    if target >= 1.0:
        return attrs.evolve(rules, uninsured_odds=math.inf)
    lo, hi = -30.0, 30.0
    for _ in range(50):  # bisection on log(odds): the national share rises with the odds
        middle = 0.5 * (lo + hi)
        share = _national_uninsured(attrs.evolve(rules, uninsured_odds=math.exp(middle)), today)
        lo, hi = (middle, hi) if share < target else (lo, middle)
    return attrs.evolve(rules, uninsured_odds=math.exp(0.5 * (lo + hi)))


def _national_uninsured(rules: CoverageRules, today: dt.date) -> float:
    """The share of uninsured residents: ages by the national pyramid, incomes at the
    national poverty share of each age, states by population (expansion as of ``today``)."""
    age, ratio, age_weight, quantiles = _national_grid()
    expanded_share = _expanded_population_share(rules, today)
    under_65 = age < MEDICARE_AGE
    not_disabled = 1.0 - _disability_by_age()[age.astype(np.int64)]  # the disabled are covered
    eligible = rules.figures["non_expansion_eligible_share"]
    total = 0.0
    for expanded, weight in ((True, expanded_share), (False, 1.0 - expanded_share)):
        for parent, parent_weight in ((True, eligible), (False, 1.0 - eligible)):
            _, _, uninsured = rules.probabilities(
                age < CHILD_UNTIL,
                ratio,
                np.full(len(age), expanded),
                np.zeros(len(age), dtype=bool),
                np.full(len(age), parent),
            )
            uninsured = np.where(under_65, uninsured * not_disabled, rules.senior_uninsured())
            by_age = uninsured.reshape(len(age_weight), quantiles).mean(axis=1)
            total += weight * parent_weight * float(by_age @ age_weight)
    return total


@functools.lru_cache(maxsize=1)
def _national_grid(quantiles: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(age, income ratio) points of the nation: every single year of age of the pyramid
    (with its weight) times ``quantiles`` quantiles of that age's incomes."""
    demography = load_demography()
    ages, weights = [], []
    for lo, hi, share in zip(
        demography.age_band_from, demography.age_band_to, demography.age_band_share
    ):
        for age in range(int(lo), int(hi) + 1):
            ages.append(age + 0.5)
            weights.append(share / (hi - lo + 1))
    figures = money_figures()
    national = np.full(len(ages), figures["national_poverty_share"])
    poverty = poverty_at_age(national, np.asarray(ages))
    u = (np.arange(quantiles) + 0.5) / quantiles
    ratio = _ratio_at(np.tile(u, len(ages)), np.repeat(poverty, quantiles), figures)
    age = np.repeat(np.asarray(ages), quantiles)
    return age, ratio, np.asarray(weights) / np.sum(weights), quantiles


@functools.lru_cache(maxsize=4)
def _expanded_population_share_on(today: dt.date, days: tuple) -> float:
    from sim.geography import load_zip_table

    population = load_zip_table().state_population()
    expanded = sum(p for s, p in population.items() if dict(days).get(s, dt.date.max) <= today)
    return expanded / sum(population.values())


def _expanded_population_share(rules: CoverageRules, today: dt.date) -> float:
    return _expanded_population_share_on(today, tuple(sorted(rules.expansion_day.items())))


@functools.lru_cache(maxsize=1)
def _poverty_by_age() -> np.ndarray:
    """Per single year of age 0..120: the poverty share of that age / the national one."""
    table = read_csv("money/poverty_by_age.csv")
    relative = np.ones(121)
    national = money_figures()["national_poverty_share"]
    for lo, hi, share in table[["age_low", "age_high", "poverty_share"]].itertuples(index=False):
        relative[int(lo) : int(hi) + 1] = share / national
    return relative


def poverty_at_age(poverty: np.ndarray, age: np.ndarray) -> np.ndarray:
    """A ZIP's poverty share adjusted to a resident's age (children and young adults are
    poorer than the ZIP as a whole, CPS ASEC)."""
    years = np.clip(np.asarray(age, dtype=np.int64), 0, 120)
    return np.clip(np.asarray(poverty, dtype=float) * _poverty_by_age()[years], 0.0, 0.95)


def draw_incomes(rng: np.random.Generator, poverty: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Family income as a multiple of the poverty line for residents of ZIPs with these
    poverty shares, at these ages (log-normal; ``poverty_at_age``)."""
    return _ratio_at(rng.random(len(age)), poverty_at_age(poverty, age), money_figures())


@functools.lru_cache(maxsize=1)
def _disability_by_age() -> np.ndarray:
    """Per single year of age 0..120: the share of residents with a disability recognised by
    Social Security (SSDI or SSI; adults under 65 only)."""
    table = read_csv("money/disability.csv")
    share = np.zeros(121)
    for lo, hi, value in table[["age_low", "age_high", "share"]].itertuples(index=False):
        share[int(lo) : int(hi) + 1] = value
    return share


def draw_disability(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """Whether each resident has a disability recognised by Social Security (by age)."""
    share = _disability_by_age()[np.clip(np.asarray(age, dtype=np.int64), 0, 120)]
    return rng.random(len(share)) < share


def utilisation_factor(
    ratio: np.ndarray, age: np.ndarray, disabled: np.ndarray | None = None
) -> np.ndarray:
    """How often a resident needs a hospital against the national average of their age:
    ``ratio ** -elasticity`` for income, scaled so that its mean over the nation's incomes of
    that age is 1, times ``disability_utilisation_factor`` for the disabled (the others of
    their age a little less, so that the national rates hold; income only without
    ``disabled``)."""
    f = money_figures()
    share = _disability_by_age()[np.clip(np.asarray(age, dtype=np.int64), 0, 120)]
    k = f["disability_utilisation_factor"]
    disability = 1.0 if disabled is None else np.where(disabled, k, (1 - share * k) / (1 - share))
    gamma, sigma = f["utilisation_income_elasticity"], f["income_ratio_sigma"]
    centre = _national_log_income()[np.clip(np.asarray(age, dtype=np.int64), 0, 120)]
    return disability * np.exp(-gamma * (np.log(ratio) - centre) - 0.5 * (gamma * sigma) ** 2)


@functools.lru_cache(maxsize=1)
def _national_log_income() -> np.ndarray:
    """Per single year of age 0..120: the median log income ratio of the nation's residents
    of that age (``utilisation_factor``'s centre)."""
    f = money_figures()
    ages = np.arange(121)
    national = poverty_at_age(np.full(len(ages), f["national_poverty_share"]), ages)
    return -f["income_ratio_sigma"] * normal_quantiles(np.clip(national, 0.005, 0.995))


def _ratio_at(u: np.ndarray, poverty: np.ndarray | float, figures: dict) -> np.ndarray:
    """Income / poverty line at uniform ``u``, log-normal with P(ratio < 1) = ``poverty``."""
    sigma = figures["income_ratio_sigma"]
    z = normal_quantiles(np.atleast_1d(u))
    pov = np.clip(np.broadcast_to(np.asarray(poverty, dtype=float), z.shape), 0.005, 0.995)
    return np.exp(-sigma * normal_quantiles(pov) + sigma * z)


@functools.lru_cache(maxsize=4)
def _policy_days(start: dt.date) -> dict[str, int]:
    """The simulation days of ``money/policy_dates.csv``'s events."""
    table = read_csv("money/policy_dates.csv")
    return {
        event: (dt.date.fromisoformat(day) - start).days
        for event, day in zip(table["event"], table["date"])
    }


def _kept_on_medicaid(
    who: np.ndarray, day: np.ndarray, payer: np.ndarray, first: int, last: int
) -> np.ndarray:
    """Payers with Medicaid kept through continuous enrollment: a spell that begins between
    ``first`` and ``last`` right after a Medicaid spell stays Medicaid (unless Medicare)."""
    kept = payer.copy()
    inside = np.flatnonzero((day >= first) & (day <= last))
    for row in inside.tolist():  # in (patient, day) order: a kept spell can keep the next
        if (
            row > 0
            and who[row] == who[row - 1]
            and kept[row - 1] == MEDICAID
            and kept[row] in (PRIVATE, SELF_PAY)
        ):
            kept[row] = MEDICAID
    return kept


def _distinct_boundaries(
    who: np.ndarray, day: np.ndarray, churn: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each distinct (patient, day) boundary once, in that order, a random change when any of
    its boundaries is one."""
    order = np.lexsort((day, who))
    who, day, churn = who[order], day[order], churn[order]
    first = np.ones(len(who), dtype=bool)
    first[1:] = (who[1:] != who[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(first)
    churn = np.logical_or.reduceat(churn, starts) if len(starts) else churn
    return who[starts], day[starts], churn


def draw_coverage(
    seed: int,
    region: str,
    plans: PlanCatalog,
    rules: CoverageRules,
    *,
    start: dt.date,
    horizon: int,
    birth_day: np.ndarray,
    state: np.ndarray,
    income: np.ndarray,
    disabled: np.ndarray,
    deliveries: tuple[np.ndarray, np.ndarray],
    kidney_failure: tuple[np.ndarray, np.ndarray],
) -> Coverage:
    """Coverage spells of a region's patients over simulation days ``max(0, birth)..horizon``
    (``income``: each patient's family income / poverty line, ``draw_incomes``; ``disabled``:
    a disability recognised by Social Security, ``draw_disability``: Medicare (SSDI) or
    Medicaid (SSI) between 19 and 65).

    ``deliveries`` and ``kidney_failure`` are (patient, day) of planned deliveries and of
    planned kidney-failure encounters (a share of those patients get Medicare for end-stage
    renal disease ``esrd_waiting_days`` after the first).
    """
    f = rules.figures
    rng = stream(seed, region, "coverage")
    n = len(birth_day)
    birth_day = np.asarray(birth_day, dtype=np.int64)
    first_day = np.maximum(birth_day, 0)
    ratio = np.asarray(income, dtype=float)
    parent = rng.random(n) < f["non_expansion_eligible_share"]
    ssdi = rng.random(n) < f["disability_medicare_share"]

    esrd_day = np.full(n, NEVER, dtype=np.int64)
    who, day = kidney_failure
    if len(who):
        np.minimum.at(esrd_day, who, np.asarray(day, dtype=np.int64) + int(f["esrd_waiting_days"]))
        esrd_day[rng.random(n) >= f["esrd_share_of_kidney_failure"]] = NEVER
    pregnancy = np.full((n, 2), NEVER, dtype=np.int64), np.full((n, 2), NEVER, dtype=np.int64)
    who, day = (np.asarray(a, dtype=np.int64) for a in deliveries)
    order = np.lexsort((day, who))
    who, day = who[order], day[order]
    rank = np.arange(len(who)) - np.searchsorted(who, who)
    keep = rank < 2
    pregnancy[0][who[keep], rank[keep]] = day[keep] - int(f["pregnancy_medicaid_days_before"])
    pregnancy[1][who[keep], rank[keep]] = day[keep] + int(f["pregnancy_medicaid_days_after"])

    start_ordinal = start.toordinal()
    states, of_state = np.unique(state, return_inverse=True)
    expansion_day = np.array(
        [rules.expansion_day.get(s, dt.date.max).toordinal() - start_ordinal for s in states],
        dtype=np.int64,
    )[of_state]
    start64 = np.datetime64(start, "D")
    birthdays = [
        (add_years(start64 + birth_day, years) - start64).astype(np.int64)
        for years in (CHILD_UNTIL, MEDICARE_AGE)
    ]
    # random changes: at the adults' rate, thinned to the children's rate before 19
    years = (horizon + 1 - first_day) / DAYS_PER_YEAR
    count = rng.poisson(f["churn_per_year_adults"] * years)
    churn_who = np.repeat(np.arange(n), count)
    churn_day = first_day[churn_who] + (
        rng.random(len(churn_who)) * (horizon + 1 - first_day[churn_who])
    ).astype(np.int64)
    child = churn_day < birthdays[0][churn_who]
    thinned = rng.random(len(churn_who)) < f["churn_per_year_children"] / f["churn_per_year_adults"]
    senior = churn_day >= birthdays[1][churn_who]
    kept = (~child | thinned) & ~senior
    churn_who, churn_day = churn_who[kept], churn_day[kept]

    policy = _policy_days(start)
    ce_start, ce_end, unwinding_end = (
        policy[k]
        for k in ("continuous_enrollment_start", "continuous_enrollment_end", "unwinding_end")
    )
    # after continuous enrollment, each enrollee's renewal: who no longer qualifies leaves
    renewal = ce_end + 1 + (rng.random(n) * (unwinding_end - ce_end)).astype(np.int64)
    rule_days = [*birthdays, esrd_day, expansion_day, renewal, *pregnancy[0].T, *pregnancy[1].T]
    everyone = np.arange(n)
    boundary_who = np.concatenate([everyone, churn_who, *([everyone] * len(rule_days))])
    boundary_day = np.concatenate([first_day, churn_day, *rule_days])
    is_churn = np.concatenate(
        [np.ones(n + len(churn_who), dtype=bool), np.zeros(n * len(rule_days), dtype=bool)]
    )
    inside = (boundary_day >= first_day[boundary_who]) & (boundary_day <= horizon)
    who, day, churn = _distinct_boundaries(
        boundary_who[inside], boundary_day[inside], is_churn[inside]
    )
    epoch = np.cumsum(churn) - 1
    draws = rng.random((int(epoch[-1]) + 1 if len(epoch) else 0, 4))
    u, v, w, x = (draws[epoch, k] for k in range(4))

    child = day < birthdays[0][who]
    senior = day >= birthdays[1][who]
    disability = np.asarray(disabled, dtype=bool)[who] & ~child & ~senior
    pregnant = ((pregnancy[0][who] <= day[:, None]) & (day[:, None] < pregnancy[1][who])).any(1)
    medicaid, private, _ = rules.probabilities(
        child, ratio[who], day >= expansion_day[who], pregnant, parent[who]
    )
    payer = np.where(u < medicaid, MEDICAID, np.where(u < medicaid + private, PRIVATE, SELF_PAY))
    esrd = ~senior & (day >= esrd_day[who])
    on_medicare = (senior & (u >= rules.senior_uninsured())) | esrd | (disability & ssdi[who])
    payer = np.where(disability & ~ssdi[who], MEDICAID, payer)
    payer = np.where(on_medicare, MEDICARE, np.where(senior, SELF_PAY, payer))
    payer = _kept_on_medicaid(who, day, payer, ce_start, ce_end)
    basis = np.select(
        [
            payer == SELF_PAY,
            payer == PRIVATE,
            (payer == MEDICARE) & senior,
            (payer == MEDICARE) & esrd,
            disability,
            child,
            pregnant,
        ],
        [NO_BASIS, PLAN, AGE_65, ESRD, DISABILITY, CHILD, PREGNANCY],
        LOW_INCOME,
    )

    plan = np.full(len(day), NO_PLAN, dtype=np.int64)
    design = np.full(len(day), UNINSURED, dtype=np.int64)
    private_design = np.minimum(
        np.searchsorted(np.cumsum(_PRIVATE_SHARES) / _PRIVATE_SHARES.sum(), w, side="right"),
        len(PRIVATE_DESIGNS) - 1,
    )
    calendar_year = (start64 + day).astype("datetime64[Y]").astype(int) + 1970
    years = sorted(rules.medicare_advantage_share)
    ma_share = np.array([rules.medicare_advantage_share[y] for y in years])[
        np.clip(calendar_year - years[0], 0, len(years) - 1)
    ]
    medicare = payer == MEDICARE
    advantage = medicare & (x < ma_share)
    supplemented = w < f["original_medicare_supplemental_share"]
    plan[medicare] = plans.original_medicare
    design[medicare] = np.where(supplemented, ORIGINAL_MEDICARE_SUPPLEMENTED, ORIGINAL_MEDICARE)[
        medicare
    ]
    design[advantage] = MEDICARE_ADVANTAGE
    medicaid_rows = payer == MEDICAID
    managed = medicaid_rows & (x < f["medicaid_managed_care_share"])
    exempt = child | pregnant
    design[medicaid_rows] = np.where(exempt, MEDICAID_EXEMPT, MEDICAID_ADULT)[medicaid_rows]
    private_rows = payer == PRIVATE
    design[private_rows] = private_design[private_rows]
    states = state[who]
    for st in np.unique(states):
        here = states == st
        plan[here & medicaid_rows & ~managed] = plans.medicaid_by_state[st]
        for market, rows in (
            ("Medicare Advantage", here & advantage),
            ("Medicaid managed care", here & managed),
            ("Private", here & private_rows),
        ):
            plan[rows] = plans.pick(market, st, v[rows])

    same = np.zeros(len(day), dtype=bool)
    same[1:] = (
        (who[1:] == who[:-1])
        & (payer[1:] == payer[:-1])
        & (plan[1:] == plan[:-1])
        & (design[1:] == design[:-1])
        & (basis[1:] == basis[:-1])
    )
    keep = ~same
    who, day = who[keep], day[keep]
    offsets = np.searchsorted(who, np.arange(n + 1))
    return Coverage(
        offsets=offsets,
        start=day,
        payer=payer[keep],
        plan=plan[keep],
        design=design[keep],
        basis=basis[keep],
        income_ratio=ratio,
        esrd_day=esrd_day,
        starts=day.tolist(),
    )
