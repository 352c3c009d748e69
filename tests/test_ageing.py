"""Residents grow older in the window: each encounter is drawn at the rates of the age on its
day (drawn at the highest rate of the ages lived, then thinned to the day's age)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calendar import age_on
from sim.epidemiology import TOP_AGE, load_rate_tables
from sim.illness import DIRECT_STAY, ED_ARRIVAL, Birthdays, _highest_ahead, plan_encounters
from sim.refdata import load_catalog
from sim.rng import stream

START = np.datetime64("2020-01-01")


@settings(max_examples=60, deadline=None)
@given(
    births=st.lists(st.integers(-40_000, 1_500), min_size=1, max_size=12),
    days=st.lists(st.integers(0, 1_600), min_size=12, max_size=12),
)
def test_the_age_on_a_day_is_the_calendar_age(births, days):
    birth = START + np.array(births, dtype="timedelta64[D]")
    day = np.array(days[: len(births)])
    birthdays = Birthdays.of(birth, START, 1_600)
    expected = np.clip(age_on(birth, START + day), 0, TOP_AGE)
    assert (birthdays.age_on(day) == expected).all()
    shuffled = np.arange(len(births))[::-1]
    assert (birthdays.age_on(day[shuffled], shuffled) == expected[shuffled]).all()


def test_the_highest_rate_ahead_bounds_every_age_it_covers():
    table = np.random.default_rng(3).random((2, TOP_AGE + 1))
    highest = _highest_ahead(table, 4)
    for age in range(TOP_AGE + 1):
        assert (highest[:, age] == table[:, age : age + 5].max(axis=1)).all()


def test_rates_rise_as_a_cohort_grows_older():
    # 20,000 men born on one day of 1955, followed for ten years: their stays and ED visits
    # in the last year of the window outnumber those in the first, as the rates by age do
    catalog = load_catalog()
    rates = load_rate_tables(catalog)
    count, horizon = 20_000, 3_652
    birth = np.full(count, np.datetime64("1955-06-15"))
    plan, _ = plan_encounters(
        stream(1, "ageing", "plan"),
        catalog,
        rates,
        birth=birth,
        gender=np.zeros(count, dtype=np.int64),
        start=np.datetime64(dt.date(2015, 1, 1)),
        horizon=horizon,
        min_gap=0,
        clinic_share=1.0,
    )
    acute = np.isin(plan.kind, [ED_ARRIVAL, DIRECT_STAY])
    first_year = (acute & (plan.day < 365)).sum()
    last_year = (acute & (plan.day > horizon - 365)).sum()
    assert last_year > 1.15 * first_year  # ages 68-69 against 59-60 (about 1.3 times)
