"""Knobs move the data in the direction they promise (same seed, so common random numbers)."""

from __future__ import annotations

import pytest

from tests.conftest import simulate

pytestmark = pytest.mark.slow  # each direction compares two runs of a few thousand patients


def _figures(**values):
    return simulate(patients=1500, seed=21, **values)[2]["distributions"]


def test_a_higher_minor_same_day_rate_gives_more_same_day_stays():
    low = _figures(minor_same_day_rate=0.1)["same_day_rate"]
    high = _figures(minor_same_day_rate=0.8)["same_day_rate"]
    assert high["overall"] > low["overall"] + 0.05
    assert high["minor_and_chronic_first_visits"] > low["minor_and_chronic_first_visits"] + 0.5


def test_a_lower_insured_rate_gives_fewer_insured_patients_and_more_late_unpaid_bills():
    low = _figures(insured_rate=0.3)
    high = _figures(insured_rate=0.95)
    assert low["insured_rate"] < 0.4 < 0.9 < high["insured_rate"]
    paid = {name: low["payment_status"][name] for name in ("Paid", "Late-Unpaid")}
    assert low["payment_status"]["Late-Unpaid"] / sum(low["payment_status"].values()) > (
        high["payment_status"]["Late-Unpaid"] / sum(high["payment_status"].values())
    ), paid


def test_uninsured_patients_leave_more_bills_unpaid(medium_run):
    rates = medium_run[2]["distributions"]["late_unpaid_rate"]
    assert rates["uninsured"] > rates["insured"]
