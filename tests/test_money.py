"""The revenue cycle's parts on their own: coverage over time, charges, cost sharing, payment."""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.coverage import (
    BASES,
    DESIGNS,
    MEDICAID,
    MEDICARE,
    NO_PLAN,
    PRIVATE,
    PRIVATE_DESIGNS,
    SELF_PAY,
    Coverage,
    _national_uninsured,
    coverage_rules,
    draw_coverage,
    draw_disability,
    draw_incomes,
    plan_catalog,
    utilisation_factor,
)
from sim.refdata import load_catalog, load_names, money_figures, read_csv
from sim.revenue import EMERGENCY, INPATIENT, OUTPATIENT, Claims, RevenueCycle, money_limits

START = dt.date(2023, 1, 1)
TODAY = dt.date(2025, 12, 31)
HORIZON = (TODAY - START).days


@pytest.fixture(scope="module")
def plans():
    return plan_catalog(7, load_names())


def test_the_default_gives_the_national_uninsured_share():
    rules = coverage_rules(None, TODAY)
    assert _national_uninsured(rules, TODAY) == pytest.approx(
        money_figures()["national_uninsured_share"], abs=1e-4
    )


@settings(max_examples=15, deadline=None)
@given(st.floats(0.5, 0.99))
def test_an_insured_rate_scales_the_uninsured_and_keeps_who_they_are(rate):
    rules = coverage_rules(rate, TODAY)
    assert _national_uninsured(rules, TODAY) == pytest.approx(1 - rate, abs=1e-3)
    ratio = np.array([1.5])
    child, adult = (
        rules.probabilities(np.array([c]), ratio, np.array([True]), np.array([False]),
                            np.array([False]))[2][0]
        for c in (True, False)
    )  # fmt: skip
    assert rules.senior_uninsured() < adult and child < adult


def _coverage(plans, *, ages, zip_poverty, state="CA", deliveries=None, kidney=None, disabled=None):
    n = len(ages)
    birth_day = np.array([-round(a * 365.2425) for a in ages], dtype=np.int64)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    return draw_coverage(
        11,
        "TEST",
        plans,
        coverage_rules(None, TODAY),
        start=START,
        horizon=HORIZON,
        birth_day=birth_day,
        state=np.full(n, state),
        income=draw_incomes(np.random.default_rng(5), np.full(n, zip_poverty), ages),
        disabled=np.zeros(n, dtype=bool) if disabled is None else disabled,
        deliveries=deliveries or empty,
        kidney_failure=kidney or empty,
    )


def _payers(coverage: Coverage, day: int) -> np.ndarray:
    return coverage.payer[coverage.on_day(day)]


def test_the_spells_of_many_patients_and_days_are_each_ones_spell(plans):
    coverage = _coverage(plans, ages=np.linspace(0, 90, 600), zip_poverty=0.15)
    assert (np.diff(coverage.offsets) > 1).sum() > 100  # many patients change coverage
    rng = np.random.default_rng(4)
    patients = rng.integers(0, 600, 3_000)
    days = rng.integers(-400, HORIZON + 400, 3_000)  # before the first spell and after all
    expected = [coverage.spell_on(int(p), int(d)) for p, d in zip(patients, days)]
    assert coverage.spells_on(patients, days).tolist() == expected


def test_medicare_exactly_from_65_and_never_before_without_kidney_failure(plans):
    ages = np.linspace(40, 90, 4000)
    coverage = _coverage(plans, ages=ages, zip_poverty=0.12)
    for day in (0, HORIZON // 2, HORIZON):
        payer = _payers(coverage, day)
        age_then = ages + day / 365.2425
        assert not (payer[age_then < 64.99] == MEDICARE).any()
        assert (payer[age_then >= 65.01] == MEDICARE).mean() > 0.98
    assert np.all(np.diff(coverage.offsets) >= 1)
    for i in range(len(ages)):  # spells in time order, each one different from the last
        spell = slice(coverage.offsets[i], coverage.offsets[i + 1])
        assert np.all(np.diff(coverage.start[spell]) > 0)


def test_end_stage_renal_disease_brings_medicare_before_65(plans):
    ages = np.full(3000, 50.0)
    kidney = (np.arange(3000), np.full(3000, 100))
    coverage = _coverage(plans, ages=ages, zip_poverty=0.12, kidney=kidney)
    before, after = _payers(coverage, 150), _payers(coverage, 300)
    share = money_figures()["esrd_share_of_kidney_failure"]
    assert (before == MEDICARE).mean() == 0
    assert (after == MEDICARE).mean() == pytest.approx(share, abs=0.04)
    assert set(np.flatnonzero(after == MEDICARE)) == set(np.flatnonzero(coverage.esrd_day < 300))


def test_poorer_places_have_more_medicaid_and_more_uninsured_adults(plans):
    ages = np.full(4000, 35.0)
    rich = _payers(_coverage(plans, ages=ages, zip_poverty=0.04), 500)
    poor = _payers(_coverage(plans, ages=ages, zip_poverty=0.30), 500)
    assert (poor == MEDICAID).mean() > (rich == MEDICAID).mean() + 0.15
    assert (poor == SELF_PAY).mean() > (rich == SELF_PAY).mean()
    assert (rich == PRIVATE).mean() > 0.8


def test_medicaid_expansion_covers_poor_adults(plans):
    ages = np.full(4000, 35.0)
    expanded = _payers(_coverage(plans, ages=ages, zip_poverty=0.25, state="CA"), 500)
    not_expanded = _payers(_coverage(plans, ages=ages, zip_poverty=0.25, state="TX"), 500)
    assert (expanded == MEDICAID).mean() > 2 * (not_expanded == MEDICAID).mean()
    assert (not_expanded == SELF_PAY).mean() > (expanded == SELF_PAY).mean()


def test_pregnancy_brings_medicaid_from_before_the_delivery_to_a_year_after(plans):
    n = 4000
    ages = np.full(n, 27.0)
    deliveries = (np.arange(n), np.full(n, 400))
    coverage = _coverage(plans, ages=ages, zip_poverty=0.2, state="TX", deliveries=deliveries)
    before, during, long_after = (_payers(coverage, d) for d in (20, 400, 900))
    assert (during == MEDICAID).mean() > (before == MEDICAID).mean() + 0.1
    assert (long_after == MEDICAID).mean() < (during == MEDICAID).mean() - 0.1


def test_plans_match_their_payer(plans):
    coverage = _coverage(plans, ages=np.linspace(0, 95, 3000), zip_poverty=0.15)
    names = np.array([*plans.names, ""], dtype=object)[
        np.where(coverage.plan < 0, len(plans.names), coverage.plan)
    ]
    assert (coverage.plan[coverage.payer == SELF_PAY] == NO_PLAN).all()
    assert (coverage.plan[coverage.payer != SELF_PAY] >= 0).all()
    medicare = names[coverage.payer == MEDICARE]
    assert all(n == "Original Medicare" or n.endswith("Medicare Advantage") for n in medicare)
    private = set(names[coverage.payer == PRIVATE])
    assert "Blue Cross Blue Shield of California" in private
    assert not any("Medicare" in n or "Medicaid" in n for n in private)


def _one_spell(payer: int, design: int, ratio: float = 3.0) -> Coverage:
    start = np.array([0])
    return Coverage(
        offsets=np.array([0, 1]),
        start=start,
        payer=np.array([payer]),
        plan=np.array([NO_PLAN if payer == SELF_PAY else 0]),
        design=np.array([design]),
        basis=np.array([BASES.index("None" if payer == SELF_PAY else "Low income")]),
        income_ratio=np.array([ratio]),
        esrd_day=np.array([10**9]),
        starts=start.tolist(),
    )


def _cycle(payer: int, design: int, ratio: float = 3.0) -> RevenueCycle:
    catalog = load_catalog()
    year_of_day = [(START + dt.timedelta(days=d)).year for d in range(HORIZON + 1)]
    return RevenueCycle(
        _one_spell(payer, design, ratio),
        year_of_day,
        [c.name for c in catalog.conditions],
        catalog.treatments,
    )


def _claims(cycle: RevenueCycle, *bills: tuple, u_charity: float = 0.5) -> list[tuple]:
    """Adjudicate one patient's ``bills`` (service day, discharge day, total, encounter, days),
    in order; each claim as (payer, plan, adjustment, charity, insurance, patient)."""
    service, discharge, total, encounter, days = (np.array(c) for c in zip(*bills))
    n = len(bills)
    claims = cycle.adjudicate(
        np.zeros(n, dtype=np.int64), service, discharge, total, encounter, days, np.ones(n),
        np.full(n, u_charity),
    )  # fmt: skip
    fields = (claims.payer, claims.plan, claims.adjustment, claims.charity, claims.insurance,
              claims.patient)  # fmt: skip
    return [tuple(int(f[i]) for f in fields) for i in range(n)]


ADJUSTMENT, CHARITY, INSURANCE, PATIENT = 2, 3, 4, 5


def test_claims_add_up_and_a_second_stay_in_the_year_costs_the_patient_less():
    hdhp = PRIVATE_DESIGNS.index("HDHP")
    first, second, next_year = _claims(
        _cycle(PRIVATE, hdhp),
        (10, 15, 60_000, INPATIENT, 5),
        (100, 105, 60_000, INPATIENT, 5),
        (400, 405, 60_000, INPATIENT, 5),
    )
    for claim in (first, second, next_year):
        assert sum(claim[ADJUSTMENT:]) == 60_000
        assert claim[CHARITY] == 0 and claim[0] == PRIVATE
    assert second[PATIENT] < first[PATIENT]
    assert next_year[PATIENT] == first[PATIENT]  # the deductible starts again in January


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(range(len(PRIVATE_DESIGNS))),
    st.lists(st.tuples(st.integers(87, 400_000), st.sampled_from([EMERGENCY, INPATIENT,
                                                                  OUTPATIENT])),
             min_size=1, max_size=30),
)  # fmt: skip
def test_private_out_of_pocket_never_passes_the_yearly_limit(design, bills):
    claims = _claims(
        _cycle(PRIVATE, design),
        *((5 + i, 6 + i, total, encounter, 1) for i, (total, encounter) in enumerate(bills)),
    )
    assert sum(claim[PATIENT] for claim in claims) <= money_limits().aca_by_year[START.year]
    assert all(sum(claim[ADJUSTMENT:]) == total for claim, (total, _) in zip(claims, bills))


def test_a_private_plan_runs_its_deductible_coinsurance_and_limit_in_order():
    hdhp = PRIVATE_DESIGNS.index("HDHP")
    plan = read_csv("money/private_plans.csv").set_index("design").loc["HDHP"]
    stays = [(5 + i, 6 + i, 9_000, INPATIENT, 1) for i in range(5)]
    spent = paid = 0.0
    for claim in _claims(_cycle(PRIVATE, hdhp), *stays):
        allowed = 9_000 - claim[ADJUSTMENT]
        toward = min(allowed, max(plan["deductible"] - spent, 0.0))
        spent += toward
        owed = min(toward + plan["coinsurance"] * (allowed - toward), plan["oop_limit"] - paid)
        paid += owed
        assert claim[PATIENT] == round(owed)
    assert spent == plan["deductible"] and paid == plan["oop_limit"]  # both reached


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 700), st.integers(87, 90_000),
                          st.sampled_from([EMERGENCY, INPATIENT, OUTPATIENT])),
                min_size=1, max_size=40))  # fmt: skip
def test_patients_claims_adjudicated_together_are_each_ones_claims_alone(bills):
    """The yearly totals run per patient: interleaving patients' claims changes nothing."""
    designs = (PRIVATE_DESIGNS.index("PPO"), DESIGNS.index("Original Medicare"),
               DESIGNS.index("Medicare Advantage"))  # fmt: skip
    payers = (PRIVATE, MEDICARE, MEDICARE)
    spells = [_one_spell(p, d) for p, d in zip(payers, designs)]
    three = attrs.evolve(
        spells[0],
        offsets=np.arange(4),
        start=np.zeros(3, dtype=np.int64),
        payer=np.array(payers),
        plan=np.zeros(3, dtype=np.int64),
        design=np.array(designs),
        basis=np.zeros(3, dtype=np.int64),
        income_ratio=np.full(3, 3.0),
        esrd_day=np.full(3, 10**9),
        starts=[0, 0, 0],
    )
    catalog = load_catalog()
    year_of_day = [(START + dt.timedelta(days=d)).year for d in range(HORIZON + 1)]
    together = RevenueCycle(
        three, year_of_day, [c.name for c in catalog.conditions], catalog.treatments
    )
    patient, day, total, encounter = (np.array(c) for c in zip(*bills))
    days = np.where(encounter == INPATIENT, 3, 0)
    claims = together.adjudicate(
        patient, day, day + days, total, encounter, days, np.ones(len(bills)),
        np.full(len(bills), 0.5),
    )  # fmt: skip
    for who in range(3):
        mine = patient == who
        if mine.any():
            alone = _claims(
                _cycle(payers[who], designs[who]),
                *zip(day[mine], (day + days)[mine], total[mine], encounter[mine], days[mine]),
            )
            assert [c[PATIENT] for c in alone] == claims.patient[mine].tolist()


def test_original_medicare_charges_the_part_a_deductible_once_per_benefit_period():
    original = DESIGNS.index("Original Medicare")
    first, readmitted, much_later = _claims(
        _cycle(MEDICARE, original),
        (10, 15, 50_000, INPATIENT, 5),
        (30, 33, 50_000, INPATIENT, 3),
        (200, 203, 50_000, INPATIENT, 3),
    )
    assert first[PATIENT] > 0 and readmitted[PATIENT] == 0
    assert much_later[PATIENT] == first[PATIENT]


def test_self_pay_patients_get_the_discount_and_charity_by_income():
    uninsured = DESIGNS.index("Uninsured")
    figures = money_figures()
    stay = (10, 12, 10_000, INPATIENT, 2)
    applies = 0.0  # a uniform draw under the application rate
    claims = [
        _claims(_cycle(SELF_PAY, uninsured, ratio), stay, u_charity=applies)[0]
        for ratio in (1.2, 3.0, 6.0)
    ]
    discounted = round(10_000 * (1 - figures["uninsured_discount"]))
    assert all(c[ADJUSTMENT] == 10_000 - discounted and c[INSURANCE] == 0 for c in claims)
    assert claims[0][PATIENT] == 0 and claims[0][CHARITY] == discounted
    assert 0 < claims[1][CHARITY] < discounted
    assert claims[2][CHARITY] == 0 and claims[2][PATIENT] == discounted
    (no_application,) = _claims(_cycle(SELF_PAY, uninsured, 1.2), stay, u_charity=0.99)
    assert no_application[CHARITY] == 0


def test_larger_balances_go_on_plans_and_self_pay_balances_go_unpaid_more_often():
    uninsured, ppo = DESIGNS.index("Uninsured"), PRIVATE_DESIGNS.index("PPO")
    self_pay, insured = _cycle(SELF_PAY, uninsured, 1.5), _cycle(PRIVATE, ppo, 1.5)
    u = np.linspace(0.001, 0.999, 999)
    assert insured.chooses_plan(np.full(999, 200), u).sum() < (
        insured.chooses_plan(np.full(999, 8_000), u).sum()
    )
    zero, balance = np.zeros(999, dtype=np.int64), np.full(999, 2_000)

    def claims(payer: int) -> Claims:  # the same balance
        return Claims(np.full(999, payer), zero, zero, zero, zero, balance)

    unpaid_self = self_pay.never_pays(claims(SELF_PAY), zero, np.ones(999), u).sum()
    unpaid_insured = insured.never_pays(claims(PRIVATE), zero, np.ones(999), u).sum()
    assert unpaid_self > 2 * unpaid_insured


def test_disabled_adults_have_medicare_or_medicaid_before_65(plans):
    n = 4000
    coverage = _coverage(
        plans, ages=np.full(n, 45.0), zip_poverty=0.12, disabled=np.ones(n, dtype=bool)
    )
    payer = _payers(coverage, 300)
    share = money_figures()["disability_medicare_share"]
    assert (payer == MEDICARE).mean() == pytest.approx(share, abs=0.03)
    assert ((payer == MEDICARE) | (payer == MEDICAID)).all()
    assert (coverage.basis[coverage.on_day(300)] == BASES.index("Disability")).all()


def test_poorer_and_disabled_residents_need_a_hospital_more_often_at_the_national_rate():
    rng = np.random.default_rng(3)
    age = np.full(300_000, 50.0)
    income = draw_incomes(rng, np.full(len(age), money_figures()["national_poverty_share"]), age)
    disabled = draw_disability(rng, age)
    factor = utilisation_factor(income, age, disabled)
    assert factor.mean() == pytest.approx(1.0, abs=0.02)
    assert factor[income < 1].mean() > 1.5 * factor[income >= 4].mean()
    assert factor[disabled].mean() > 2.5 * factor[~disabled].mean()
