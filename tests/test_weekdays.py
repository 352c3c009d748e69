"""The week's rhythm: birthdays by the weekday pattern of US births, clinic visits booked on
weekdays (follow-ups in the week they are due, never piled onto Mondays), planned admissions
booked in the week ahead, ED visits peaking on Mondays (``demography/weekdays.csv``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.population import BIRTH_SERIES, birth_dates
from sim.processes import BOOKING_WINDOW_DAYS, booked_offset, booking_table
from sim.refdata import weekday_factors

MONDAY, FRIDAY, SATURDAY, SUNDAY = 0, 4, 5, 6


def _per_weekday(dates: pd.Series) -> np.ndarray:
    """Rows per weekday (0 = Monday) divided by their mean, over whole weeks of ``dates``."""
    counts = np.bincount(pd.to_datetime(dates).dt.day_of_week, minlength=7)
    return counts / counts.mean()


def test_birthdays_follow_the_weekday_pattern_of_births_and_keep_the_age_exact():
    rng = np.random.default_rng(4)
    ages = rng.integers(0, 95, 140_000)
    today = dt.date(2025, 6, 30)
    birth = pd.to_datetime(birth_dates(rng, ages, today))
    before_birthday = (birth.month > today.month) | (
        (birth.month == today.month) & (birth.day > today.day)
    )
    assert ((today.year - birth.year - before_birthday) == ages).all()
    pattern = _per_weekday(pd.Series(birth))
    np.testing.assert_allclose(pattern, weekday_factors(BIRTH_SERIES), atol=0.03)
    assert pattern[SUNDAY] < 0.7 < 1.1 < pattern[1]  # Tuesdays are the busiest


@settings(max_examples=40, deadline=None)
@given(
    factors=st.lists(st.floats(0.0, 3.0), min_size=7, max_size=7).filter(lambda f: sum(f) > 0.1),
    start=st.integers(0, 6),
)
def test_a_booking_window_books_each_weekday_by_its_factor(factors, start):
    # seven consecutive days hold each weekday once: uniform draws land on the weekdays in
    # proportion to their factors, never on a weekday whose factor is 0
    booking = booking_table(tuple(factors))
    u = (np.arange(7000) + 0.5) / 7000
    offsets = np.array([booked_offset(booking, start, x) for x in u])
    assert offsets.min() >= 0 and offsets.max() < BOOKING_WINDOW_DAYS
    weekday = (start + offsets) % 7
    share = np.bincount(weekday, minlength=7) / len(u)
    np.testing.assert_allclose(share, np.array(factors) / sum(factors), atol=2e-3)


@pytest.fixture(scope="module")
def visits(medium_run):
    _, tables, _ = medium_run
    return tables.visits


def test_clinic_visits_are_booked_on_weekdays_without_a_monday_pile_up(visits):
    clinic = visits[visits["encounter_type"] == "Outpatient"]
    for kind in ("Initial", "Follow-up"):  # reviews of chronic conditions, follow-ups
        pattern = _per_weekday(clinic.loc[clinic["visit_type"] == kind, "date_of_admission"])
        weekdays = pattern[MONDAY : FRIDAY + 1]
        assert pattern[SUNDAY] < 0.06 and pattern[SATURDAY] < 0.25
        assert weekdays.max() / weekdays.min() < 1.25  # a weekend's visits are not on Monday
    np.testing.assert_allclose(
        _per_weekday(clinic["date_of_admission"]), weekday_factors("clinic_visits"), atol=0.12
    )


def test_planned_admissions_spread_over_the_week_and_ed_visits_peak_on_mondays(visits):
    elective = visits[
        (visits["encounter_type"] == "Inpatient") & (visits["admission_type"] == "Elective")
    ]
    pattern = _per_weekday(elective["date_of_admission"])
    assert len(elective) > 120
    # few at weekends (HCUP: about 6%), but some: not every weekend booking moved to Monday
    assert 0.1 < pattern[SATURDAY] + pattern[SUNDAY] < 0.8
    assert pattern[MONDAY] < 2.0
    emergency = _per_weekday(
        visits.loc[visits["encounter_type"] == "Emergency", "date_of_admission"]
    )
    assert emergency[MONDAY] > emergency[1:5].mean() * 1.04


def test_the_scorecard_measures_clinic_visits_at_weekends(medium_run):
    _, tables, summary = medium_run
    row = next(r for r in summary["realism"] if r["id"] == "clinic_weekend_share")
    clinic = tables.visits[tables.visits["encounter_type"] == "Outpatient"]
    weekend = pd.to_datetime(clinic["date_of_admission"]).dt.day_of_week >= SATURDAY
    assert row["value"] == pytest.approx(100 * weekend.mean(), abs=1e-3)
    assert row["ok"] and 1.0 < row["value"] < 6.0
